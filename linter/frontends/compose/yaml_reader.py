"""Reading YAML the way docker compose v2 does, safely, keeping every value's position.

PyYAML composes the node graph (with its marks); this module builds the values
itself instead of PyYAML's constructor, for three reasons:

- positions: every value is a YNode with its line and column, so a finding points
  at the port entry that caused it;
- YAML 1.2 scalars: Compose uses a YAML 1.2 parser, where ``22:22`` is the string
  "22:22". PyYAML follows YAML 1.1 and reads it as the base-60 integer 1342. Plain
  scalars are resolved here with the YAML 1.2 core schema, and a node that YAML 1.1
  would have read as a base-60 number is flagged (``base60``) so the front end can
  say so;
- limits: nesting deeper than MAX_DEPTH is refused while composing (no deep
  recursion), and the size the document would have once every alias is expanded is
  computed on the node graph without expanding it (a "billion laughs" file is
  refused in microseconds, not after filling the memory). Aliases stay shared: a
  node reached through ten aliases is built once.

Custom tags (Compose's ``!reset`` and ``!override``) are kept in ``YNode.tag``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_DEPTH = 64
MAX_EXPANDED = 100_000  # nodes once aliases are expanded, beyond what the text itself holds
MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML11_NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$")


@dataclass(eq=False, slots=True)
class YNode:
    """One YAML value and where it is. Mappings hold YNodes by key, sequences a list of YNodes."""

    kind: str  # "map", "seq" or "scalar"
    value: object
    line: int
    column: int
    end_line: int
    end_column: int
    tag: str = ""
    raw: str | None = None  # a scalar's text, quotes and escapes already read
    plain: bool = False  # an unquoted scalar
    base60: bool = False  # YAML 1.1 would read this plain scalar as a base-60 number
    keys: dict = field(default_factory=dict)  # mapping: key -> the key's own YNode

    def get(self, key: str) -> "YNode | None":
        if self.kind != "map":
            return None
        return self.value.get(key)

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.value is None


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """Why the document could not be read (or only partly): code, message, 1-based position."""

    code: str  # PL010 (syntax) or PL042 (limits)
    message: str
    line: int
    column: int


class _TooDeep(Exception):
    def __init__(self, mark):
        super().__init__("nesting too deep")
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """PyYAML's safe composer, with a depth limit while composing."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def resolve_plain(text: str):
    """A plain scalar's value under the YAML 1.2 core schema."""
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if len(text) > 64:
        return text  # no port or setting is that long a number; keeps int() away from huge digit strings
    if _INT10.match(text):
        return int(text)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _SPECIAL_FLOAT.match(text):
        return float(text.replace(".", "").lower())
    return text


def _expansion(root) -> tuple[int, int, str | None]:
    """(distinct nodes, nodes once every alias is expanded, cycle message or None), without expanding."""
    size: dict[int, int] = {}
    distinct = 0
    on_stack: set[int] = set()
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_stack.discard(key)
            total = 1
            for child in _children(node):
                total += size[id(child)]
                if total > 10 * MAX_EXPANDED:
                    total = 10 * MAX_EXPANDED + 1  # enough to refuse; keeps the numbers small
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_stack:
            return distinct, 0, f"an alias refers to a node that contains it (line {node.start_mark.line + 1})"
        on_stack.add(key)
        distinct += 1
        stack.append((node, True))
        for child in _children(node):
            ckey = id(child)
            if ckey in on_stack:
                return distinct, 0, f"an alias refers to a node that contains it (line {child.start_mark.line + 1})"
            if ckey not in size:
                stack.append((child, False))
    return distinct, size[id(root)], None


def _children(node):
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return ()


def _expanded_depth(root) -> int:
    """The nesting depth once aliases are expanded (the graph is acyclic here)."""
    depth: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            depth[key] = 1 + max((depth[id(c)] for c in _children(node)), default=0)
            continue
        if key in depth:
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in depth)
    return depth[id(root)]


