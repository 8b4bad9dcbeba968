"""Arithmetic over other KPIs for derived KPIs: `a / b * 100`, parsed with `ast`, never `eval`.

Allowed: numbers, KPI ids, + - * /, unary minus, parentheses. A missing operand or a division by zero
gives None ("no data"), never 0.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class ExpressionError(ValueError):
    pass


#: Limits that keep a definition readable and its evaluation well inside Python's recursion limit.
MAX_LENGTH = 1000
MAX_DEPTH = 50


def _shown(expression: str) -> str:
    return repr(expression if len(expression) <= 60 else expression[:57] + "...")


def parse(expression: str) -> ast.expr:
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"expression too long ({len(expression)} characters, at most {MAX_LENGTH})")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {_shown(expression)}: {exc.msg}") from exc
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression nested too deeply (at most {MAX_DEPTH} levels)") from None
    _validate(tree.body)
    return tree.body


def _validate(root: ast.AST) -> None:
    """Only numbers, names and + - * / (unary - +), at most MAX_DEPTH levels; iterative, so a
    pathological expression gives an ExpressionError, never a RecursionError."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply (at most {MAX_DEPTH} levels)")
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            stack.append((node.operand, depth + 1))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
            and math.isfinite(node.value)
        ) or isinstance(node, ast.Name):
            continue
        else:
            found = _shown(ast.unparse(node))
            raise ExpressionError(f"only numbers, KPI ids and + - * / are allowed, found {found}")


def names(expression: str) -> set[str]:
    """The KPI ids an expression refers to."""
    return {node.id for node in ast.walk(parse(expression)) if isinstance(node, ast.Name)}


def evaluate(expression: str, values: Mapping[str, float | None]) -> float | None:
    return _evaluate(parse(expression), values)


def _evaluate(node: ast.expr, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)
        return float(node.value)
    if isinstance(node, ast.Name):
        value = values.get(node.id)
        return None if value is None else float(value)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        if operand is None:
            return None
        return -operand if isinstance(node.op, ast.USub) else operand
    assert isinstance(node, ast.BinOp)
    left = _evaluate(node.left, values)
    right = _evaluate(node.right, values)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    if right == 0:
        return None
    return left / right
