"""Accepted results that are a whole exposure cause by themselves, summarised without merging.

An allow-list of 100,000 `-s NET/24 -p tcp --dport 22 -j ACCEPT` lines leaves 100,000 accepted
results, each decided by one rule that decides nothing else. The exposure summary
(ExposureAnalysis._summarise) gathers every result's entries by a key that holds its deciding
rule, then merges entries of one cause (merge_exactly): for such a result there is nothing to
gather or merge, and keying it cost most of the summary. Here such results are told apart
first, so the summary makes their exposures at once, and the entries it still merges are put
back in the order the merge would have given them.
"""

from __future__ import annotations

from dataclasses import MISSING, fields

from linter.model import VerdictKind

LONE_AT_LEAST = 256  # fewer lone results: the general path alone (a second lane is not worth it)


def lone_results(results: list, accept, final_hook) -> set[int] | None:
    """The ids of the ``accept`` results that one rule decided alone (a path to an ACCEPT in the
    ``final_hook`` base chain with nothing before it but accepting policies, as nat PREROUTING's;
    nothing assumed, no NAT) whose rule's span no other
    accepted result shares (rules whose spans are equal, a script's loop, are one cause); None
    when there are fewer than LONE_AT_LEAST of them."""
    candidates = []
    others = []
    for result in results:
        if result.verdict is not accept:
            continue
        box = _fields(result)
        trail = box.trail
        if trail and not result.forwarded and not box.assumptions and box.nat_dst is None and box.nat_dport is None:
            step = trail[-1]
            rule = step.rule
            chain = step.chain
            if step.event == "rule" and rule is not None and rule.verdict.kind is VerdictKind.ACCEPT \
                    and chain.hook is final_hook and chain.type != "nat" \
                    and (len(trail) == 1 or all(s.event == "policy" and s.detail == "accept" for s in trail[:-1])):
                candidates.append((result, rule.span))
                continue
        others.append(result)
    if len(candidates) < LONE_AT_LEAST:
        return None
    # Spans hashed once each (a Span hashes all its fields): the first result of each span, and
    # the spans two results share or another result's deciders could hold (any rule or chain on its path).
    first: dict = {}
    shared = set()
    for result, span in candidates:
        at = first.setdefault(span, id(result))
        if at != id(result):
            shared.add(at)
    for result in others:
        for step in _fields(result).trail:
            at = first.get(step.chain.span)
            if at is not None:
                shared.add(at)
            if step.rule is not None:
                at = first.get(step.rule.span)
                if at is not None:
                    shared.add(at)
    lone = set(first.values())
    lone -= shared
    return lone


def _fields(result):
    # A DeferredResult's bare box (engine/descent.py): every field read here but its long
    # lists, which are not built (each built list costs its length).
    deferred = result.deferred
    return result.box if deferred is None else deferred.bare


def in_merge_order(lone: list[tuple[int, object]], entries: list[dict], numbers: dict[int, int], merge, group_key,
                   make) -> list:
    """The exposures the merge of every entry would have made, in its order: ``lone`` (number,
    exposure) and those of ``merge(entries)`` (the merge of the other entries, each numbered in
    ``numbers``: its id -> its number), each placed at the number of the first entry of its
    group (``group_key``: an entry's group; ``make``: entry -> exposure). The merge emits its
    groups in the order of their first entries, and a lone result is a group of its own."""
    if not entries:
        return [exposure for _, exposure in lone]
    firsts: dict = {}
    for entry in entries:
        firsts.setdefault(group_key(entry), numbers[id(entry)])  # before the merge changes them
    return [exposure for _, _, exposure in sorted(
        [(at, 0, exposure) for at, exposure in lone]
        + [(firsts[group_key(entry)], index, make(entry)) for index, entry in enumerate(merge(entries))],
        key=_first_two)]


def _first_two(item: tuple) -> tuple:
    return item[0], item[1]


def instance_maker(cls):
    """A function making an instance of ``cls`` (a frozen dataclass with a plain __init__: no
    factories, no __post_init__) from its first fields' values in order, the others their
    defaults: what the constructor makes, without one frozen assignment per field (100,000
    exposures and their deciders)."""
    names = tuple(f.name for f in fields(cls))
    if any(f.default_factory is not MISSING for f in fields(cls)) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: only plain fields can be filled in directly")
    tails = [{f.name: f.default for f in fields(cls)[given:]} for given in range(len(names) + 1)]
    new = object.__new__

    def make(*values):
        instance = new(cls)
        state = instance.__dict__
        state.update(zip(names, values))
        state.update(tails[len(values)])
        return instance
    return make
