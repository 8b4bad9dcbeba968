"""YAML for hand-edited files: PyYAML's safe loader, minus its silent surprises.

* A key given twice in one mapping is an error (PyYAML keeps the last one silently).
* A key YAML 1.1 reads as a boolean (`on:`, `off:`, `yes:`, `no:`, `true:`, `false:`) is an error that
  says so: `on: …` becomes the key `True`, never the text "on".
* An impossible date (`2026-02-30`) stays text, so the schema's validation names its key path
  (PyYAML raises a bare ValueError from `datetime.date`).

Errors are :class:`YamlError` with the line and the key path (`sources.igate.options.on`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

BOOL_TAG = "tag:yaml.org,2002:bool"
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlError(ValueError):
    """The text is not acceptable YAML; the message names the line and, when known, the key path."""


class StrictSafeLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` whose impossible timestamps stay strings (the schema then reports them)."""

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


StrictSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictSafeLoader.construct_yaml_timestamp)


def _path(location: tuple[Any, ...], key: Any = None) -> str:
    parts = [*location, key] if key is not None else list(location)
    return ".".join(str(p) for p in parts) or "(top level)"


def _check(node: Node, location: tuple[Any, ...]) -> None:
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _check(item, (*location, index))
    elif isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            line = key_node.start_mark.line + 1
            if isinstance(key_node, ScalarNode):
                key = key_node.value
                if key_node.tag == BOOL_TAG:
                    raise YamlError(
                        f"line {line}: key {_path(location, key)}: YAML reads the unquoted key "
                        f"{key!r} as a boolean, not as text; quote it ('{key}':)"
                    )
                if key in seen:
                    raise YamlError(
                        f"line {line}: key {_path(location, key)} is given twice "
                        f"(first on line {seen[key]}); keep one"
                    )
                seen[key] = line
                _check(value_node, (*location, key))
            else:
                _check(value_node, (*location, f"<key on line {line}>"))


def load_yaml(text: str) -> Any:
    """Parse one YAML document strictly (see the module docstring); `YamlError` on a problem."""
    loader = StrictSafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1} " if mark else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise YamlError(f"{where}is not valid YAML ({problem})") from None
        if node is None:
            return None
        _check(node, ())
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1} " if mark else ""
            raise YamlError(f"{where}is not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise YamlError(f"a value YAML cannot read ({type(exc).__name__}: {exc})") from None
    finally:
        loader.dispose()
