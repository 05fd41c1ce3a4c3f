"""Our encodings of EC and Ed25519 keys are cryptography's (and so OpenSSL's) own.

mkcert.x509.key_types lays out the keys' PEM and SubjectPublicKeyInfo from
their numbers so the command never imports cryptography's serialization
package; here every layout is compared with ``private_bytes`` and
``public_bytes`` on whichever stack runs the tests (Debian's too:
tests/differential/test_debian_python.py reruns this module).
"""

import pytest
from cryptography.hazmat.primitives import serialization

from mkcert.readers.key_type import parse_key_type
from mkcert.request import KeySpec
from mkcert.x509.key_types import (describe_key, generate_key, key_spec_of, key_type_of,
                                   private_key_pem, public_key_info, start_key)

TYPES = ["ec", "ec:P-384", "ec:P-521", "ed25519"]


@pytest.mark.parametrize("text", TYPES)
def test_pkcs8_is_cryptographys(text):
    key = generate_key(parse_key_type(text))
    expected = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    assert private_key_pem(key, key_spec_of(key, "openssl")) == expected


@pytest.mark.parametrize("text", ["ec", "ec:P-384", "ec:P-521"])
def test_sec1_is_cryptographys_traditional_form(text):
    key = generate_key(parse_key_type(text))
    expected = key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())
    assert private_key_pem(key, key_spec_of(key, "gnutls")) == expected


@pytest.mark.parametrize("text", TYPES + ["rsa:1024"])
def test_public_key_info_is_cryptographys(text):
    key = generate_key(parse_key_type(text))
    expected = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key_info(key.public_key()) == expected


@pytest.mark.parametrize("text, description", [("ec", "EC P-256"), ("ec:P-521", "EC P-521"),
                                               ("ed25519", "Ed25519"), ("rsa:1024", "RSA 1024")])
def test_key_type_of_a_key_is_the_one_it_was_made_as(text, description):
    key_type = parse_key_type(text)
    key = generate_key(key_type)
    assert key_type_of(key) == key_type_of(key.public_key()) == key_type
    assert describe_key(key) == description


def test_an_ec_key_is_ready_at_once():
    with start_key(KeySpec("ec", None, "pkcs8", "P-256")) as pending:
        assert key_type_of(pending.result()) == parse_key_type("ec")


def test_a_key_type_of_rsa_without_a_size_is_2048_bits():
    assert generate_key(parse_key_type("rsa")).key_size == 2048
