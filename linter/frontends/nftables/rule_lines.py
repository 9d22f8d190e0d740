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
    # Reading another line (body_line) keeps the loader's chain, set and table (an include
    # reads with a loader of its own) but may take handles: the next one is kept here and
    # given back to the table around it.
    chain, table = loader.chain, loader.table
    rules = chain.rules if loader.set is None and chain is not None else None
    handle = table.next_handle if table is not None else 0
    for index, piece in enumerate(pieces):
        text = piece.lstrip(_BLANKS)
        if text:
            lead = len(piece) - len(text)
            text = text.rstrip(_BLANKS)
            start, at = offset + lead, column + lead
            if rules is not None and (not text.startswith(LINE_WORD_STARTS) or first_word(text) not in LINE_WORDS):
                rule = RuleB(None, new_span(path, line, at, line, at + len(text) - 1), text, handle, source,
                             (start, line, at))
                if table is None:
                    rule.handle = 0
                elif index < last:
                    handle += 1
                else:  # the token's last line: a `# handle N` comment may follow it
                    table.next_handle = handle
                    rule.handle = loader.handle_for(table, rule.run)
                    handle = table.next_handle
                rules.append(rule)
            else:
                if table is not None:
                    table.next_handle = handle
                try:
                    loader.body_line(element_runs.line_tree(element_runs.line_token(text, start, line, at)))
                except GroupTooDeep as exc:
                    loader.group_too_deep(exc)
                if table is not None:
                    handle = table.next_handle
        offset += len(piece) + 1
        line += 1
        column = 1
    if table is not None:
        table.next_handle = handle
