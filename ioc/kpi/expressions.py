"""Arithmetic over other KPIs for derived KPIs: `a / b * 100`, parsed with `ast`, never `eval`.

Allowed: numbers, KPI ids, + - * /, unary minus, parentheses. A missing operand or a division by zero
gives None ("no data"), never 0.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class ExpressionError(ValueError):
    pass


def parse(expression: str) -> ast.expr:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {expression!r}: {exc.msg}") from exc
    _validate(tree.body)
    return tree.body


def _validate(node: ast.AST) -> None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
        _validate(node.left)
        _validate(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _validate(node.operand)
    elif (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ) or isinstance(node, ast.Name):
        return
    else:
        raise ExpressionError(f"only numbers, KPI ids and + - * / are allowed, found {ast.unparse(node)!r}")


def names(expression: str) -> set[str]:
    """The KPI ids an expression refers to."""
    return {node.id for node in ast.walk(parse(expression)) if isinstance(node, ast.Name)}


def evaluate(expression: str, values: Mapping[str, float | None]) -> float | None:
    return _evaluate(parse(expression), values)


def _evaluate(node: ast.expr, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
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
