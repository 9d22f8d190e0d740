"""The path of a packet through every base chain of every table, hook by hook.

A packet for this host meets, in order: netdev ingress, then every prerouting base
chain, then (after routing) every input base chain; when a DNAT in prerouting sent it
to an address that is not local, it meets the forward and postrouting chains
instead. On each hook the base chains of all tables (and, for nftables, all
families that see the packet: inet and ip for IPv4) run in priority order. An
accept ends only its own chain; drop and reject end everything; falling off a
base chain applies its policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from linter.engine.budget import Budget, Cut, recursion_room
from linter.engine.descent import Deferred
from linter.engine.heap import give_back
from linter.engine.coalesce import forget_merged
from linter.engine.space import Box, forget_paths, hold_paths, replace, with_trail
from linter.engine.universe import LOOPBACK_IFACE
from linter.engine.roles import bridge_subnets
from linter.engine.space import Routing
from linter.engine.marks import marks_read, sets_marks
from linter.engine.replay import walk_many
from linter.engine.shapewalk import SharedWalks
from linter.engine.stepper import stepper
from linter.engine.walk import Outcome, Walker, is_transparent
from linter.model import Chain, Family, Hook, Policy, Ruleset, Table

LOCAL_PATH = (Hook.INGRESS, Hook.PREROUTING, Hook.INPUT)
FORWARD_HOOKS = (Hook.FORWARD, Hook.POSTROUTING)
CONNTRACK_PRIORITY = -200  # NF_IP_PRI_CONNTRACK
NEW = frozenset({"new"})


def before_conntrack(chain: Chain) -> bool:
    """True for a base chain that sees packets before conntrack does (iptables raw, nft
    priority raw): there a conntrack state match sees no connection, i.e. the state invalid."""
    return chain.hook in (Hook.PREROUTING, Hook.OUTPUT) and chain.priority is not None \
        and chain.priority < CONNTRACK_PRIORITY


@dataclass(frozen=True, slots=True)
class Result:
    """A part of packet space and what finally happens to it."""

    box: Box
    verdict: Outcome  # ACCEPT, DROP or REJECT (QUEUE counts as accept, with a note)
    forwarded: bool  # True when a DNAT sent it through FORWARD
    routed: bool = False  # addressed to another host and routed through this one (evaluate_routed)


Result.deferred = None  # a plain result's box is the box; DeferredResult's is built (engine/descent.py)
_RESULT_FIELDS = tuple(Result.__dataclass_fields__)
if _RESULT_FIELDS != ("box", "verdict", "forwarded", "routed"):
    raise AssertionError(f"Result fields changed: {_RESULT_FIELDS}")
_SET_BOX, _SET_VERDICT, _SET_FORWARDED, _SET_ROUTED = (Result.__dict__[name].__set__ for name in _RESULT_FIELDS)
_new = object.__new__
_GET_BOX = Result.__dict__["box"].__get__


class DeferredResult(Result):
    """A Result whose box the walk decided as an engine/descent.py Deferred (its long list kept
    as how it was cut): the box is built each time it is read."""

    __slots__ = ()

    @property
    def box(self) -> Box:
        return _GET_BOX(self).box()

    @property
    def deferred(self) -> Deferred:
        """What the walk decided, its long list kept as a Node."""
        return _GET_BOX(self)


def decided(box: Box, verdict: Outcome, forwarded: bool) -> Result:
    """``Result(box, verdict, forwarded)``, built by the fields' slot descriptors (what the
    frozen dataclass's __init__ ends up doing, at a third of its cost: a blocklist's walk
    decides 100,000 boxes, frontends/makers.py does the same for model objects)."""
    made = _new(Result if type(box) is not Deferred else DeferredResult)
    _SET_BOX(made, box)
    _SET_VERDICT(made, verdict)
    _SET_FORWARDED(made, forwarded)
    _SET_ROUTED(made, False)
    return made


def decided_all(boxes, verdict: Outcome, forwarded: bool) -> list[Result]:
    """``[decided(box, verdict, forwarded) for box in boxes]`` in one loop (an allow-list's
    walk accepts 100,000 boxes)."""
    made_all: list[Result] = []
    append = made_all.append
    set_box, set_verdict, set_forwarded, set_routed = _SET_BOX, _SET_VERDICT, _SET_FORWARDED, _SET_ROUTED
    for box in boxes:
        made = _new(Result if type(box) is not Deferred else DeferredResult)
        set_box(made, box)
        set_verdict(made, verdict)
        set_forwarded(made, forwarded)
        set_routed(made, False)
        append(made)
    return made_all


def base_chains(rulesets: list[Ruleset], hook: Hook, family: Family) -> list[tuple[Table, Chain]]:
    """The base chains that see ``family`` packets on ``hook``, in the order they run."""
    found = []
    order = 0
    for ruleset in rulesets:
        for table in ruleset.tables:
            if table.family in (Family.ARP, Family.BRIDGE) or not table.family.covers(family):
                continue
            if table.family is Family.NETDEV and hook is not Hook.INGRESS:
                continue
            for chain in table.chains:
                if chain.hook is hook:
                    found.append((chain.priority or 0, order, table, chain))
                    order += 1
    found.sort(key=lambda item: (item[0], item[1]))
    return [(table, chain) for _, _, table, chain in found]


class PathEvaluator:
    """Evaluates boxes along the packet path through a set of rulesets."""

    def __init__(self, rulesets: list[Ruleset], record: bool = False, certain: bool = False, assumed=None,
                 host: dict | None = None):
        """``assumed``: engine.assumptions.Assumptions settling opaque matches (the ``assume``
        setting, ``trace --assume``). ``host``: this host's addresses per family
        (roles.host_addresses; None: unknown, every destination may be this host's, as a
        trace's flow to the address it names is)."""
        self.rulesets = rulesets
        self.walker = Walker(record=record, certain=certain)
        self.walker.marks = marks_read(rulesets)
        self.walker.prune = not record
        self.walker.shared = None if record else SharedWalks()
        subnets = bridge_subnets(rulesets)
        host_pairs = tuple((family, ranges) for family, ranges in (host or {}).items() if ranges)
        if subnets or assumed or host_pairs:
            self.walker.route_by(Routing(subnets, assumed=assumed or None, host=host_pairs))
        self.record = record
        self._chains: dict[tuple[Hook, Family], list[tuple[Table, Chain]]] = {}
        self.cuts: list[Cut] = []  # where an evaluation merged paths or stopped following a jump
        self.spent = 0  # box-rule applications of every evaluation so far

    def chains(self, hook: Hook, family: Family) -> list[tuple[Table, Chain]]:
        key = (hook, family)
        if key not in self._chains:
            self._chains[key] = base_chains(self.rulesets, hook, family)
        return self._chains[key]

    def evaluate(self, boxes: list[Box]) -> list[Result]:
        """Every final result for ``boxes`` (all of one family) arriving at this host.

        Packets that come in on lo were sent by this host to itself: they take the
        output path first (where nat OUTPUT decides their NAT), then come back in
        through prerouting and input, where nat chains are not consulted again.
        """
        if not boxes:
            return []
        budget = self.walker.budget = Budget.for_rulesets(self.rulesets, self.record)
        depth = max((len(table.chains) for ruleset in self.rulesets for table in ruleset.tables), default=0)
        with recursion_room(depth):
            finals = self._evaluate(boxes)
        # The path cache let go with the walk: the next base chain's walk would begin by emptying
        # it, and kept until then it held an allow-list's 50,000 paths (~20 MB) to the end of the run.
        forget_paths()
        forget_merged()  # (and the merged lists: ufw's user chain left ~0.8 million ranges kept for identity)
        give_back(len(finals))  # (the walk's garbage: free heap pages, engine/heap.py)
        self.spent += budget.spent
        if budget.cut is not None:
            self.cuts.append(budget.cut)
        return finals

    def _evaluate(self, boxes: list[Box]) -> list[Result]:
        family = boxes[0].family
        finals: list[Result] = []
        external: list[Box] = []
        looped: list[Box] = []
        for box in boxes:
            lo = box.iif & {LOOPBACK_IFACE}
            if lo:
                looped.append(replace(box, iif=lo))
            if box.iif - lo:
                external.append(replace(box, iif=box.iif - lo) if lo else box)
        self._from_outside(family, external, finals)
        self._from_this_host(family, looped, finals)
        return finals

    def evaluate_routed(self, boxes: list[Box], keep_nat: bool = True) -> list[Result]:
        """Every final result for ``boxes`` (all of one family, ``local=False``, with their
        output interfaces) arriving from outside for another host: ingress, prerouting, then
        forward and postrouting. What a REDIRECT (or a DNAT to a loopback address) turns into a
        packet for this host is left out: the local path's results hold it. ``keep_nat=False``
        leaves out what a DNAT rewrote too (the local path, which takes every destination for
        this host's, has it as forwarded already)."""
        if not boxes:
            return []
        family = boxes[0].family
        finals: list[Result] = []
        alive = boxes
        shared = self.walker.shared
        if shared is not None and not keep_nat:
            shared.drop_nat = True  # what a DNAT rewrote is left out below: not even made
        try:
            for hook in (Hook.INGRESS, Hook.PREROUTING):
                alive = self._run_hook(hook, family, alive, finals, forwarded=True)
            alive = [b for b in alive if not b.local and (keep_nat or b.nat_dst is None)]
            for hook in FORWARD_HOOKS:
                alive = self._run_hook(hook, family, alive, finals, forwarded=True)
        finally:
            if shared is not None:
                shared.drop_nat = False
        finals.extend(Result(b, Outcome.ACCEPT, True) for b in alive)
        return [Result(r.box, r.verdict, r.box.nat_dst is not None, True) for r in finals
                if not r.box.local and (keep_nat or r.box.nat_dst is None)]

    def _from_outside(self, family: Family, alive: list[Box], finals: list[Result]) -> None:
        for hook in (Hook.INGRESS, Hook.PREROUTING):
            alive = self._run_hook(hook, family, alive, finals, forwarded=False)
        local = [b for b in alive if b.local]
        forwarded = [b for b in alive if not b.local]
        alive_local = self._run_hook(Hook.INPUT, family, local, finals, forwarded=False)
        finals.extend(decided_all(alive_local, Outcome.ACCEPT, False))
        for hook in FORWARD_HOOKS:
            forwarded = self._run_hook(hook, family, forwarded, finals, forwarded=True)
        finals.extend(decided_all(forwarded, Outcome.ACCEPT, True))

    def _from_this_host(self, family: Family, alive: list[Box], finals: list[Result]) -> None:
        if not alive:
            return
        for hook in (Hook.OUTPUT, Hook.POSTROUTING):
            alive = self._run_hook(hook, family, alive, finals, forwarded=False)
        # A nat OUTPUT DNAT to another address sends the packet away from this host.
        finals.extend(decided(b, Outcome.ACCEPT, True) for b in alive if not b.local)
        alive = [b for b in alive if b.local]
        for hook in (Hook.PREROUTING, Hook.INPUT):
            alive = self._run_hook(hook, family, alive, finals, forwarded=False, skip_nat=True)
        finals.extend(decided_all(alive, Outcome.ACCEPT, False))

    def _run_hook(self, hook: Hook, family: Family, boxes: list[Box], finals: list[Result], forwarded: bool,
                  skip_nat: bool = False) -> list[Box]:
        for table, chain in self.chains(hook, family):
            if not boxes:
                break
            if skip_nat and chain.type == "nat":
                continue
            boxes = self._run_chain(table, chain, boxes, finals, forwarded)
        return boxes

    def _walk_before_conntrack(self, table: Table, chain: Chain, boxes: list[Box]) -> list[tuple[Box, Outcome]]:
        """Walk a chain that runs before conntrack: its state matches see every packet as
        invalid (untracked once a notrack rule took it); afterwards the packet has its
        real state again, or stays untracked."""
        walked = []
        groups: dict[frozenset[str], list[Box]] = {}
        for box in boxes:
            looped = box.iif & {LOOPBACK_IFACE} if chain.hook is Hook.PREROUTING else frozenset()
            if looped:
                # Packets looped back through lo were tracked on their way out (OUTPUT):
                # here they already have their real state, and notrack does nothing to them.
                for done, outcome in self.walker.walk(table, chain, [replace(box, iif=looped)]):
                    walked.append((replace(done, state=box.state), outcome))
                if box.iif == looped:
                    continue
                box = replace(box, iif=box.iif - looped)
            groups.setdefault(box.state, []).append(box)
        for states, group in groups.items():
            seen = frozenset("untracked" if s == "untracked" else "invalid" for s in states)
            self.walker.first_packet = states == NEW
            try:
                walked_group = self.walker.walk(table, chain, [replace(b, state=seen) for b in group])
            finally:
                self.walker.first_packet = False
            for box, outcome in walked_group:
                real = states - {"untracked"} if "invalid" in box.state else frozenset()
                if "untracked" in box.state:
                    real = real | {"untracked"}
                walked.append((replace(box, state=frozenset(real)), outcome))
        return walked

    def _run_chain(self, table: Table, chain: Chain, boxes: list[Box], finals: list[Result], forwarded: bool) -> list[Box]:
        if not self.record and (chain.policy or Policy.ACCEPT) is Policy.ACCEPT and is_transparent(table, chain) \
                and not (self.walker.marks and sets_marks(table, chain)):
            # Nothing in the chain can change what happens to a box: skip the walk, which in a
            # nat POSTROUTING chain of opaque marks would split every box for nothing. Such a
            # chain decides nothing, so it leaves no step either (its accepting policy is not a
            # decider of anything).
            return boxes
        forget_paths()  # the walk's paths shared by what it does alone (engine/space.py)
        if any(type(box) is Deferred for box in boxes):  # accepted by an earlier chain (engine/descent.py)
            boxes = [box.box() if type(box) is Deferred else box for box in boxes]
        entering, skipped = entering_parts(chain, boxes)
        survivors = skipped
        if before_conntrack(chain):
            walked = self._walk_before_conntrack(table, chain, entering)
        else:
            walked = walk_many(self.walker, table, chain, entering)
        hold_paths(True)  # the policy's steps shared by the boxes of one path, however many return
        returned, accepted, queued = Outcome.RETURN, Outcome.ACCEPT, Outcome.QUEUE
        survive = survivors.append
        # The chain's policy, read once (enum members and their values are Python-level
        # look-ups: kube-proxy's nat POSTROUTING returns 32,000 boxes). An unknown policy (an
        # undefined nft variable) is not taken as an accept: what the rules accept is
        # reported, a default accept nothing says is not.
        policy = chain.policy or Policy.ACCEPT
        detail = policy.value
        policy_refuses = policy is Policy.DROP or policy is Policy.UNKNOWN
        dropped = Outcome.DROP
        policy_step = None  # (engine/stepper.py: one Step for every box that fell off the chain)
        for box, outcome in walked:
            if outcome is accepted or outcome is queued:
                survive(box)
            elif outcome is returned:
                if policy_step is None:
                    policy_step = stepper("policy", table, chain, detail=detail)
                box = with_trail(box, policy_step(box.trail))
                if policy_refuses:
                    finals.append(decided(box, dropped, forwarded))
                else:
                    survive(box)
            else:
                finals.append(decided(box, outcome, forwarded))
        hold_paths(False)
        return survivors


def entering_parts(chain: Chain, boxes: list[Box]) -> tuple[list[Box], list[Box]]:
    """(the parts of ``boxes`` that enter ``chain``, the parts it never sees), each in order:
    a nat chain sees only the first packet of a connection, an ingress chain bound to a device
    only that device's packets; any other chain every box whole."""
    nat = chain.type == "nat"
    bound = chain.hook is Hook.INGRESS and chain.device  # (read once: enum members cost a look-up each)
    if not (nat or bound):
        return list(boxes), []  # (every box whole, in order: FORWARD's 68,000 at once)
    skipped: list[Box] = []
    entering: list[Box] = []
    for box in boxes:
        if not bound and box.state == NEW:
            entering.append(box)  # (a nat chain's new connections, whole: nat POSTROUTING's 64,000)
            continue
        part, rest = box, []
        if nat and box.state != NEW:
            inside_states = box.state & {"new"}
            if box.state - inside_states:
                rest.append(replace(box, state=box.state - inside_states))
            part = replace(box, state=inside_states) if inside_states else None
        if part is not None and bound:
            devices = {d.strip() for d in chain.device.split(",")}
            hit = frozenset(i for i in part.iif if i in devices)
            if part.iif - hit:
                rest.append(replace(part, iif=part.iif - hit))
            part = replace(part, iif=hit) if hit else None
        skipped.extend(rest)
        if part is not None:
            entering.append(part)
    return entering, skipped
