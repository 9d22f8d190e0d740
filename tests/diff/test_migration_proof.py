"""Migration proof: an iptables ruleset and its nft translation (iptables-restore-translate)
accept exactly the same space, so their diff is empty: the samples and the kernel test's random
rulesets. Translations the translator refuses, leaves as comments or gets wrong (known bugs,
tests/equivalence) are not comparable and are skipped by name."""

from __future__ import annotations

import shutil

import pytest

from linter.diff.compute import compute_diff
from linter.frontends import parse_source
from linter.source import decode
from tests.diff import pairs

needs_translator = pytest.mark.skipif(shutil.which("iptables-restore-translate") is None,
                                reason="iptables-restore-translate is not installed (Debian: iptables)")

RANDOM_RULESETS = 100


def read(text: str, path: str, fmt: str) -> list:
    return [parse_source(decode(path, text.encode()), fmt).document]


def assert_same_exposure(text: str, path: str) -> bool:
    from tests.equivalence.test_translate_equivalence import translate, why_not_comparable

    translation = translate(text)
    if why_not_comparable(text, translation):
        return False
    diff = compute_diff(read(text, path, "iptables-save"), read(translation.text, path + ".nft", "nftables"))
    assert diff.empty, (path, [(c.kind, c.exposure.protocol, c.exposure.ports, c.exposure.reach)
                               for c in diff.opened + diff.closed])
    return True


@needs_translator
@pytest.mark.parametrize("name", ["BASE", "MYSQL_OPENED", "MOVED_BELOW_CATCH_ALL", "DNAT_ADDED"])
def test_pairs_and_their_translations(name):
    assert assert_same_exposure(getattr(pairs, name), f"{name.lower()}.rules")


@needs_translator
def test_a_translation_is_not_the_changed_ruleset():
    """The proof has teeth: the translation of the old ruleset against the new one differs."""
    from tests.equivalence.test_translate_equivalence import translate

    old = read(translate(pairs.BASE).text, "base.nft", "nftables")
    diff = compute_diff(old, read(pairs.MYSQL_OPENED, "new.rules", "iptables-save"))
    assert [(c.kind, c.exposure.ports, c.exposure.reach) for c in diff.opened] == [
        ("opened", ((3306, 3306),), "internet"), ("opened", ((3306, 3306),), "private")]
    assert diff.closed == ()


@needs_translator
def test_random_rulesets_and_their_translations():
    from tests.kernel.generator import generate_ruleset

    compared = 0
    for seed in range(RANDOM_RULESETS):
        compared += assert_same_exposure(generate_ruleset(seed).text, f"random-{seed}.rules")
    assert compared >= RANDOM_RULESETS // 2  # most translations are comparable


def test_each_sample_script_and_its_iptables_save_give_an_empty_diff():
    """A shell script of iptables commands against the iptables-save dump it produces."""
    from click.testing import CliRunner

    from linter.cli import main
    from tests.conftest import SAMPLES

    names = sorted(p.stem for p in SAMPLES.glob("*.rules"))
    assert names
    for name in names:
        result = CliRunner().invoke(main, ["diff", str(SAMPLES / "scripts" / f"{name}.sh"),
                                           str(SAMPLES / f"{name}.rules")], catch_exceptions=False)
        assert (name, result.exit_code, result.output) == (
            name, 0, "No change in exposure: both sides accept exactly the same new connections.\n")
