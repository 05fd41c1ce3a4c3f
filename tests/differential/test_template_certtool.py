"""certtool is the oracle: our certificate from a template must be certtool's.

For each template (Debian's, Courier's ``*.cnf.gnutls``, and the ones in
``tests/templates/``), certtool 3.7 signs a certificate with a key we
generated, and mkcert.x509.certificate builds one from read_template's request with the
same key.  Everything but the clock and a random serial must be byte for
byte equal; then, with certtool's validity and serial pinned into our
request, the whole certificate (signature included: RSA PKCS#1 v1.5 is
deterministic) must be identical.
"""

import datetime
import glob
import os
import re
import shutil
import subprocess

import pytest

from conftest import data_files, data_path

from mkcert.x509 import compat
from mkcert.asn1 import der
from mkcert.x509.certificate import build_certificate
from mkcert.readers.certtool.template import read_template

pytestmark = pytest.mark.skipif(shutil.which("certtool") is None,
                                reason="certtool (gnutls-bin) is not installed")

from conftest import ROOT  # noqa: E402

HERE = os.path.join(ROOT, "tests")  # the tests directory
TEMPLATES = sorted(data_files("gnutls") + glob.glob(os.path.join(HERE, "templates", "*.cnf")))

# Our clock and certtool's are read a few milliseconds apart.
CLOCK_SLACK = datetime.timedelta(seconds=5)


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    """One small key for every test: its size changes nothing being compared."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 1024)
    path = tmp_path_factory.mktemp("key") / "key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    return key, path


def certtool_certificate(template, key_path, tmp_path):
    from cryptography import x509

    out = tmp_path / "certtool.pem"
    result = subprocess.run(
        ["certtool", "--generate-self-signed", "--load-privkey", str(key_path),
         "--template", template, "--outfile", str(out)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    skipped = re.findall(r"Warning: skipping unknown option '([^']*)'", result.stderr)
    return x509.load_pem_x509_certificate(out.read_bytes()), skipped


def tbs_fields(certificate):
    """TBSCertificate members: version, serial, signature, issuer, validity, subject, spki, [3]."""
    return der.members(certificate.tbs_certificate_bytes)


def read(path):
    with open(path, "rb") as handle:
        return read_template(handle.read().decode("utf-8", "surrogateescape"), path)


@pytest.mark.parametrize("template", TEMPLATES, ids=os.path.basename)
def test_same_certificate_as_certtool(template, rsa_key, tmp_path):
    key, key_path = rsa_key
    request = read(template)
    theirs, skipped = certtool_certificate(template, key_path, tmp_path)
    ours = build_certificate(request, key)

    their_fields, our_fields = tbs_fields(theirs), tbs_fields(ours)
    names = ["version", "serial", "signature", "issuer", "validity", "subject", "spki",
             "extensions"]
    assert len(our_fields) == len(their_fields)
    for name, mine, other in zip(names, our_fields, their_fields):
        if name in ("serial", "validity"):
            continue
        assert mine == other, f"{name} differs"
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    assert ours.version == theirs.version

    if request.serial is not None:
        assert ours.serial_number == theirs.serial_number
    else:  # both random: positive, at most 20 octets
        assert 0 < theirs.serial_number < 2**159 and 0 < ours.serial_number < 2**159

    _check_validity(request, ours, theirs)

    # What certtool skipped as unknown, we warned about.
    unknown = {re.search(r"unknown option '([^']*)'", w).group(1)
               for w in request.warnings if "unknown option" in w}
    assert unknown == set(skipped)

    # Pin the clock and the serial: then the certificates are identical.
    pinned = request.replace(serial=theirs.serial_number,
                             not_before=compat.not_valid_before(theirs),
                             not_after=compat.not_valid_after(theirs))
    assert build_certificate(pinned, key).tbs_certificate_bytes == theirs.tbs_certificate_bytes
    assert build_certificate(pinned, key).signature == theirs.signature


def _check_validity(request, ours, theirs):
    our_start, their_start = compat.not_valid_before(ours), compat.not_valid_before(theirs)
    our_end, their_end = compat.not_valid_after(ours), compat.not_valid_after(theirs)
    if request.not_before is not None:
        assert our_start == their_start
    else:
        assert abs(our_start - their_start) <= CLOCK_SLACK
    if request.not_after is not None and request.not_before is None and request.days == -1:
        assert our_end == their_end
    elif request.not_after is not None:
        assert abs(our_end - their_end) <= CLOCK_SLACK
    else:
        assert our_end - our_start == their_end - their_start


@pytest.mark.parametrize("bits, digest", [(4096, "sha384"), (16384, "sha256")])
def test_digest_follows_key_size_as_in_certtool(bits, digest, tmp_path):
    """certtool signs with SHA-384 from 4096 bits on, and falls back to
    SHA-256 past GnuTLS's largest level (15360); BITS=ultra makes 8192."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from mkcert.readers.certtool.seclevel import with_key_bits

    if bits == 16384:  # minutes to generate: a fixed test key
        key_path = os.path.join(HERE, "templates", "keys", "rsa16384.pem")
        with open(key_path, "rb") as handle:
            data = handle.read()
        try:  # checking the key's primes would take a minute
            key = serialization.load_pem_private_key(
                data, None, unsafe_skip_rsa_key_validation=True)
        except TypeError:  # cryptography < 40: the backend's switch, as mkcert.x509.keys uses it
            from mkcert.x509.keys import _key_check_skipped, _legacy_backend

            backend = _legacy_backend()
            assert backend is not None, "no way to skip the key check on this cryptography"
            with _key_check_skipped(backend):
                key = serialization.load_pem_private_key(data, None)
    else:
        key = rsa.generate_private_key(65537, bits)
        key_path = tmp_path / "key.pem"
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
    template = data_path("gnutls", "imapd.cnf")
    request = with_key_bits(read(template), bits)
    assert request.key.bits == bits and request.digest == digest
    theirs, _ = certtool_certificate(template, key_path, tmp_path)
    pinned = request.replace(not_before=compat.not_valid_before(theirs),
                             not_after=compat.not_valid_after(theirs))
    ours = build_certificate(pinned, key)
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes
    assert ours.signature == theirs.signature
