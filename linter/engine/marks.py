"""Packet and connection marks on a box's path: which rules read them, which chains set them,
and what a MARK / CONNMARK target (or nft's ``meta mark set`` / ``ct mark set``) does to a box."""

from __future__ import annotations

from itertools import chain as chain_from, repeat
from operator import attrgetter

from linter.engine.budget import MAX_FOLLOWED_DEPTH as MAX_DEPTH
from linter.engine.chains import chain_named
from linter.engine.memo import IdentityCache
from linter.engine.rule_scan import scanned
from linter.engine.transparent import sets_notrack
from linter.engine.space import replace
from linter.model import Chain, MarkMatch, Rule, Table, VerdictKind

MASK32 = 0xFFFFFFFF


_MARKS_READ: IdentityCache[bool] = IdentityCache()


def marks_read(rulesets) -> bool:
    """Whether any rule of ``rulesets`` reads a packet or connection mark it can be told
    (remembered per ruleset: every path evaluation of a run asks)."""
    for ruleset in rulesets:
        found = _MARKS_READ.get(ruleset)
        if found is None:
            found = _MARKS_READ.put(ruleset, _reads_marks(ruleset))
        if found:
            return True
    return False


def _reads_marks(ruleset) -> bool:
    known = scanned(ruleset)  # (rule_scan.py asks it in its pass over every match, made first)
    if known is not None:
        return known.reads_marks
    # The matches of a chain's rules read in C (map, chain, isinstance): a loop per match cost
    # a random mix's walk 4% (300,000 matches at 100,000 rules).
    for table in ruleset.tables:
        for chain in table.chains:
            if any(map(isinstance, chain_from.from_iterable(map(_MATCHES, chain.rules)), repeat(MarkMatch))):
                return True
    return False


_MATCHES = attrgetter("matches")


_SETS_MARKS: IdentityCache[bool] = IdentityCache()


def sets_marks(table: Table, chain: Chain | None, depth: int = 0) -> bool:
    """Whether ``chain`` (or a chain it jumps to) has a MARK or CONNMARK rule."""
    if chain is None:
        return False
    known = _SETS_MARKS.get(chain)
    if known is not None:
        return known
    found = False
    for rule in chain.rules:
        if mark_effect(rule) is not None:
            found = True
            break
        if rule.verdict.kind in (VerdictKind.JUMP, VerdictKind.GOTO) and depth < MAX_DEPTH and \
                sets_marks(table, chain_named(table, rule.verdict.target), depth + 1):
            found = True
            break
    _SETS_MARKS.put(chain, found)
    return found


def _mark_number(text: str) -> tuple[int, int] | None:
    value, _, mask = text.partition("/")
    try:
        number, bits = int(value, 0), int(mask, 0) if mask else MASK32
    except ValueError:
        return None
    return (number & MASK32, bits & MASK32) if len(text) <= 23 else None


_MARK_EFFECTS: IdentityCache = IdentityCache()


def _is_mark_target(verdict) -> bool:
    return verdict is not None and verdict.kind is VerdictKind.OTHER and \
        (verdict.target or "").upper() in ("MARK", "CONNMARK")


def mark_effect(rule: Rule):
    """For a MARK or CONNMARK rule, or a rule with mark statements (nft ``meta mark set``, whose
    ``action`` is the MARK/CONNMARK target), a function box -> box with the marks it sets; None
    for other rules. An option the engine does not follow makes the mark unknown (None): never wrong."""
    verdict = rule.verdict
    if not _is_mark_target(verdict) and not any(_is_mark_target(s.action) for s in rule.statements):
        return None
    found = _MARK_EFFECTS.get(rule)
    if found is None:
        actions = [verdict] if _is_mark_target(verdict) else []
        actions += [s.action for s in rule.statements if _is_mark_target(s.action)]
        functions = [_mark_function(a.target.upper(), dict(a.options)) for a in actions]
        found = _MARK_EFFECTS.put(rule, functions[0] if len(functions) == 1 else _in_order(functions))
    return found


def _in_order(functions):
    def apply(box):
        for function in functions:
            box = function(box)
        return box
    return apply


def _mark_function(target: str, options: dict):
    def unknown(box):
        return replace(box, mark=None) if target == "MARK" else replace(box, ctmark=None, mark=None)

    if target == "MARK":
        for option, apply in (("--set-xmark", lambda m, v, k: (m & ~k) ^ v), ("--set-mark", lambda m, v, k: (m & ~k) | v),
                              ("--and-mark", lambda m, v, k: m & v), ("--or-mark", lambda m, v, k: m | v),
                              ("--xor-mark", lambda m, v, k: m ^ v)):
            if option in options:
                parsed = _mark_number(options[option])
                if parsed is None:
                    return unknown
                value, mask = parsed
                return lambda box: box if box.mark is None else replace(box, mark=apply(box.mark, value, mask) & MASK32)
        return unknown
    nfmask = _mark_number(options.get("--nfmask", "0xffffffff"))
    ctmask = _mark_number(options.get("--ctmask", "0xffffffff"))
    if nfmask is None or ctmask is None:
        return unknown
    nf, ct = nfmask[0], ctmask[0]
    if "--set-xmark" in options or "--set-mark" in options:
        parsed = _mark_number(options.get("--set-xmark") or options.get("--set-mark"))
        if parsed is None:
            return unknown
        value, mask = parsed
        xor = "--set-xmark" in options
        return lambda box: box if box.ctmark is None else replace(
            box, ctmark=(((box.ctmark & ~mask) ^ value) if xor else ((box.ctmark & ~mask) | value)) & MASK32)
    if "--save-mark" in options:
        return lambda box: replace(box, ctmark=None) if box.mark is None or box.ctmark is None else replace(
            box, ctmark=((box.ctmark & ~ct) ^ (box.mark & nf)) & MASK32)
    if "--restore-mark" in options:
        return lambda box: replace(box, mark=None) if box.mark is None or box.ctmark is None else replace(
            box, mark=((box.mark & ~nf) ^ (box.ctmark & ct)) & MASK32)
    return unknown


_MARKS_ONLY: IdentityCache = IdentityCache()


def marks_only(chain: Chain):
    """The mark effects of ``chain`` in order when every rule of it only sets marks, whatever
    the packet (no match, no verdict); None otherwise (remembered per chain)."""
    found = _MARKS_ONLY.get(chain)
    if found is None:
        effects = []
        for rule in chain.rules:
            effect = mark_effect(rule)
            if effect is None or rule.matches or rule.verdict.terminal or \
                    rule.verdict.kind is VerdictKind.JUMP or sets_notrack(rule):
                effects = None
                break
            effects.append(effect)
        found = _MARKS_ONLY.put(chain, tuple(effects) if effects else False)
    return found or None


def marked(box, effects):
    """``box`` with the mark ``effects`` (marks_only's) applied in order."""
    for effect in effects:
        box = effect(box)
    return box
