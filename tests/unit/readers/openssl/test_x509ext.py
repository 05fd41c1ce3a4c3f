"""x509ext unit tests: DER values for the common cases and error locations.

Byte-for-byte agreement with OpenSSL is the corpus's job
(test_openssl_corpus.py); these pin small encodings and the interface.
"""

import hashlib

import pytest

from mkcert.errors import ConfigError
from mkcert.readers.openssl.syntax import parse
from mkcert.request import KeyContext
from mkcert.readers.openssl.extensions.general_names import parse_ip_address
from mkcert.readers.openssl.extensions.section import extensions_from_config
from mkcert.readers.openssl.extensions.values import parse_list

CONTEXT = KeyContext(public_key_info=b"", public_key_bits=b"key bits",
                     subject=bytes.fromhex("300f310d300b06035504030c046d61696c"), serial=5,
                     public_key_bits_sha1=hashlib.sha1(b"key bits").digest(),
                     public_key_info_sha1=hashlib.sha1(b"").digest())


def extensions(body):
    config = parse("[e]\n" + body, "ext.cnf")
    return extensions_from_config(config, "e")


def values(body):
    return [(e.oid, e.critical, e.value(CONTEXT)) for e in extensions(body)]


def test_no_section_means_no_extensions():
    assert extensions_from_config(parse("", "x"), None) == ()


def test_ns_cert_type_server_then_key_identifier():
    assert values("nsCertType = server\n") == [
        ("2.16.840.1.113730.1.1", False, bytes.fromhex("03020640")),
        ("2.5.29.14", False, bytes.fromhex("0414") + hashlib.sha1(b"key bits").digest()),
    ]


def test_critical_prefix_and_basic_constraints():
    assert values("basicConstraints = critical, CA:true, pathlen:0\n")[0] == (
        "2.5.29.19", True, bytes.fromhex("30060101ff020100"))


def test_subject_key_identifier_none_is_left_out():
    assert values("subjectKeyIdentifier = none\n") == [("2.5.29.14", False, None)]


def test_subject_alt_name():
    value = values("subjectAltName = DNS:a.example, IP:192.0.2.1\n")[0][2]
    assert value == bytes.fromhex("3011820961") + b".example" + bytes.fromhex("8704c0000201")


def test_unknown_extension_names_its_line():
    with pytest.raises(ConfigError) as caught:
        extensions("nsCertType = server\nfrobnicate = yes\n")
    assert (caught.value.path, caught.value.line) == ("ext.cnf", 3)


def test_parse_list_like_openssl():
    assert parse_list("a:b, c ,d:e:f") == [("a", "b"), ("c", None), ("d", "e:f")]
    with pytest.raises(ValueError):
        parse_list("a:, b")


@pytest.mark.parametrize("text,expected", [
    ("1.2.3.4", "01020304"), ("::1", "0" * 30 + "01"), ("::", "0" * 32),
    ("::ffff:1.2.3.4", "0" * 20 + "ffff01020304"), ("1.2.3.4 trailing", "01020304"),
])
def test_ip_addresses(text, expected):
    assert parse_ip_address(text).hex() == expected


@pytest.mark.parametrize("text", ["1.2.3", "256.1.1.1", "1:2:3", ":::", "1::2::3", "x::1"])
def test_bad_ip_addresses(text):
    assert parse_ip_address(text) is None
