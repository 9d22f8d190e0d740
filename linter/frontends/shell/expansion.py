"""Word expansion: parameters, command substitutions, arithmetic, quoting and field splitting, as the shell does them, with what cannot be known kept as Unknown."""

from __future__ import annotations

from linter.budgets import MAX_SHELL_EXPANSION_CHARS, MAX_SHELL_WORD_CHARS
from linter.frontends.shell.syntax_tree import Arith, CommandSub, Lit, Param, Word
from linter.frontends.shell.values import (
    brace_variants,
    ExpansionBudget,
    Field,
    glob_escape,
    IPTABLES_NAMES,
    QUERY,
    RESTORE_NAMES,
    short,
    trim,
    Unknown,
    UNRESOLVED,
)
from linter.numbers import bounded_int


class WordExpansion:
    """Expands words against the evaluator's variables; mixed into ShellEvaluator."""

    def marked_word(self, word: Word) -> str:
        """A word's text with what portlint cannot know replaced by marks (for iptables-restore input)."""
        out = []
        for part in word.parts:
            if type(part) is Lit:
                out.append(part.text)
                continue
            if type(part) is Param and (part.name in ("@", "*") or part.index in ("@", "*")):
                fields = self.expand(Word((part,), word.line, word.column, word.end_line, word.end_column,
                                          word.text), split=False)
                value = fields[0].unknown if fields and not fields[0].known else \
                    (fields[0].text if fields else "")
            else:
                value = self.expand_part_text(part, word)
            if isinstance(value, Unknown):
                raw = getattr(part, "raw", "") or word.text
                at = word.text.find(raw) if "\n" not in word.text else -1
                column = word.column + max(at, 0)
                where = Word((part,), word.line, column, word.line, column + len(raw) - 1, raw)
                out.append(self._mark_unknown(Field(raw, where, value)))
            else:
                out.append(value)
        self._spend(sum(map(len, out)), word)
        return "".join(out)

    def _mark_unknown(self, fld: Field) -> str:
        self._marks.append(fld)
        return f"\u27e6{len(self._marks) - 1}\u27e7"

    # -- compound commands
    def pattern(self, word: Word) -> str | None:
        """A case/[[ pattern: quoted parts match literally; None when not known."""
        out = []
        for part in word.parts:
            if type(part) is Lit:
                out.append(glob_escape(part.text) if part.quoted else part.text)
                continue
            value = self.expand_part_text(part, word)
            if isinstance(value, Unknown):
                return None
            out.append(glob_escape(value) if part.quoted else value)
        self._spend(sum(map(len, out)), word)
        return "".join(out)

    # -- variables
    def _set(self, name: str, value) -> None:
        self.vars[name] = value

    def lookup(self, name: str, index: str | None = None):
        """The value of a parameter: str, list (array), Unknown, or None when unset."""
        script = not self.frames and self.script_args is None
        params = self._positional()
        if name.isdigit():
            number = bounded_int(name)
            if number == 0:
                return Unknown("is the script's name", "0")
            if script:
                return Unknown("is an argument of the script", name, guess="start" if number == 1 else None)
            if isinstance(params, Unknown):
                return Unknown(params.why, name)
            return params[number - 1] if number <= len(params) else None
        if name in ("@", "*"):
            if script:
                return Unknown("are the script's arguments", name, guess="start")
            if isinstance(params, Unknown):
                return Unknown(params.why, name)
            return list(params)
        if name == "#":
            if script:
                return Unknown("is the number of the script's arguments", "#")
            if isinstance(params, Unknown):
                return Unknown(params.why, name)
            return str(len(params))
        if name in ("?", "$", "!", "-"):
            return Unknown("is only known when the script runs", name)
        value = self.vars.get(name)
        if value is None:
            if name in ("IFS",):
                return " \t\n"
            return None
        if index is not None and isinstance(value, list):
            if index in ("@", "*"):
                return value
            if index.isdigit():
                number = bounded_int(index)
                return value[number] if number < len(value) else None
            return Unknown(f"is indexed by {index}", name)
        if index is not None and index not in ("@", "*", "0"):
            return None if isinstance(value, str) else value
        return value

    def _positional(self):
        """The positional parameters: a list of values, or Unknown."""
        if self.frames:
            return self.frames[-1].positional
        return self.script_args if self.script_args is not None else []

    def _positional_values(self) -> list[Field]:
        dummy = Word((Lit('"$@"'),), 0, 0, 0, 0, '"$@"')
        if not self.frames and self.script_args is None:
            return [Field('"$@"', dummy, Unknown("are the script's arguments", "@"))]
        params = self._positional()
        if isinstance(params, Unknown):
            return [Field("$@", dummy, params)]
        out = []
        for value in params:
            out.append(Field(value, dummy) if isinstance(value, str) else Field("$@", dummy, value))
        return out

    # -- expansion
    def expand(self, word: Word, split: bool = True) -> list[Field]:
        """The fields of a word after expansion (no globbing: patterns stay as written)."""
        if split and self.braces and any(type(p) is Lit and not p.quoted and "{" in p.text for p in word.parts):
            variants = brace_variants(list(word.parts))
            if len(variants) > 1:
                out: list[Field] = []
                size = 0
                for parts in variants:
                    more = self.expand(Word(tuple(parts), word.line, word.column, word.end_line,
                                            word.end_column, word.text), split)
                    size += sum(len(f.text) + 1 for f in more)
                    if size > MAX_SHELL_WORD_CHARS:
                        return self._too_long(word)
                    out.extend(more)
                return out
        fields: list[Field] = []
        current: list[str] = []
        unknown: Unknown | None = None
        positional = False
        started = False  # the current field exists (quoted empty text counts)
        produced = 0  # characters of the fields so far, counted before they are joined
        too_long = False

        def close():
            nonlocal current, unknown, started, positional, produced, too_long
            if started or current:
                produced += sum(map(len, current)) + 1
                too_long = too_long or produced > MAX_SHELL_WORD_CHARS
                fields.append(Field("" if too_long else "".join(current), word, unknown, positional))
            current, unknown, started, positional = [], None, False, False

        def split_into(value: str) -> None:
            """Field splitting of an unquoted expansion on white space (the default IFS)."""
            pieces = value.split()
            if not pieces:
                return
            if value[:1].isspace():
                close()
            for k, piece in enumerate(pieces):
                if k:
                    close()
                current.append(piece)
            if value[-1:].isspace():
                close()

        for part in word.parts:
            kind = type(part)
            if kind is Lit:
                current.append(part.text)
                if part.quoted:
                    started = True
                continue
            if kind is Param and (part.name.isdigit() or part.name in ("@", "*", "#") or part.name in self.tainted):
                positional = positional or bool(self.frames)
            if kind is Param and part.name in ("@", "*") and part.op is None:
                values = self.lookup(part.name)
                if isinstance(values, Unknown):
                    unknown = unknown or values
                    started = True
                    continue
                if part.quoted and part.name == "@":
                    for k, value in enumerate(values):
                        if k:
                            close()
                        if isinstance(value, Unknown):
                            unknown = unknown or value
                        else:
                            current.append(value)
                        started = True
                    if not values and not current:
                        started = False
                    continue
                joined = self._join_values(values)
                if isinstance(joined, Unknown):
                    unknown = unknown or joined
                    started = True
                    continue
                if part.quoted:
                    current.append(joined)
                    started = True
                else:
                    split_into(joined) if split else current.append(joined)
                continue
            if kind is Param and part.index in ("@", "*") and part.op is None:
                values = self.lookup(part.name, part.index)
                if values is None:
                    continue
                if isinstance(values, Unknown):
                    unknown = unknown or values
                    started = True
                    continue
                if isinstance(values, str):
                    values = [values]
                if part.quoted and part.index == "@":
                    for k, value in enumerate(values):
                        if k:
                            close()
                        current.append(value)
                        started = True
                    continue
                joined = " ".join(values)
                if part.quoted:
                    current.append(joined)
                    started = True
                else:
                    split_into(joined) if split else current.append(joined)
                continue
            value = self.expand_part_text(part, word)
            if isinstance(value, Unknown):
                unknown = unknown or value
                started = True
                continue
            if part.quoted or not split:
                current.append(value)
                started = True
            else:
                split_into(value)
        close()
        self._spend(produced, word)
        if too_long:
            return self._too_long(word)
        if not split and len(fields) > 1:
            first = fields[0]
            return [Field(" ".join(f.text for f in fields), word, first.unknown, first.positional)]
        return fields

    def _spend(self, characters: int, word: Word) -> None:
        """Count what an expansion produced (before it is joined); past MAX_SHELL_EXPANSION_CHARS the
        replay stops at ``word``."""
        self.expanded += characters
        if self.expanded > MAX_SHELL_EXPANSION_CHARS:
            raise ExpansionBudget(word)

    def _too_long(self, word: Word) -> list[Field]:
        """A word whose expansion exceeds MAX_SHELL_WORD_CHARS: one unknown field, and one note at the
        first such word (a variable doubled over and over makes every later use too long as well)."""
        why = f"is longer than the {MAX_SHELL_WORD_CHARS:,} characters portlint expands in one word"
        if not self._too_long_reported:
            self._too_long_reported = True
            self._diag(UNRESOLVED, f"Expanding {short(word.text, 40)} makes more than {MAX_SHELL_WORD_CHARS:,} "
                       "characters (the budget for one word); its value is taken as unknown", word.line,
                       word.column, len(word.text.split("\n", 1)[0]),
                       hint="docs/security.md lists portlint's budgets")
        return [Field("", word, Unknown(why))]

    def _join_values(self, values):
        out = []
        for value in values:
            if isinstance(value, Unknown):
                return value
            out.append(value)
        return " ".join(out)

    def expand_joined(self, word: Word) -> str | Unknown:
        """A word expanded without field splitting (assignments, case words): text or Unknown."""
        fields = self.expand(word, split=False)
        if not fields:
            return ""
        if fields[0].unknown is not None:
            return fields[0].unknown
        return fields[0].text

    def expand_part_text(self, part, word: Word) -> str | Unknown:
        kind = type(part)
        if kind is Lit:
            return part.text
        if kind is CommandSub:
            m = QUERY.match(part.text)
            if m and (m.group(1).rsplit("/", 1)[-1] in IPTABLES_NAMES or m.group(1).rsplit("/", 1)[-1] in RESTORE_NAMES):
                return m.group(1)
            return Unknown(f"comes from the command substitution $({short(part.text, 40)})")
        if kind is Arith:
            return Unknown(f"$(({short(part.text, 30)})) is an arithmetic expansion")
        if kind is not Param:
            return Unknown("is not read by portlint")
        name, op = part.name, part.op
        if op == "?":
            return Unknown(f"uses {short(part.raw, 30)}, an expansion portlint does not evaluate", None)
        value = self.lookup(name, part.index)
        if isinstance(value, list):
            value = self._join_values(value) if part.index in ("@", "*") else (value[0] if value else "")
        if isinstance(value, Unknown) and value.name is None and not name.isdigit():
            value = Unknown(value.why, name, value.guess)
        if op is None:
            if value is None:
                if name.isdigit() and self.frames:
                    return ""
                return Unknown("is never set in the script", name)
            return value
        if op == "len":
            if value is None:
                return "0"
            if isinstance(value, Unknown):
                return value
            return str(len(value))
        if op in (":-", "-", ":=", "="):
            empty = value is None or (op.startswith(":") and value == "")
            if isinstance(value, Unknown):
                return value
            if empty:
                default = self.expand_joined(part.arg)
                if op.endswith("=") and not isinstance(default, Unknown):
                    self._set(name, default)
                return default
            return value
        if op in (":+", "+"):
            if isinstance(value, Unknown):
                return value
            empty = value is None or (op.startswith(":") and value == "")
            return "" if empty else self.expand_joined(part.arg)
        if op in (":?", "?"):
            if value is None or isinstance(value, Unknown):
                return value if isinstance(value, Unknown) else Unknown("is never set in the script", name)
            return value
        if op in ("#", "##", "%", "%%"):
            if value is None:
                return ""
            if isinstance(value, Unknown):
                return value
            pattern = self.pattern(part.arg)
            if pattern is None:
                return Unknown(f"uses {short(part.raw, 30)} with a pattern portlint cannot know", name)
            return trim(value, pattern, op)
        return Unknown(f"uses {short(part.raw, 30)}, an expansion portlint does not evaluate", name)

    # -- simple commands
