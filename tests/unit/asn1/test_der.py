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


def openssl_der(item, tmp_path):
    """The DER ``openssl asn1parse -genstr`` makes of one ASN1_generate_nconf item."""
    path = tmp_path / "generated.der"
    openssl("asn1parse", "-genstr", item, "-noout", "-out", path)
    return path.read_bytes()


@pytest.mark.parametrize("dotted", ["2.5.29.17", "1.2.840.113549.1.1.10", "2.999.3",
                                    "0.39.127.128.16383.16384", "1.3.6.1.4.1.311.60.2.1.3"])
def test_read_oid_reads_what_openssl_writes(dotted, tmp_path):
    encoded = openssl_der(f"OID:{dotted}", tmp_path)
    assert der.read_oid(encoded) == dotted
    assert der.oid(dotted) == encoded


def test_read_oid_of_damaged_content():
    """A damaged certificate shows what its bytes say rather than failing (the tag is not checked)."""
    assert der.read_oid(b"\x06\x00") == ""
    assert der.read_oid(b"\x06\x03\x55\x1d\x91") == "2.5.29"  # a last arc cut short
    assert der.read_oid(b"\x04\x03\x55\x1d\x11") == "2.5.29.17"


@pytest.mark.parametrize("item, tag, content", [
    ("UTCTIME:491231235959Z", der.UTC_TIME, b"491231235959Z"),
    ("GENTIME:20500101000000Z", der.GENERALIZED_TIME, b"20500101000000Z"),
    ("UTF8:mail.example", 0x0C, b"mail.example"),
])
def test_tag_and_content_as_openssl_encodes(item, tag, content, tmp_path):
    encoded = openssl_der(item, tmp_path)
    assert der.tag_and_content(encoded) == (tag, content)


def test_context_tags_as_openssl_encodes_them(tmp_path):
    config = tmp_path / "tags.cnf"
    config.write_text("asn1 = SEQUENCE:fields\n[fields]\nversion = EXPLICIT:0,INTEGER:2\n"
                      "extensions = EXPLICIT:3,SEQUENCE:empty\nsalt = IMPLICIT:2,INTEGER:20\n"
                      "[empty]\n")
    path = tmp_path / "tags.der"
    openssl("asn1parse", "-genconf", config, "-noout", "-out", path)
    version, extensions, salt = der.members(path.read_bytes())
    assert version[0] == der.context_tag(0) and extensions[0] == der.context_tag(3)
    assert salt[0] == der.context_tag(2, constructed=False)
    assert version == der.context(0, der.integer(2))
    assert salt == der.context(2, der.integer(20)[2:], constructed=False)


@pytest.mark.parametrize("damaged", [b"", b"\x06", b"\x06\x05\x2a", b"\x17\x81"])
def test_damaged_der_is_a_value_error_for_every_reader(damaged):
    for read in (der.read_oid, der.tag_and_content, der.content):
        with pytest.raises(ValueError):
            read(damaged)
