"""The ``--input-format`` option's choices, read from the registry of front ends when click asks
(so a front end registered after the commands were defined is offered too)."""

from __future__ import annotations

import click

from linter.frontends.registry import input_formats


class FormatChoice(click.Choice):
    """A click.Choice of the registered input formats; ``rulesets_only``: the firewall rulesets
    (``trace`` and ``exposure``), leaving compose projects out."""

    def __init__(self, *, rulesets_only: bool = False):
        self.rulesets_only = rulesets_only
        super().__init__(())

    @property
    def choices(self):
        return input_formats(rulesets_only=self.rulesets_only)

    @choices.setter
    def choices(self, _value) -> None:
        pass  # always read from the registry
