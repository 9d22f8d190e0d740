"""ufw commands in shell scripts: ufw's syntax, the rules ufw writes for them, and the script's state."""

from __future__ import annotations

import textwrap

import pytest

from linter.frontends import FrontEndOptions
from linter.frontends.iptables.script import parse
from linter.frontends.ufw import UfwError, UfwState, parse_command
from linter.frontends.ufw.commands import (
    AddRule, DeleteNumber, DeleteRule, Endpoint, Ignored, Reset, SetDefault, SetEnabled, UfwRule,
)
from linter.frontends.ufw.profiles import application, service
from linter.frontends.ufw.rules import iptables_lines
from linter.frontends.ufw.settings import read_defaults
from linter.model import Family, Policy, Span
from linter.readpolicy import ReadPolicy
from linter.source import SourceFile

PATH = "provision.sh"


def script(text: str, path: str = PATH):
    return parse(SourceFile(path, textwrap.dedent(text).lstrip("\n")))


def user_rules(result, family: Family = Family.IPV4, chain: str = "input"):
    prefix = "ufw6" if family is Family.IPV6 else "ufw"
    found = result.document.table("filter", family).chain(f"{prefix}-user-{chain}")
    return [(r.text, r.span.line) for r in found.rules]


# --- syntax -----------------------------------------------------------------------------------


@pytest.mark.parametrize("words,expected", [
    ("allow 22/tcp", AddRule(UfwRule("allow", protocol="tcp", destination=Endpoint(port="22")))),
    ("allow 22", AddRule(UfwRule("allow", destination=Endpoint(port="22")))),
    ("allow ssh", AddRule(UfwRule("allow", protocol="tcp", destination=Endpoint(port="22")))),
    ("deny http/tcp", AddRule(UfwRule("deny", protocol="tcp", destination=Endpoint(port="80")))),
    ("allow Nginx Full", AddRule(UfwRule("allow", destination=Endpoint(app="Nginx Full")))),
    ("limit in on eth0 log 22/tcp", AddRule(UfwRule("limit", "in", "eth0", protocol="tcp",
                                                    destination=Endpoint(port="22")))),
    ("allow from 10.0.0.0/8 to any port 5432 proto tcp",
     AddRule(UfwRule("allow", protocol="tcp", source=Endpoint("10.0.0.0/8"), destination=Endpoint(port="5432")))),
    ("allow proto udp from 192.168.1.5 port 53 to 10.0.0.1 port 53",
     AddRule(UfwRule("allow", protocol="udp", source=Endpoint("192.168.1.5/32", "53"),
                     destination=Endpoint("10.0.0.1/32", "53")))),
    ("allow out on eth1 to any port 25 proto tcp",
     AddRule(UfwRule("allow", "out", None, "eth1", "tcp", destination=Endpoint(port="25")))),
    ("route allow in on eth0 out on eth1 to 10.0.0.5 port 80 proto tcp",
     AddRule(UfwRule("allow", "route", "eth0", "eth1", "tcp", destination=Endpoint("10.0.0.5/32", "80")))),
    ("insert 1 deny from 203.0.113.9", AddRule(UfwRule("deny", source=Endpoint("203.0.113.9/32")), 1)),
    ("prepend deny from 203.0.113.9", AddRule(UfwRule("deny", source=Endpoint("203.0.113.9/32")), 0)),
    ("allow 80,443/tcp comment web", AddRule(UfwRule("allow", protocol="tcp", destination=Endpoint(port="80,443")))),
    ("allow 6000:6007/tcp", AddRule(UfwRule("allow", protocol="tcp", destination=Endpoint(port="6000:6007")))),
    ("delete allow 22/tcp", DeleteRule(UfwRule("allow", protocol="tcp", destination=Endpoint(port="22")))),
    ("delete 3", DeleteNumber(3)),
    ("default deny incoming", SetDefault("incoming", "DROP")),
    ("default allow outgoing", SetDefault("outgoing", "ACCEPT")),
    ("default reject routed", SetDefault("routed", "REJECT")),
    ("default deny", SetDefault("incoming", "DROP")),
    ("enable", SetEnabled(True)),
    ("--force enable", SetEnabled(True)),
    ("disable", SetEnabled(False)),
    ("--force reset", Reset()),
    ("status verbose", Ignored()),
    ("--dry-run allow 23", Ignored()),
    ("app list", Ignored()),
])
def test_commands(words, expected):
    split = ["Nginx Full" if w == "Nginx_Full" else w for w in words.replace("Nginx Full", "Nginx_Full").split()]
    assert parse_command(split) == expected


