"""--key-type's text: what each spelling means, and one line for anything else."""

import pytest

from mkcert.errors import MkcertError
from mkcert.readers.key_type import KeyType, KeyTypeError, parse_key_type


@pytest.mark.parametrize("text, expected", [
    ("rsa", KeyType("rsa")),
    ("RSA:4096", KeyType("rsa", bits=4096)),
    ("rsa:1024", KeyType("rsa", bits=1024)),
    ("ec", KeyType("ec", curve="P-256")),
    ("ecdsa", KeyType("ec", curve="P-256")),
    ("ec:P-384", KeyType("ec", curve="P-384")),
    ("ec:secp521r1", KeyType("ec", curve="P-521")),
    ("ec:prime256v1", KeyType("ec", curve="P-256")),
    (" ed25519 ", KeyType("ed25519")),
])
def test_spellings(text, expected):
    assert parse_key_type(text) == expected


@pytest.mark.parametrize("text, message", [
    ("dsa", "key type 'dsa' is not rsa[:BITS], ec[:P-256|P-384|P-521] or ed25519"),
    ("", "key type '' is not rsa[:BITS], ec[:P-256|P-384|P-521] or ed25519"),
    ("ed25519:1", "key type 'ed25519:1' is not rsa[:BITS], ec[:P-256|P-384|P-521] or ed25519"),
    ("ec:P-192", "key type 'ec:P-192': the curve is one of P-256, P-384, P-521"),
    ("rsa:big", "key type 'rsa:big': rsa:BITS needs a whole number of bits"),
    ("rsa:512", "key type 'rsa:512': RSA keys here are 1024 to 16384 bits"),
    ("rsa:٤٠٩٦", "key type 'rsa:٤٠٩٦': rsa:BITS needs a whole number of bits"),
    ("rsa:9" * 40, None),
])
def test_anything_else_is_one_line(text, message):
    with pytest.raises(KeyTypeError) as caught:
        parse_key_type(text)
    assert isinstance(caught.value, MkcertError)
    assert "\n" not in str(caught.value)
    if message is not None:
        assert str(caught.value) == message


@pytest.mark.parametrize("text", ["rsa", "rsa:3072", "ec:P-521", "ed25519"])
def test_str_reads_back(text):
    assert parse_key_type(str(parse_key_type(text))) == parse_key_type(text)
