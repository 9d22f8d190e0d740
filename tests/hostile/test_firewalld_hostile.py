"""Hostile firewalld input: a finding at its place, never a traceback, the rest still read."""

from __future__ import annotations

from linter.checks import Settings
from linter.pipeline import lint_file


def _found(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    result = lint_file(str(path), Settings())
    assert not any(f.code == "PL009" for f in result.findings), result.findings
    return sorted((f.code, f.line) for f in result.findings)


def test_billion_laughs_is_refused(tmp_path):
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10 if i else "lol"}">\n' for i in range(10))
    text = f'<?xml version="1.0"?>\n<!DOCTYPE zone [\n{entities}]>\n<zone><service name="&l9;"/></zone>\n'
    assert _found(tmp_path, "public.xml", text) == [("PL071", 2)]


def test_external_entities_are_refused(tmp_path):
    text = '<?xml version="1.0"?>\n<!DOCTYPE zone SYSTEM "file:///etc/passwd">\n<zone/>\n'
    assert _found(tmp_path, "public.xml", text) == [("PL071", 2)]


def test_deep_nesting_is_one_finding(tmp_path):
    text = "<zone>" + "<a>" * 5000 + "</a>" * 5000 + "</zone>"
    assert _found(tmp_path, "public.xml", text) == [("PL010", 1)]


def test_absurd_values_are_invalid_values(tmp_path):
    text = ('<zone target="">\n  <port port="9' + "9" * 100 + '" protocol="tcp"/>\n  <port port="-5" protocol="tcp"/>\n'
            '  <port port="22" protocol="icmp"/>\n  <source address="999.1.1.1"/>\n'
            '  <forward-port port="80" protocol="tcp" to-addr="not-an-address"/>\n'
            '  <rule priority="99999999999999"><accept/></rule>\n  <rule family="ipx"><accept/></rule>\n'
            '  <interface/>\n  <service/>\n  <port port="23" protocol="tcp"/>\n</zone>\n')
    assert _found(tmp_path, "public.xml", text) == [
        ("PL011", 1), ("PL011", 2), ("PL011", 3), ("PL011", 4), ("PL011", 5), ("PL011", 6), ("PL011", 7),
        ("PL011", 8), ("PL011", 9), ("PL011", 10), ("PL101", 11)]


def test_services_including_each_other_end(tmp_path):
    top = tmp_path / "firewalld"
    (top / "zones").mkdir(parents=True)
    (top / "services").mkdir()
    for index in range(60):
        (top / "services" / f"s{index}.xml").write_text(
            f'<service><port port="{1000 + index}" protocol="tcp"/><include service="s{(index + 1) % 60}"/></service>')
    (top / "zones" / "public.xml").write_text('<zone>\n  <service name="s0"/>\n</zone>\n')
    from linter.frontends import FrontEndOptions
    from linter.readpolicy import ReadPolicy

    result = lint_file(str(top / "zones" / "public.xml"), Settings(),
                       options=FrontEndOptions(read_policy=ReadPolicy.for_paths([str(top)])))
    assert result.document is not None and not any(f.code == "PL009" for f in result.findings)


def test_hostile_firewall_cmd_words(tmp_path):
    text = ("firewall-cmd --add-rich-rule='rule family=\"ipv4\" source address=\"1.2.3.4 accept'\n"
            "firewall-cmd --add-port=99999/tcp\nfirewall-cmd --add-forward-port=port=a:proto=tcp\n"
            "firewall-cmd --zone=nosuch --add-service=ssh\nfirewall-cmd --bogus --add-service=telnet\n"
            "firewall-cmd --set-target=EVIL\nfirewall-cmd --add-rich-rule\n")
    # The built-in public zone's ssh points at the first firewall-cmd command (PL201 info on line 1).
    assert _found(tmp_path, "fw.sh", text) == [
        ("PL011", 1), ("PL011", 2), ("PL011", 3), ("PL011", 4), ("PL011", 6), ("PL011", 7), ("PL012", 5),
        ("PL101", 5), ("PL201", 1)]


def test_bom_and_crlf_keep_lines(tmp_path):
    path = tmp_path / "public.xml"
    path.write_bytes(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\r\n<zone>\r\n  <short>P</short>\r\n'
                     b'  <service name="telnet"/>\r\n</zone>\r\n')
    result = lint_file(str(path), Settings())
    assert [(f.code, f.line, f.column) for f in result.findings] == [("PL101", 4, 3)]


def test_a_declared_latin1_encoding_is_read_as_the_decoded_text(tmp_path):
    path = tmp_path / "public.xml"
    path.write_text('<?xml version="1.0" encoding="ISO-8859-1"?>\n<zone>\n  <short>Öffentlich</short>\n'
                    '  <service name="telnet"/>\n</zone>\n', encoding="utf-8")
    assert _found(tmp_path, "public.xml", path.read_text(encoding="utf-8")) == [("PL101", 4)]