@pytest.mark.parametrize("words,message,index", [
    ("allow 70000/tcp", "bad port '70000'", 1),
    ("allow 1000:2000", "a port range or list needs a protocol (tcp or udp)", 1),
    ("allow 22/icmp", "unknown protocol 'icmp'", 1),
    ("allow nosuchservice", "'nosuchservice' is no port, /etc/services name or application profile portlint knows", 1),
    ("allow from 10.0.0.300", "'10.0.0.300' is no address or network", 2),
    ("default deny sideways", "unknown direction 'sideways' (incoming, outgoing or routed)", 2),
    ("frobnicate", "unknown ufw command 'frobnicate'", 0),
    ("insert x allow 22", "ufw insert needs a rule number (1 or more)", 1),
])
def test_refused_commands(words, message, index):
    with pytest.raises(UfwError) as caught:
        parse_command(words.split())
    assert str(caught.value).startswith(message)
    assert caught.value.index == index


def test_profiles_and_services_are_data():
    assert application("OpenSSH") == ("OpenSSH", (("tcp", "22"),))
    assert application("nginx full") == ("Nginx Full", (("tcp", "80,443"),))
    assert application("Samba") == ("Samba", (("udp", "137,138"), ("tcp", "139,445")))
    assert application("No Such App") is None
    assert service("telnet") == (23, ("tcp",))
    assert service("domain") == (53, ("tcp", "udp"))


def test_rules_as_ufw_writes_them():
    limit = UfwRule("limit", protocol="tcp", destination=Endpoint(port="22"))
    assert iptables_lines(limit, False) == [
        "-A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name DEFAULT "
        "--mask 255.255.255.255 --rsource",
        "-A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 30 "
        "--hitcount 6 --name DEFAULT --mask 255.255.255.255 --rsource -j ufw-user-limit",
        "-A ufw-user-input -p tcp -m tcp --dport 22 -j ufw-user-limit-accept",
    ]
    app = UfwRule("allow", destination=Endpoint(app="Nginx Full"))
    assert iptables_lines(app, True) == [
        '-A ufw6-user-input -p tcp -m multiport --dports 80,443 -m comment --comment dapp_Nginx%20Full -j ACCEPT']
    both = UfwRule("reject", destination=Endpoint(port="53"))
    assert iptables_lines(both, False) == [
        "-A ufw-user-input -p tcp -m tcp --dport 53 -j REJECT --reject-with tcp-reset",
        "-A ufw-user-input -p udp -m udp --dport 53 -j REJECT"]


# --- scripts ----------------------------------------------------------------------------------


def test_ufw_script_builds_ufw_chains_with_spans_at_the_commands():
    result = script("""
        #!/bin/sh
        ufw default deny incoming
        ufw allow 22/tcp
        ufw allow from 10.0.0.0/8 to any port 5432 proto tcp
        ufw deny 23
        ufw --force enable
    """)
    assert [d.code for d in result.diagnostics] == []
    assert user_rules(result) == [
        ("-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT", 3),
        ("-A ufw-user-input -s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j ACCEPT", 4),
        ("-A ufw-user-input -p tcp -m tcp --dport 23 -j DROP", 5),
        ("-A ufw-user-input -p udp -m udp --dport 23 -j DROP", 5),
    ]
    assert user_rules(result, Family.IPV6) == [
        ("-A ufw6-user-input -p tcp -m tcp --dport 22 -j ACCEPT", 3),
        ("-A ufw6-user-input -p tcp -m tcp --dport 23 -j DROP", 5),
        ("-A ufw6-user-input -p udp -m udp --dport 23 -j DROP", 5),
    ]
    first = result.document.table("filter", Family.IPV4).chain("ufw-user-input").rules[0]
    assert first.span == Span(PATH, 3, 1, 3, 16)
    inp = result.document.table("filter", Family.IPV4).chain("INPUT")
    assert inp.policy is Policy.DROP and inp.span.line == 2  # the `ufw default deny incoming` line
    assert [r.text for r in inp.rules] == [f"-A INPUT -j ufw-{s}-input" for s in
                                           ("before-logging", "before", "after", "after-logging", "reject", "track")]
    assert {r.span.line for r in inp.rules} == {6}  # the framework comes with `ufw enable`
    before = [r.text for r in result.document.table("filter", Family.IPV4).chain("ufw-before-input").rules]
    assert before[0] == "-A ufw-before-input -i lo -j ACCEPT"
    assert before[-1] == "-A ufw-before-input -j ufw-user-input"
    assert result.document.family is Family.INET


