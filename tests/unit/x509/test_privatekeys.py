"""EC private keys as GnuTLS writes them: a scalar with its top bit set gets a leading zero.

certtool (the GnuTLS of Debian 12, as uacme uses it) is the source of such
keys; openssl, which reads them, is the oracle for the number inside.
"""

import binascii
import re
import shutil
import subprocess

import pytest

from conftest import _cannot_run, openssl
from mkcert.asn1 import der
from mkcert.x509.privatekeys import _padded_ec_key, load_private_key

CURVES = (("secp256r1", 32), ("secp384r1", 48), ("secp521r1", 66))


def certtool_ec_key(curve, shape):
    """A SEC1 key from certtool whose scalar is written ``padded`` (one byte too
    long), ``exact`` (RFC 5915's length) or ``short`` (leading zeros dropped)."""
    if shutil.which("certtool") is None:
        _cannot_run("certtool (gnutls-bin) is not installed")
    size = dict(CURVES)[curve]
    for _ in range(200):
        block = subprocess.run(["certtool", "--generate-privkey", "--key-type", "ecdsa",
                                "--curve", curve, "--no-text"],
                               capture_output=True, check=True).stdout
        block = block[block.index(b"-----BEGIN EC PRIVATE KEY-----"):]
        length = len(_scalar(block))
        if {"padded": length == size + 1, "exact": length == size,
                "short": length < size}[shape]:
            return block
    pytest.fail(f"certtool made no {shape} {curve} key in 200 tries")


def _scalar(block):
    body = block.split(b"-----")[2]
    return der.content(der.members(binascii.a2b_base64(body))[1])


def openssl_private_value(block):
    text = openssl("ec", "-noout", "-text", input=block.decode(), check=True).stdout
    hex_digits = re.search(r"priv:\s*([0-9a-f:\s]+)pub:", text).group(1)
    return int(re.sub(r"[:\s]", "", hex_digits), 16)


# A P-521 scalar's top byte holds one bit: GnuTLS never pads it, and drops
# that byte whenever it is zero (every second key).  Short P-256 and P-384
# scalars (1 in 256) are too rare to draw here; the rule is the same.
@pytest.mark.parametrize("curve, shape", [("secp256r1", "padded"), ("secp384r1", "padded"),
                                          ("secp256r1", "exact"), ("secp384r1", "exact"),
                                          ("secp521r1", "exact"), ("secp521r1", "short")])
def test_gnutls_keys_read_as_openssl_reads_them(curve, shape):
    block = certtool_ec_key(curve, shape)
    key = load_private_key(block)
    assert key.curve.name == curve
    assert key.private_numbers().private_value == openssl_private_value(block)


def cryptography_reads_it(block):
    """Older cryptography (Debian's 38, through OpenSSL) reads padded keys itself."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(block, None)
    except ValueError:
        return False
    return True


def refused_on_every_stack(block, damaged):
    """The fallback refuses ``damaged`` (and reads the intact ``block``, so that
    says something); where cryptography needs the fallback, so does loading."""
    assert _padded_ec_key(block) is not None
    assert _padded_ec_key(damaged) is None
    if not cryptography_reads_it(block):
        with pytest.raises(ValueError):
            load_private_key(damaged)


def test_a_padded_key_whose_public_key_is_another_is_refused():
    block = certtool_ec_key("secp256r1", "padded")
    other = certtool_ec_key("secp256r1", "exact")
    data = bytearray(binascii.a2b_base64(block.split(b"-----")[2]))
    other_public = binascii.a2b_base64(other.split(b"-----")[2])[-65:]
    data[-65:] = other_public  # the uncompressed point closes the [1] BIT STRING
    refused_on_every_stack(block, der.pem(bytes(data), "EC PRIVATE KEY"))


def test_other_damage_is_still_refused():
    block = certtool_ec_key("secp256r1", "padded")
    data = bytearray(binascii.a2b_base64(block.split(b"-----")[2]))
    data[7] = 0x01  # the padding byte no longer zero: not the known mistake
    refused_on_every_stack(block, der.pem(bytes(data), "EC PRIVATE KEY"))