class _Builder:
    def __init__(self):
        self.memo: dict[int, YNode] = {}
        self.problems: list[YamlProblem] = []

    def build(self, node) -> YNode:
        key = id(node)
        found = self.memo.get(key)
        if found is not None:
            return found
        start, end = node.start_mark, node.end_mark
        place = dict(line=start.line + 1, column=start.column + 1, end_line=end.line + 1, end_column=end.column + 1)
        if isinstance(node, ScalarNode):
            plain = node.style is None
            text = node.value
            value = resolve_plain(text) if plain else text
            base60 = plain and node.tag in _YAML11_NUMBERS and ":" in text and isinstance(value, str)
            result = YNode("scalar", value, tag=node.tag, raw=text, plain=plain, base60=base60, **place)
        elif isinstance(node, SequenceNode):
            result = YNode("seq", [], tag=node.tag, **place)
            self.memo[key] = result
            result.value.extend(self.build(item) for item in node.value)
        else:
            result = YNode("map", {}, tag=node.tag, **place)
            self.memo[key] = result
            self._mapping(node, result)
        self.memo[key] = result
        return result

    def _mapping(self, node: MappingNode, result: YNode) -> None:
        merged: list[YNode] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == MERGE_TAG:
                merged.extend(self._merge_sources(value_node))
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(YamlProblem(
                    "PL010", "A mapping key must be a plain value, not a mapping or a list",
                    key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                continue
            key = key_node.value
            key_y = self.build(key_node)
            if key in result.value:
                first = result.keys[key]
                self.problems.append(YamlProblem(
                    "PL010", f"Duplicate key {key!r} (first at line {first.line}); Compose refuses the file",
                    key_y.line, key_y.column))
            result.value[key] = self.build(value_node)
            result.keys[key] = key_y
        for source in merged:  # `<<:` fills in keys the mapping does not set itself; earlier sources win
            for key, value in source.value.items():
                if key not in result.value:
                    result.value[key] = value
                    result.keys[key] = source.keys[key]

    def _merge_sources(self, value_node) -> list[YNode]:
        nodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        sources = []
        for item in nodes:
            built = self.build(item)
            if built.kind == "map":
                sources.append(built)
            else:
                self.problems.append(YamlProblem(
                    "PL010", "A merge key (<<) takes a mapping or a list of mappings", built.line, built.column))
        return sources


def load(text: str) -> tuple[YNode | None, list[YamlProblem]]:
    """The document as YNodes (None for an empty document) and the problems met reading it."""
    try:
        loader = _Loader(text)  # PyYAML's reader refuses control characters here, before any parsing
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return None, [YamlProblem("PL010", f"Invalid YAML: character {exc.character:#06x} is not allowed",
                                  line, column)]
    try:
        root = loader.get_single_node()
    except _TooDeep as exc:
        return None, [YamlProblem("PL042", f"YAML nested deeper than {MAX_DEPTH} levels; not read",
                                  exc.mark.line + 1, exc.mark.column + 1)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [YamlProblem("PL010", f"Invalid YAML: {message}", line, column)]
    except yaml.YAMLError as exc:
        return None, [YamlProblem("PL010", f"Invalid YAML: {exc}", 1, 1)]
    finally:
        loader.dispose()
    if root is None:
        return None, []
    distinct, expanded, cycle = _expansion(root)
    if cycle:
        return None, [YamlProblem("PL042", f"Recursive YAML alias: {cycle}; not read", 1, 1)]
    if expanded > distinct + MAX_EXPANDED:
        return None, [YamlProblem(
            "PL042", f"YAML aliases expand to more than {distinct + MAX_EXPANDED:,} values "
                     f"(the text holds {distinct:,}); not read", 1, 1)]
    if _expanded_depth(root) > MAX_DEPTH:
        return None, [YamlProblem("PL042", f"YAML aliases nest deeper than {MAX_DEPTH} levels; not read", 1, 1)]
    builder = _Builder()
    return builder.build(root), builder.problems