def test_insert_delete_and_duplicates_follow_ufw():
    result = script("""
        ufw allow 80/tcp
        ufw allow 443/tcp
        ufw allow 80/tcp
        ufw insert 1 deny from 203.0.113.9
        ufw delete allow 443/tcp
        ufw allow 8080/tcp
        ufw delete 2
        ufw enable
    """)
    # status numbered before `delete 2`: [1] deny 203.0.113.9, [2] 80/tcp, [3] 8080/tcp, then the v6 ones
    assert user_rules(result) == [("-A ufw-user-input -s 203.0.113.9/32 -j DROP", 4),
                                  ("-A ufw-user-input -p tcp -m tcp --dport 8080 -j ACCEPT", 6)]
    assert user_rules(result, Family.IPV6) == [("-A ufw6-user-input -p tcp -m tcp --dport 80 -j ACCEPT", 1),
                                               ("-A ufw6-user-input -p tcp -m tcp --dport 8080 -j ACCEPT", 6)]
    assert [(d.code, d.span.line, d.message) for d in result.diagnostics] == [
        ("PL050", 3, "ufw: ufw skips adding an existing rule")]


def test_default_policies_and_reject():
    result = script("""
        ufw default allow incoming
        ufw default reject routed
        ufw allow 22/tcp
        ufw enable
    """)
    table = result.document.table("filter", Family.IPV4)
    assert table.chain("INPUT").policy is Policy.ACCEPT and table.chain("INPUT").span.line == 1
    assert table.chain("FORWARD").policy is Policy.DROP
    assert [r.text for r in table.chain("ufw-reject-forward").rules] == ["-A ufw-reject-forward -j REJECT"]
    assert [r.text for r in table.chain("ufw-skip-to-policy-input").rules] == [
        "-A ufw-skip-to-policy-input -j ACCEPT"]


def test_route_and_out_rules_go_to_their_chains():
    result = script("""
        ufw route allow in on eth0 out on eth1 to 10.0.0.5 port 80 proto tcp
        ufw allow out 53
        ufw enable
    """)
    assert user_rules(result, chain="forward") == [
        ("-A ufw-user-forward -d 10.0.0.5/32 -i eth0 -o eth1 -p tcp -m tcp --dport 80 -j ACCEPT", 1)]
    assert user_rules(result, Family.IPV6, chain="forward") == []
    assert user_rules(result, chain="output") == [("-A ufw-user-output -p tcp -m tcp --dport 53 -j ACCEPT", 2),
                                                  ("-A ufw-user-output -p udp -m udp --dport 53 -j ACCEPT", 2)]


def test_never_enabled_is_read_as_enabled_and_said():
    result = script("ufw allow 23/tcp\n")
    assert user_rules(result) == [("-A ufw-user-input -p tcp -m tcp --dport 23 -j ACCEPT", 1)]
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("PL050", 1)]
    assert "never runs `ufw enable`" in result.diagnostics[0].message


def test_disabled_at_the_end_is_no_firewall():
    result = script("ufw allow 22/tcp\nufw enable\nufw disable\n")
    assert result.document.tables == ()
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("PL050", 3)]
    assert "no ufw firewall" in result.diagnostics[0].message


