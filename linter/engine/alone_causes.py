"""Accepted results whose cause no other result shares, summarised without the merge.

Kube-proxy at 100,000 rules leaves 21,000 accepted results, nearly all forwarded through one
endpoint's DNAT: each is decided by its own DNAT rule (and the forward accept every result
shares) and reached through its own service's jump, so no two results have one cause and
nothing merges. The exposure summary (ExposureAnalysis._summarise) gathered every result's
entries by a key of a dozen fields and merged them all (merge_exactly) all the same. Here
every accepted result's deciders are read once, before the summary's loop, and its cause
keyed as merge_exactly keys an entry (all but the protocol and the reach, which only split a
cause further); the summary makes the exposures of a result alone in its cause at once,
numbered with the entries it still gathers (lone_results.in_merge_order puts them back in the
merge's order), as the lane of lone single-rule accepts (lone_results.py) does.
"""

from __future__ import annotations

ALONE_AT_LEAST = 256  # fewer results alone in their cause: the general path alone


def alone_causes(results: list, accept, skip: set[int] | None, read, cause_texts) -> tuple[dict[int, tuple], set[int]]:
    """(id(result) -> ``read(result)`` + ``cause_texts`` of its box, for every ``accept`` result
    of ``results`` (one family's) not in ``skip`` (ids of results another lane takes); the ids
    of the results alone in their cause, none when fewer than ALONE_AT_LEAST are).

    ``read(result)``: (node, box, deciders, via), what the summary reads of a result;
    ``cause_texts(box)``: ((possible, conditions), NAT targets) as the summary writes them. A result is
    alone when no other result read here has its deciders and jumps (their spans compared by
    value, as merge_exactly compares them), conditions, NAT targets and forwarding, when it
    is forwarded (the lane is for DNAT-forwarded results) and keeps its sources as a list."""
    # Only a forwarded result can be alone: with too few of them, none is, and nothing is read
    # ahead (ufw's 77,000 accepts, none forwarded: what was read was held into the summary's loop).
    forwarded = 0
    for result in results:
        if result.verdict is accept and result.forwarded and (skip is None or id(result) not in skip):
            forwarded += 1
    if forwarded < ALONE_AT_LEAST:
        return {}, set()
    read_results: dict[int, tuple] = {}
    # cause -> id(result) of the one result with it so far (negative when that one is no
    # candidate: not forwarded, or its sources held as a Node); 0 once a second one has it
    owner: dict[tuple, int] = {}
    claim = owner.setdefault
    # A decider's span stands in a cause as a number, one per value of its fields (what Span's
    # equality compares): equal numbers, equal spans, and a key of a few ints hashes at once.
    span_numbers: dict = {}  # span fields -> their number
    numbers: dict[int, int] = {}  # id(decider) -> the number of its span
    number_of = numbers.get
    numbered: list = []  # the deciders numbered (kept: their ids stay theirs)

    def spans_of(deciders: tuple) -> tuple:
        out = []
        for decider in deciders:
            found = number_of(id(decider))
            if found is None:
                span = decider.span
                fields = (span.path, span.line, span.column, span.end_line, span.end_column) if span is not None \
                    else None
                found = numbers[id(decider)] = span_numbers.setdefault(fields, len(span_numbers))
                numbered.append(decider)
            out.append(found)
        return tuple(out)

    for result in results:
        if result.verdict is not accept or (skip is not None and id(result) in skip):
            continue
        node, box, deciders, via = read(result)
        texts = cause_texts(box)
        key = (result.forwarded, texts, spans_of(deciders), spans_of(via) if via else ())
        number = id(result)
        read_results[number] = (node, box, deciders, via, texts[0], texts[1])
        mine = number if result.forwarded and node is None else -number
        if claim(key, mine) != mine:  # (ids are unique: only this result's own claim equals it)
            owner[key] = 0
    alone = {number for number in owner.values() if number > 0}
    # Too few alone: the general path for all (what was read is read once all the same).
    return read_results, alone if len(alone) >= ALONE_AT_LEAST else set()


def add_alone(make, family, box, kinds: list, protocols: list, deciders: tuple, via: tuple, possible: bool,
              conditions: tuple, forwarded: bool, nat: tuple, public_size: int, size_of, numbered: int,
              numbers: list[int], made: list) -> int:
    """Number and make the exposures of one result alone in its cause from ``numbered`` on (the
    next number): what merging its gathered entries gives, one exposure per protocol and kind
    of source (``kinds``: (kind, sources, interfaces), as the summary lists them), the
    interfaces of a kind together and public sources rated by their size (``size_of``,
    ``public_size``: half the public space or more is the internet). ``make``: the exposure of
    its fields (exposure.alone_exposure)."""
    for proto, has_ports in protocols:
        ports = box.dport if has_ports else ()
        nat_ports = box.nat_dport if has_ports else None
        for kind, sources, interfaces in kinds:
            if not interfaces:
                continue  # (no entry gathered: an internal-only box has no external kinds)
            if kind == "public":
                kind = "internet" if size_of(sources) * 2 >= public_size else "restricted"
            numbers.append(numbered)
            made.append(make(family, proto, ports, kind, sources, interfaces, possible, conditions, deciders,
                             forwarded, nat, nat_ports, via))
            numbered += 1
    return numbered
