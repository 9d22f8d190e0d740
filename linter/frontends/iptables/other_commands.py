"""The commands of a provisioning script that are not iptables: ufw, docker run and podman run.

ScriptReader (script.py) replays the shell; when a command is ``ufw`` or a container engine's
``run``, it hands the words here. The ufw package reads the command and keeps ufw's state, which
is loaded onto the script's tables at the end as ufw itself loads it; a container run becomes a
service of a compose-like project (linter/frontends/container_run.py).
"""

from __future__ import annotations

from dataclasses import replace as dc_replace

from linter.frontends import container_run
from linter.frontends.iptables.tokens import INVALID
from linter.frontends.shell.syntax_tree import Simple
from linter.frontends.shell.values import UNRESOLVED, Field
from linter.frontends.ufw import UfwError
from linter.frontends.ufw import parse_command as parse_ufw
from linter.frontends.ufw.settings import new_state as new_ufw_state
from linter.model import Family, Span


class OtherCommands:
    """ufw and container-run commands for ScriptReader (a mixin: it uses the reader's state)."""

    def ufw_command(self, node: Simple, fields: list[Field]) -> bool | None:
        """A ufw command: applied to the script's ufw state (loaded onto the tables at the end)."""
        unknown = next((f for f in fields[1:] if not f.known), None)
        if unknown is not None:
            self._unresolved(unknown, "this ufw command is not read")
            self._mark(node, "opaque")
            return None
        if self.ufw is None:
            self.ufw = new_ufw_state(self.path, self.read_policy)
        try:
            operation = parse_ufw([f.text for f in fields[1:]])
        except UfwError as exc:
            word = fields[exc.index + 1].word if exc.index is not None and exc.index + 1 < len(fields) else node
            self._diag(INVALID, f"ufw refuses this command: {exc}", word.line, word.column)
            self._mark(node, "error")
            return False
        note = self.ufw.apply(operation, self._rule_span(node, fields))
        if note:
            self._diag(UNRESOLVED, f"ufw: {note}", node.line, node.column, 3)
        self._mark(node, "understood")
        return True

    def load_ufw(self) -> None:
        """Load what the script's ufw commands leave, as ufw does (iptables-restore --noflush), with
        every rule's span at the ufw command it comes from."""
        state = self.ufw
        first = state.first
        if state.enabled is None and first is not None:
            self._diag(UNRESOLVED, "The script never runs `ufw enable`: its ufw rules are read as if ufw were "
                                   "enabled on this host (a fresh Ubuntu host has ufw disabled: no firewall)",
                       first.line, first.column, 3, hint="End the script with `ufw --force enable`")
        elif state.enabled is False and state.switched is not None:
            self._diag(UNRESOLVED, "ufw is disabled at the end of the script: its rules filter nothing, this host "
                                   "has no ufw firewall", state.switched.line, state.switched.column, 3)
        for family, ipv6 in ((Family.IPV4, False), (Family.IPV6, True)):
            lines = state.restore_lines(ipv6)
            if not lines:
                continue
            spans = {(s.line, s.column): s for s, _ in lines}
            self._restore_document(None, [(s.line, text, s.column - 1) for s, text in lines], family, False)
            for table in self._store(family).tables.values():
                for chain in table.chains.values():
                    if chain.span is not None and (chain.span.line, chain.span.column) in spans:
                        chain.span = spans[(chain.span.line, chain.span.column)]
                    rules = chain.merged()
                    for index, rule in enumerate(rules):
                        span = spans.get((rule.span.line, rule.span.column))
                        if span is not None and rule.span != span:
                            rules[index] = dc_replace(rule, span=span)

    def container_command(self, node: Simple, fields: list[Field], engine: str) -> bool | None:
        """``docker run -p ...`` / ``podman run``: a compose-like service of this script."""
        words = [container_run.Word(f.text if f.known else None, self._word_span(f), f.word.text) for f in fields[1:]]
        if not container_run.is_run(words):
            return None
        command, notes = container_run.read_run(engine, words, self._rule_span(node, fields))
        service = container_run.service_of(command, notes) if command is not None else None
        if command is not None and (note := container_run.publish_all_note(command)) is not None:
            notes.append(note)
        for note in notes:
            code = {"invalid": INVALID, "port": "PL040", "unknown": UNRESOLVED, "publish-all": "PL211"}[note.kind]
            self._diag(code, note.message, note.span.line, note.span.column,
                       (note.span.end_column or note.span.column) - note.span.column + 1,
                       hint=container_run.HINTS.get(note.kind))
        if service is not None:
            self.containers.append(service)
        return None

    def _word_span(self, fld: Field) -> Span:
        """Where a word is: the call that gave it when it holds a function's arguments (as for rules)."""
        if fld.positional and self.frames:
            call = self.frames[0].call
            return Span(self.path, call.line, call.column, call.end_line, call.end_column)
        word = fld.word
        first = word.text.split("\n", 1)[0]
        return Span(self.path, word.line, word.column, word.line, word.column + max(len(first), 1) - 1)