def test_refused_and_unknown_commands_are_findings_not_rules():
    result = script("""
        ufw allow 70000/tcp
        ufw allow "$PORT"
        ufw allow 'Nginx Fullest'
        ufw enable
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [
        ("PL011", 1, 11), ("PL050", 2, 11), ("PL011", 3, 11)]
    assert user_rules(result) == []


def test_etc_default_ufw_in_the_tree(tmp_path):
    (tmp_path / "etc" / "default").mkdir(parents=True)
    (tmp_path / "etc" / "default" / "ufw").write_text('IPV6=no\nDEFAULT_INPUT_POLICY="ACCEPT"\n'
                                                      'DEFAULT_FORWARD_POLICY="DROP"\n')
    (tmp_path / "scripts").mkdir()
    path = tmp_path / "scripts" / "setup.sh"
    path.write_text("ufw allow 22/tcp\nufw enable\n")
    alone = parse(SourceFile(str(path), path.read_text()))  # only the script's own directory may be read
    assert alone.document.table("filter", Family.IPV4).chain("INPUT").policy is Policy.DROP
    tree = FrontEndOptions(read_policy=ReadPolicy.for_paths([str(tmp_path)]))
    result = parse(SourceFile(str(path), path.read_text()), tree)
    assert result.document.table("filter", Family.IPV4).chain("INPUT").policy is Policy.ACCEPT
    assert result.document.table("filter", Family.IPV6) is None
    assert read_defaults(str(tmp_path / "etc" / "default" / "ufw")).policies == {"incoming": "ACCEPT",
                                                                                 "routed": "DROP"}


# --- detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("#!/bin/sh\nufw allow 22/tcp\n", "iptables-script"),
    ("sudo ufw --force enable\n", "iptables-script"),
    ("  /usr/sbin/ufw default deny incoming\n", "iptables-script"),
    ("docker run -d -p 5432:5432 postgres\n", "iptables-script"),
    ("docker run -d \\\n  --name db \\\n  -p 5432:5432 postgres\n", "iptables-script"),
    ("podman container run --publish=80:80 nginx\n", "iptables-script"),
    ("docker run -dP nginx\n", "iptables-script"),
    ("ufw status verbose\n", None),
    ("docker run --rm alpine echo hi\n", None),
    ("# ufw allow 22\n# docker run -p 1:1 x\necho done\n", None),
])
def test_scripts_of_ufw_and_docker_run_are_recognised(text, expected):
    from linter.detect import detect_format

    assert detect_format("setup", text) == expected


def test_port_lists_sorted_services_decide_protocol_and_slash_zero_is_any():
    assert parse_command("allow 23,21,15:19,13/tcp".split()) == AddRule(
        UfwRule("allow", protocol="tcp", destination=Endpoint(port="13,15:19,21,23")))
    assert parse_command("allow to any port smtp".split()) == AddRule(
        UfwRule("allow", protocol="tcp", destination=Endpoint(port="25")))
    assert parse_command("allow to any port domain".split()) == AddRule(
        UfwRule("allow", destination=Endpoint(port="53")))
    assert parse_command("allow from 192.168.0.0/0".split()) == AddRule(UfwRule("allow"))
    with pytest.raises(UfwError, match="no udp port"):
        parse_command("allow to any port smtp proto udp".split())
    both = UfwRule("allow", source=Endpoint(app="Apache"), destination=Endpoint(app="Apache Full"))
    assert iptables_lines(both, False) == [
        "-A ufw-user-input -p tcp -m multiport --sports 80 --dports 80,443 -m comment --comment "
        "dapp_Apache%20Full,sapp_Apache -j ACCEPT"]


# --- what the kernel's tools say of the generated rules ----------------------------------------


UFW_COMMANDS = {
    False: ["default deny incoming", "default reject routed", "limit OpenSSH", "allow 3389/tcp", "reject 53",
            "allow from 192.168.10.0/24 to any port 9100 proto tcp", "deny 23,25,110:111/tcp",
            "route allow in on eth0 out on eth1 to 10.0.0.5 port 80 proto tcp", "allow out 25/tcp", "enable"],
    True: ["limit 22/tcp", "allow from 2001:db8::/32 to any port 9100 proto tcp", "default allow incoming",
           "enable"],
}


@pytest.mark.parametrize("ipv6", [False, True], ids=["ipv4", "ipv6"])
def test_generated_rules_load_into_a_fresh_namespace(ipv6):
    """The iptables-restore text portlint builds for ufw is what iptables 1.8 accepts and loads
    (in a throwaway network namespace: the host's firewall is never touched)."""
    from tests.test_samples_are_real import _Namespace, _require_root, _require_tool

    _require_root()
    ip = _require_tool("ip")
    restore = _require_tool("ip6tables-restore" if ipv6 else "iptables-restore")
    state = UfwState()
    for command in UFW_COMMANDS[ipv6]:
        state.apply(parse_command(command.split()), None)
    state.apply(AddRule(UfwRule("allow", destination=Endpoint(app="Nginx Full"))), None)
    text = "\n".join(line for _, line in state.restore_lines(ipv6)) + "\n"
    namespace = _Namespace(ip)
    try:
        namespace.create()
        if namespace.run([restore], "*filter\nCOMMIT\n").returncode != 0:
            pytest.skip(f"{restore} cannot load an empty table here")
        loaded = namespace.run([restore], text)
        assert loaded.returncode == 0, loaded.stderr
        saved = namespace.run([restore.replace("-restore", "-save")])
        assert saved.stdout.count("\n-A ") == text.count("\n-A ")
    finally:
        namespace.delete()
