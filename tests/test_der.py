"""The hand-written DER reader and writer, checked against ``openssl asn1parse``."""

import pytest

from conftest import openssl
from mkcert.asn1 import der, general_names


def parsed_by_openssl(encoded, tmp_path):
    path = tmp_path / "value.der"
    path.write_bytes(encoded)
    return openssl("asn1parse", "-inform", "DER", "-in", path).stdout


def test_members_and_content_of_a_sequence(tmp_path):
    value = der.sequence(der.integer(5), der.octet_string(b"ab"), der.boolean(True))
    printed = parsed_by_openssl(value, tmp_path)
    assert "INTEGER           :05" in printed and "OCTET STRING      :ab" in printed
    assert der.members(value) == [der.integer(5), der.octet_string(b"ab"), der.boolean(True)]
    assert der.content(value) == b"".join(der.members(value))


def test_content_ignores_what_follows_and_members_of_nothing():
    assert der.content(der.octet_string(b"xy") + b"\x05\x00") == b"xy"
    assert der.members(der.sequence()) == []


@pytest.mark.parametrize("damaged", [b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x84\xff\xff\xff\xff",
                                     der.sequence(b"\x02\x05\x01")])
def test_damaged_der_is_a_value_error(damaged):
    with pytest.raises(ValueError):
        der.members(damaged)


def test_general_names_as_openssl_reads_them(tmp_path):
    names = general_names.general_names([
        general_names.dns_name(b"mail.example"),
        general_names.rfc822_name(b"postmaster@mail.example"),
        general_names.uri(b"https://mail.example/"),
        general_names.ip_address(bytes([192, 0, 2, 1])),
        general_names.registered_id("1.2.3.4"),
        general_names.other_name("1.3.6.1.5.5.7.8.5", der.tlv(0x0C, b"a@mail.example")),
    ])
    printed = parsed_by_openssl(names, tmp_path)
    top_level = [line.split(":", 2)[1].split()[-1] + " " + line.split(":", 2)[2].strip()
                 for line in printed.splitlines() if "d=1" in line]
    # RFC 5280's implicit tags: the strings and the OID primitive, otherName constructed
    assert top_level == ["prim cont [ 2 ]", "prim cont [ 1 ]", "prim cont [ 6 ]",
                         "prim cont [ 7 ]", "prim cont [ 8 ]", "cons cont [ 0 ]"], printed
    assert "OBJECT            :XmppAddr" in printed
    assert "UTF8STRING        :a@mail.example" in printed
    assert [general_names.choice(n) for n in general_names.entries(names)] == [2, 1, 6, 7, 8, 0]
    assert general_names.entries(der.sequence(der.integer(1))) is None
