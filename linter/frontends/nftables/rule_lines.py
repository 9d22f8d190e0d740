"""The loader's reading of a LINERUNS token: up to 256 plain lines, most of them a chain's rules.

Each line is read as the `linerun` line of its LINERUN token would be (Loader.body_line),
and a chain's rule line directly: a RuleB with its text, span and place in the file, its
token made only if the line is read the usual way (line_plans.py models most such lines
from their text alone). No `# handle` comment can follow a line that the token goes on
after, so only its last line looks for one.
"""

from __future__ import annotations

from linter.frontends.makers import span as new_span
from linter.frontends.nftables import element_runs
from linter.frontends.nftables.atoms import GroupTooDeep
from linter.frontends.nftables.builders import RuleB
from linter.frontends.nftables.keywords import LINE_WORD_STARTS, LINE_WORDS

_BLANKS = " \t\f\r"


def read_lines(loader, token) -> None:
    """Read the lines of a LINERUNS ``token`` into ``loader``'s chain (or as its other lines)."""
    pieces = token.value.split("\n")
    last = len(pieces) - 1
    while last > 0 and not pieces[last].strip(_BLANKS):
        last -= 1
    path, source, first_word = loader.path, loader.source, element_runs.first_word
    offset, line, column = token.start_pos, token.line, token.column
    for index, piece in enumerate(pieces):
        text = piece.lstrip(_BLANKS)
        if text:
            lead = len(piece) - len(text)
            text = text.rstrip(_BLANKS)
            start, at = offset + lead, column + lead
            chain = loader.chain
            if loader.set is None and chain is not None and \
                    (not text.startswith(LINE_WORD_STARTS) or first_word(text) not in LINE_WORDS):
                rule = RuleB(None, new_span(path, line, at, line, at + len(text) - 1), text, 0, source,
                             (start, line, at))
                table = loader.table
                if table is not None:
                    if index < last:
                        rule.handle = table.next_handle
                        table.next_handle += 1
                    else:
                        rule.handle = loader.handle_for(table, rule.run)
                chain.rules.append(rule)
            else:
                try:
                    loader.body_line(element_runs.line_tree(element_runs.line_token(text, start, line, at)))
                except GroupTooDeep as exc:
                    loader.group_too_deep(exc)
        offset += len(piece) + 1
        line += 1
        column = 1
