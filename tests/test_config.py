"""Configuration: discovery, every key, every error."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from linter.config import Config, ConfigError, PathPattern, find_config, glob_regex, load_config, parse_config
from linter.findings import Severity
from linter.model import Family
from linter.addresses import parse_address_range


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def config_of(tmp_path: Path, body: str) -> Config:
    return load_config(write(tmp_path / ".portlint.toml", body))


def error_of(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as info:
        config_of(tmp_path, body)
    return str(info.value)


# -- discovery -----------------------------------------------------------------------------------

def test_found_upward_and_dotfile_wins(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.portlint]\nfail-on = 'high'\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == (tmp_path / "pyproject.toml").resolve()
    write(tmp_path / "a" / ".portlint.toml", "fail-on = 'medium'\n")
    assert find_config(deep) == (tmp_path / "a" / ".portlint.toml").resolve()
    assert load_config(start=deep).fail_on is Severity.MEDIUM
    write(tmp_path / ".portlint.toml", "fail-on = 'info'\n")
    assert find_config(tmp_path) == (tmp_path / ".portlint.toml").resolve()


def test_pyproject_without_the_table_is_passed_over(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.portlint]\nselect = ['PL1']\n")
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'x'\n")
    assert find_config(tmp_path / "sub") == (tmp_path / "pyproject.toml").resolve()


def test_search_stops_after_the_repository_root(tmp_path):
    write(tmp_path / ".portlint.toml", "fail-on = 'high'\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    assert find_config(repo / "sub") is None
    write(repo / ".portlint.toml", "fail-on = 'low'\n")
    assert find_config(repo / "sub") == (repo / ".portlint.toml").resolve()
    assert load_config(start=repo / "sub").fail_on is Severity.LOW


def test_git_file_marks_a_root_too(tmp_path):
    write(tmp_path / ".portlint.toml", "fail-on = 'high'\n")
    write(tmp_path / "worktree" / ".git", "gitdir: /elsewhere\n")
    assert find_config(tmp_path / "worktree") is None


def test_no_file_means_defaults(tmp_path):
    (tmp_path / ".git").mkdir()
    config = load_config(start=tmp_path)
    assert config.path is None and config.fail_on is None
    assert config.enabled("PL101") and config.selected("PL402", "x.rules")


def test_named_file_and_isolated(tmp_path):
    named = write(tmp_path / "ci" / "portlint.toml", "fail-on = 'critical'\n")
    assert load_config(named).fail_on is Severity.CRITICAL
    pyproject = write(tmp_path / "pyproject.toml", "[tool.portlint]\nfail-on = 'high'\n")
    assert load_config(pyproject).fail_on is Severity.HIGH
    assert load_config(isolated=True, start=tmp_path).path is None
    with pytest.raises(ConfigError, match="cannot be used together"):
        load_config(named, isolated=True)
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml")
    bare = write(tmp_path / "other" / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.portlint\] table"):
        load_config(bare)


def test_broken_toml_names_the_file(tmp_path):
    message = error_of(tmp_path, "select = [\n")
    assert ".portlint.toml" in message and "not valid TOML" in message
    bad = write(tmp_path / "up" / "pyproject.toml", "[tool.portlint\n")
    with pytest.raises(ConfigError, match="pyproject.toml: not valid TOML"):
        find_config(bad.parent)
    write(tmp_path / "t" / "pyproject.toml", "[tool]\nportlint = 3\n")
    with pytest.raises(ConfigError, match="tool.portlint must be a table"):
        find_config(tmp_path / "t")


# -- selection -------------------------------------------------------------------------------------

def test_select_ignore_extend_select_by_specificity(tmp_path):
    config = config_of(tmp_path, """
        select = ["PL1", "PL4"]
        ignore = ["PL40"]
        extend-select = ["pl402"]
    """)
    assert config.select == ("PL1", "PL4") and config.extend_select == ("PL402",)
    assert config.enabled("PL101")
    assert not config.enabled("PL201")
    assert not config.enabled("PL401")
    assert config.enabled("PL402")  # more specific than the ignore
    everything_but = parse_config({"ignore": ["PL4"]}, Path("x.toml"))
    assert everything_but.enabled("PL101") and not everything_but.enabled("PL405")
    tie = parse_config({"select": ["PL101"], "ignore": ["PL101"]}, Path("x.toml"))
    assert not tie.enabled("PL101")


def test_per_file_ignores_relative_to_the_config_file(tmp_path, monkeypatch):
    config = config_of(tmp_path, """
        [per-file-ignores]
        "legacy/**" = ["PL1", "PL201"]
        "*.nft" = ["PL405"]
        "lab/rules.v4" = ["PL4"]
    """)
    monkeypatch.chdir(tmp_path)
    assert not config.selected("PL101", "legacy/a/b.rules")
    assert not config.selected("PL201", str(tmp_path / "legacy" / "x.rules"))
    assert config.selected("PL301", "legacy/x.rules")
    assert not config.selected("PL405", "deep/dir/fw.nft")  # no slash: matches the name
    assert not config.selected("PL401", "./lab/rules.v4")
    assert config.selected("PL401", "other/lab/rules.v4")
    monkeypatch.chdir(tmp_path / "..")
    assert not config.selected("PL101", str(Path(tmp_path.name) / "legacy" / "x.rules"))


def test_glob_patterns():
    assert glob_regex("**/*.rules").match("a/b/c.rules") and glob_regex("**/*.rules").match("c.rules")
    assert not glob_regex("*.rules").match("a/c.rules")
    assert glob_regex("fw/rules.v[46]").match("fw/rules.v6") and not glob_regex("fw/rules.v[!46]").match("fw/rules.v4")
    assert glob_regex("a?c").match("abc") and not glob_regex("a?c").match("a/c")
    assert PathPattern.of("./x/*.nft").matches("x/a.nft")


def test_severity_overrides_and_fail_on(tmp_path):
    config = config_of(tmp_path, """
        fail-on = "MEDIUM"
        [severity]
        PL4 = "high"
        PL402 = "info"
    """)
    assert config.fail_on is Severity.MEDIUM
    assert config.severity_of("PL401", Severity.MEDIUM) is Severity.HIGH
    assert config.severity_of("PL402", Severity.LOW) is Severity.INFO
    assert config.severity_of("PL101", Severity.CRITICAL) is Severity.CRITICAL


def test_input_format_by_glob(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = config_of(tmp_path, """
        [input-format]
        "firewall/*.sh" = "iptables-script"
        "*.conf" = "nftables"
    """)
    assert config.format_for("firewall/up.sh") == "iptables-script"
    assert config.format_for("etc/nftables.conf") == "nftables"
    assert config.format_for("rules.v4") is None


# -- settings ------------------------------------------------------------------------------------

def test_ephemeral_ranges(tmp_path):
    config = config_of(tmp_path, """
        ephemeral-ranges = ["1024-5000", "iana", {name = "haproxy", start = 10000, end = 20000}, {start = 7, end = 9}]
    """)
    assert config.settings().ephemeral_ranges == (("configured", 1024, 5000), ("IANA", 49152, 65535),
                                                   ("haproxy", 10000, 20000), ("7-9", 7, 9))
    assert Config().settings().ephemeral_ranges == (("Linux default", 32768, 60999),)


def test_assumptions_reach_the_settings(tmp_path):
    from linter.engine.assumptions import Assumptions

    settings = config_of(tmp_path, """
        assume = { "set:blocklist" = "empty", "match:-m owner" = "no" }
    """).settings()
    assert settings.assumed == Assumptions(sets=(("blocklist", False),), texts=(("-m owner", False),))
    assert settings.network_classes().assumed is settings.assumed


def test_interface_roles_reach_the_settings(tmp_path):
    settings = config_of(tmp_path, """
        interfaces = { internet = ["eth0", "ppp+"], internal = ["br0"] }
    """).settings()
    assert (settings.internet_interfaces, settings.internal_interfaces) == (("eth0", "ppp+"), ("br0",))
    classes = settings.network_classes()
    assert (classes.internet_interfaces, classes.internal_interfaces) == (("eth0", "ppp+"), ("br0",))


def test_trusted_networks_become_integer_ranges(tmp_path):
    config = config_of(tmp_path, """
        trusted-networks = ["203.0.113.0/24", "198.51.100.7", "2001:db8:1::/48"]
    """)
    settings = config.settings()
    v4 = [parse_address_range("198.51.100.7")[1:], parse_address_range("203.0.113.0/24")[1:]]
    assert settings.trusted_v4 == tuple(v4)
    assert settings.trusted_v6 == (parse_address_range("2001:db8:1::/48", Family.IPV6)[1:],)


def test_registry_additions_replace_entries_on_their_ports(tmp_path):
    config = config_of(tmp_path, """
        [[registry]]
        name = "billing-api"
        ports = "8443"
        transports = ["tcp"]
        category = "web"
        plaintext = false
        risk = "high"
        description = "In-house billing API"

        [[registry]]
        name = "Legacy-Telnet-Gateway"
        ports = 23
        plaintext = true
        alternative = "SSH"
        risk = "critical"
    """)
    registry = config.settings().port_registry()
    billing = registry.lookup(8443, "tcp")
    assert billing.name == "billing-api" and billing.risk == "high" and billing.description == "In-house billing API"
    telnet = registry.lookup(23, "tcp")
    assert telnet.name == "legacy-telnet-gateway" and telnet.plaintext and telnet.risk == "critical"
    assert registry.lookup(22, "tcp") is not None  # the shipped entries stay


def test_rule_options_validated_against_the_rule_file(tmp_path):
    config = config_of(tmp_path, """
        [rules.PL302]
        min_ports = 5000
        [rules.pl024]
        require_reason = true
    """)
    settings = config.settings()
    assert settings.option("PL302", "min_ports") == 5000
    assert settings.option("PL024", "require_reason") is True
    assert Config().settings().option("PL302", "min_ports") == 1000


# -- errors: each names the file and the key ------------------------------------------------------

@pytest.mark.parametrize("body, key, problem", [
    ("selct = ['PL1']", "selct", "unknown key (did you mean 'select'?)"),
    ("select = 'PL1'", "select", "expected a list of strings"),
    ("select = ['PL9']", "select", "unknown rule code or prefix 'PL9'"),
    ("ignore = ['telnet']", "ignore", "unknown rule code or prefix 'telnet'"),
    ("extend-select = [101]", "extend-select", "expected a list of strings"),
    ("fail-on = 'severe'", "fail-on", "unknown severity 'severe'"),
    ("fail-on = 3", "fail-on", "unknown severity 3"),
    ("per-file-ignores = ['x']", "per-file-ignores", "expected a table"),
    ("[per-file-ignores]\n'*.rules' = 'PL101'", "per-file-ignores.'*.rules'", "expected a list of strings"),
    ("[per-file-ignores]\n'*.rules' = ['PL777']", "per-file-ignores.'*.rules'", "unknown rule code or prefix"),
    ("[severity]\nPL101 = 'urgent'", "severity.PL101", "unknown severity 'urgent'"),
    ("[severity]\nPL999 = 'low'", "severity", "unknown rule code or prefix 'PL999'"),
    ("ephemeral-ranges = '32768-60999'", "ephemeral-ranges", "expected a list"),
    ("ephemeral-ranges = ['60999-32768']", "ephemeral-ranges[0]", "is not a port range"),
    ("ephemeral-ranges = ['1-70000']", "ephemeral-ranges[0]", "is not a port range"),
    ("ephemeral-ranges = ['lots']", "ephemeral-ranges[0]", "expected \"lo-hi\""),
    ("ephemeral-ranges = [{start = 1}]", "ephemeral-ranges[0]", "missing 'end'"),
    ("ephemeral-ranges = [{start = 1, end = 2, size = 3}]", "ephemeral-ranges[0]", "unknown key 'size'"),
    ("ephemeral-ranges = [{start = 0, end = 2}]", "ephemeral-ranges[0].start", "expected a port number"),
    ("ephemeral-ranges = [5]", "ephemeral-ranges[0]", "expected a \"lo-hi\" string"),
    ("trusted-networks = ['10.0.0.0/33']", "trusted-networks[0]", "not an IP address or prefix"),
    ("trusted-networks = '10.0.0.0/8'", "trusted-networks", "expected a list of strings"),
    ("interfaces = {wan = ['eth0']}", "interfaces.wan", "unknown key (keys: internet, internal)"),
    ("assume = {'set:x' = 'maybe'}", "assume", "'maybe' is not one of empty, all"),
    ("assume = {'x' = 'empty'}", "assume", "expected set:NAME or match:TEXT"),
    ("interfaces = {internet = ['eth 0']}", "interfaces.internet[0]", "is not an interface name"),
    ("interfaces = {internet = ['eth0'], internal = ['eth0']}", "interfaces", "'eth0' is both internet and internal"),
    ("registry = {name = 'x'}", "registry", "expected a list of tables"),
    ("[[registry]]\nname = 'x'\nports = '1'\nrisk = 'high'\ncolour = 'red'", "registry[0].colour", "unknown key"),
    ("[[registry]]\nname = 'x'\nports = '1'", "registry[0]", "missing 'risk'"),
    ("[[registry]]\nname = 'x'\nports = '0-5'\nrisk = 'high'", "registry[0]", "port out of range"),
    ("[[registry]]\nname = 'x'\nports = 'http'\nrisk = 'high'", "registry[0]", "bad port list"),
    ("[[registry]]\nname = 'x'\nports = '1'\nrisk = 'deadly'", "registry[0].risk", "unknown risk 'deadly'"),
    ("[[registry]]\nname = 'x'\nports = '1'\nrisk = 'high'\ntransports = ['icmp']", "registry[0].transports",
     "unknown transport 'icmp'"),
    ("[[registry]]\nname = 'x'\nports = '1'\nrisk = 'high'\nplaintext = 'yes'", "registry[0].plaintext",
     "expected true or false"),
    ("[[registry]]\nname = 'x'\nports = true\nrisk = 'high'", "registry[0].ports", "expected a string or a number"),
    ("[input-format]\n'*.x' = 'pf'", "input-format.'*.x'", "unknown input format 'pf'"),
    ("[rules.PL999]\nx = 1", "rules.PL999", "unknown rule code"),
    ("[rules.PL302]\nmin_port = 1", "rules.PL302.min_port", "unknown option (did you mean 'min_ports'?)"),
    ("[rules.PL101]\nanything = 1", "rules.PL101.anything", "the rule has no options"),
    ("[rules.PL302]\nmin_ports = 'many'", "rules.PL302.min_ports", "expected a value like the default 1000"),
    ("[rules.PL302]\nmin_ports = true", "rules.PL302.min_ports", "expected a value like the default"),
    ("[rules.PL024]\nrequire_reason = 1", "rules.PL024.require_reason", "expected a value like the default False"),
    ("rules = 5", "rules", "expected a table"),
])
def test_bad_values_name_the_file_and_the_key(tmp_path, body, key, problem):
    message = error_of(tmp_path, body)
    # file:line: key: problem (the line where the key is written)
    assert re.match(rf"{re.escape(str(tmp_path / '.portlint.toml'))}:\d+: {re.escape(key)}: ", message), message
    assert problem in message
