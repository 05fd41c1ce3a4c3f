"""GnuTLS security levels (``BITS``) and the key and digest certtool makes with them.

Where a claim is about certtool itself (it maps a level so, it refuses a
name, it writes PKCS#1), certtool is run to check it.
"""

import re
import shutil
import subprocess

import pytest

from mkcert.errors import MkcertError
from mkcert.readers.certtool.seclevel import bits_for_security_level, certtool_digest, with_key_bits
from mkcert.readers.certtool.template import read_template

PATH = "/etc/courier/imapd.cnf"
needs_certtool = pytest.mark.skipif(shutil.which("certtool") is None,
                                    reason="certtool (gnutls-bin) is not installed")


@pytest.mark.parametrize("value, bits", [
    ("low", 1024), ("legacy", 1776), ("medium", 2048), ("normal", 2048),
    ("high", 3072), ("ultra", 8192), ("future", 15360),
    ("HIGH", 3072), ("Medium", 2048), ("2048", 2048), ("4096", 4096),
    ("1024", 1024), ("16384", 16384),
])
def test_bits_for_security_level(value, bits):
    assert bits_for_security_level(value) == bits


@pytest.mark.parametrize("bits, digest", [
    (512, "sha256"), (1024, "sha256"), (2048, "sha256"), (3072, "sha256"),
    (3073, "sha384"), (4096, "sha384"), (8192, "sha384"), (8193, "sha512"),
    (15360, "sha512"), (15361, "sha256"), (16384, "sha256"),
])
def test_certtool_digest(bits, digest):
    assert certtool_digest(bits) == digest
    request = with_key_bits(read_template("cn = x\n", PATH), bits)
    assert (request.key.bits, request.digest, request.key.pem_format) == (bits, digest, "pkcs1")


def test_bits_below_what_every_stack_can_make_are_refused():
    # certtool takes 512, but cryptography >= 42 makes no RSA key under 1024.
    with pytest.raises(MkcertError, match="1024 to 16384"):
        bits_for_security_level("512")


@pytest.mark.parametrize("value", ["", "foo", "med", " high", "high ", "-1", "+2048",
                                   "2048.0", "very-weak", "insecure", "export", "weak",
                                   "0", "511", "16385", "\u0662\u0660\u0664\u0668"])
def test_bad_security_level(value):
    with pytest.raises(MkcertError, match="BITS="):
        bits_for_security_level(value)


@needs_certtool
@pytest.mark.parametrize("level", ["low", "LEGACY", "medium", "normal"])
def test_certtool_agrees_on_level(level, tmp_path):
    result = subprocess.run(["certtool", "--generate-privkey", f"--sec-param={level}",
                             "--outfile", str(tmp_path / "k.pem")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    bits = int(re.search(r"Generating a (\d+) bit RSA", result.stderr).group(1))
    assert bits == bits_for_security_level(level)


@needs_certtool
@pytest.mark.parametrize("level", ["foo", "2048", "very-weak"])
def test_certtool_refuses_level(level, tmp_path):
    result = subprocess.run(["certtool", "--generate-privkey", f"--sec-param={level}",
                             "--outfile", str(tmp_path / "k.pem")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Unknown security parameter string" in result.stderr


@needs_certtool
def test_certtool_key_file_is_text_then_pkcs1(tmp_path):
    """What Debian's script concatenates into NAME.pem, key first."""
    out = tmp_path / "k.pem"
    subprocess.run(["certtool", "--generate-privkey", "--sec-param=low", "--outfile",
                    str(out)], capture_output=True, check=True, timeout=60)
    text = out.read_text()
    assert text.startswith("Public Key Info:\n")
    assert "-----BEGIN RSA PRIVATE KEY-----" in text
    assert "BEGIN PRIVATE KEY" not in text
    assert text.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    assert read_template("cn = x\n", PATH).key.pem_format == "pkcs1"
