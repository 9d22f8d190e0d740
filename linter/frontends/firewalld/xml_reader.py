"""A small, safe XML reader for firewalld's files: elements with their line and column.

Built on expat directly (it reports where each element starts). Document type declarations
are refused outright: an internal subset can declare entities that expand exponentially
("billion laughs") or name external files, and firewalld's own files never have one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

MAX_DEPTH = 100
MAX_ELEMENTS = 200_000


@dataclass
class Element:
    """One XML element: tag, attributes, children in order, text, 1-based line and column."""

    tag: str
    attrs: dict[str, str]
    line: int
    column: int
    children: list["Element"] = field(default_factory=list)
    text: str = ""

    def find_all(self, tag: str) -> list["Element"]:
        return [child for child in self.children if child.tag == tag]

    def find(self, tag: str) -> "Element | None":
        return next((child for child in self.children if child.tag == tag), None)


class XmlRefused(Exception):
    """The document declares a DOCTYPE or entities; ``line``/``column`` say where."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


class XmlError(Exception):
    """The document is not well-formed XML (or is too deep or too large)."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


def read_xml(text: str) -> Element:
    """The root element of ``text``; raises XmlRefused or XmlError."""
    parser = expat.ParserCreate(encoding="utf-8")
    stack: list[Element] = []
    root: list[Element] = []
    count = [0]

    def where() -> tuple[int, int]:
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    def refuse(*_args) -> None:
        raise XmlRefused("A document type declaration (DOCTYPE/ENTITY) is refused: entities can expand without "
                         "bound or read other files, and firewalld's files never declare any", *where())

    def start(tag: str, attrs: dict[str, str]) -> None:
        count[0] += 1
        if len(stack) >= MAX_DEPTH or count[0] > MAX_ELEMENTS:
            raise XmlError(f"The XML nests deeper than {MAX_DEPTH} levels or holds more than {MAX_ELEMENTS:,} "
                           "elements; not read", *where())
        element = Element(tag, dict(attrs), *where())
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = lambda *args: refuse()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(text.encode("utf-8"), True)
    except expat.ExpatError as exc:
        raise XmlError(f"Not well-formed XML: {expat.errors.messages.get(exc.code, str(exc))}",
                       exc.lineno, exc.offset + 1) from None
    if not root:
        raise XmlError("No XML element", 1, 1)
    return root[0]
