"""EC and Ed25519 keys against the binaries: `openssl req -newkey` and certtool.

With an OpenSSL config our command must make what `openssl req -x509 -newkey
ec -pkeyopt ec_paramgen_curve:CURVE -nodes -config FILE` makes (same
digest, extensions and key identifiers, same PEM blocks); with a certtool
template, certtool signing the key we sign with must write the very
TBSCertificate we write (and, for Ed25519, whose signatures are
deterministic, the very signature).  The key files themselves are laid out
as each tool lays out its own.
"""

import os
import re
import shutil
import subprocess

import pytest

from certdiff import describe, load
from conftest import ROOT, data_files, data_path, openssl

from mkcert.asn1 import der
from mkcert.readers.key_type import KeyType, parse_key_type
from mkcert.x509 import compat

HERE = os.path.join(ROOT, "tests")
PEM_LABELS = re.compile(rb"-----BEGIN ([A-Z ]+)-----")
OPENSSL_CONFIGS = [("imapd", ("openssl", "imapd.cnf")), ("pop3d", ("howto", "pop3d.cnf")),
                   ("esmtpd", ("openssl", "esmtpd.cnf"))]
OPENSSL_KEYS = [("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                ("ec:P-384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]),
                ("ec:P-521", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"]),
                ("ed25519", ["-newkey", "ed25519"])]
CERTTOOL_CURVES = {"P-256": "secp256r1", "P-384": "secp384r1", "P-521": "secp521r1"}


def _openssl_req(config, out, newkey):
    """`openssl req -x509 -newkey ...` on a copy of the config, RANDFILE beside it."""
    rand = out.parent / "theirs.rand"
    rand.write_bytes(os.urandom(512))
    text = re.sub(r"(?m)^RANDFILE\s*=.*$", f"RANDFILE = {rand}", open(config).read())
    copy = out.parent / "theirs.cnf"
    copy.write_text(text)
    openssl("req", "-new", "-x509", "-nodes", "-days", "365", *newkey, "-config", copy,
            "-out", out, "-keyout", out)


@pytest.mark.parametrize("key_type, newkey", OPENSSL_KEYS, ids=[k for k, _ in OPENSSL_KEYS])
@pytest.mark.parametrize("name, source", OPENSSL_CONFIGS, ids=["/".join(c[1]) for c in OPENSSL_CONFIGS])
def test_same_certificate_as_openssl_req_newkey(layout, tmp_path, name, source, key_type, newkey):
    config = layout.install_config(name, data_path(*source))
    theirs = tmp_path / "theirs.pem"
    _openssl_req(config, theirs, newkey)
    result = layout.command(f"mk{name}cert", "-q", "--key-type", key_type,
                            env=dict(layout.env, BITS="512"))
    assert result.returncode == 0, result.stderr
    our_data, ours = load(layout.certsdir / f"{name}.pem")
    their_data, their_cert = load(theirs)
    assert describe(ours) == describe(their_cert)
    labels = PEM_LABELS.findall(our_data)
    if name == "esmtpd":  # upstream appends DH parameters; openssl req alone does not
        assert labels[2:] == [b"DH PARAMETERS"]
        labels = labels[:2]
    assert labels == PEM_LABELS.findall(their_data)
    # The server can use it: couriertls's library loads it as a TLS server's key.
    assert openssl("x509", "-in", layout.certsdir / f"{name}.pem", "-noout").returncode == 0
    os.remove(layout.certsdir / f"{name}.pem")


def test_an_ec_key_refuses_what_openssl_refuses(layout):
    """OpenSSL has no ECDSA with MD5: neither tool makes anything."""
    text = open(data_path("openssl", "imapd.cnf")).read().replace("default_md = sha1",
                                                                   "default_md = md5")
    config = layout.install_config("imapd", None, text=text)
    result = layout.command("mkimapdcert", "--key-type", "ec")
    line = text.splitlines().index("default_md = md5") + 1
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkimapdcert: {config}:{line}: default_md = md5 cannot sign with "
                             f"an EC key (OpenSSL refuses it too); use sha256\n")
    assert layout.listing() == []
    theirs = subprocess.run(["openssl", "req", "-new", "-x509", "-nodes", "-newkey", "ec",
                             "-pkeyopt", "ec_paramgen_curve:P-256", "-config", str(config),
                             "-keyout", os.devnull, "-out", os.devnull],
                            capture_output=True)
    assert theirs.returncode != 0


# --- certtool ----------------------------------------------------------------

needs_certtool = pytest.mark.skipif(shutil.which("certtool") is None,
                                    reason="certtool (gnutls-bin) is not installed")
TEMPLATES = sorted(data_files("gnutls") + [os.path.join(HERE, "templates", name)
                                           for name in sorted(os.listdir(
                                               os.path.join(HERE, "templates")))
                                           if name.endswith(".cnf")])


def _certtool(*args):
    result = subprocess.run(["certtool", *map(str, args)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def _certtool_key(tmp_path, key_type):
    """A key certtool generated, its PEM block as certtool wrote it, and cryptography's key."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = tmp_path / f"{key_type.algorithm}.key"
    if key_type.algorithm == "ec":
        _certtool("--generate-privkey", "--key-type", "ecdsa", "--curve",
                  CERTTOOL_CURVES[key_type.curve], "--outfile", path)
    else:
        _certtool("--generate-privkey", "--key-type", "ed25519", "--outfile", path)
    block = re.search(rb"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----\n",
                      path.read_bytes(), re.S).group(0)
    if key_type.algorithm == "ed25519":
        return path, block, load_pem_private_key(block, None)
    return path, block, _sec1_key(block, key_type.curve)


def _sec1_members(block):
    """The ECPrivateKey's members: version, privateKey, [0] curve, [1] public key."""
    body = b"".join(line for line in block.splitlines() if not line.startswith(b"-----"))
    import base64

    return der.members(base64.b64decode(body))


def _sec1_key(block, curve):
    """certtool's EC key as cryptography's.

    certtool (GnuTLS 3.7) writes privateKey as a signed big-endian number (a
    leading zero when the top bit is set, none when the top byte is zero),
    not the fixed length RFC 5915 asks for and OpenSSL writes; cryptography
    50 refuses such a key, so it is rebuilt from the number.
    """
    from cryptography.hazmat.primitives.asymmetric import ec

    private_value = int.from_bytes(der.content(_sec1_members(block)[1]), "big")
    curve_class = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}[curve]
    return ec.derive_private_key(private_value, curve_class())


def _read(path, key_type):
    from mkcert.readers.certtool.template import read_template

    with open(path, "rb") as handle:
        return read_template(handle.read().decode("utf-8", "surrogateescape"), path,
                             key_type=key_type)


@pytest.fixture(scope="module", params=["ec", "ed25519"])
def certtool_key(request, tmp_path_factory):
    key_type = parse_key_type(request.param)
    yield key_type, *_certtool_key(tmp_path_factory.mktemp("key"), key_type)


@needs_certtool
@pytest.mark.parametrize("template", TEMPLATES, ids=os.path.basename)
def test_same_certificate_as_certtool(template, certtool_key, tmp_path):
    """certtool signs the key we sign with: the TBSCertificates are identical."""
    from mkcert.x509.certificate import build_certificate

    key_type, key_path, _, key = certtool_key
    theirs = _certtool_certificate(template, key_path, tmp_path)
    request = _read(template, key_type)
    pinned = request.replace(serial=theirs.serial_number,
                             not_before=compat.not_valid_before(theirs),
                             not_after=compat.not_valid_after(theirs))
    ours = build_certificate(pinned, key)
    assert der.members(ours.tbs_certificate_bytes) == der.members(theirs.tbs_certificate_bytes)
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    if key_type.algorithm == "ed25519":  # deterministic (RFC 8032): the same signature
        assert ours.signature == theirs.signature
    else:  # ECDSA draws a random nonce: ours must verify under the key instead
        _verify(ours, key)


def _certtool_certificate(template, key_path, tmp_path):
    from cryptography import x509

    out = tmp_path / "certtool.pem"
    _certtool("--generate-self-signed", "--load-privkey", key_path, "--template", template,
              "--outfile", out)
    return x509.load_pem_x509_certificate(out.read_bytes())


def _verify(certificate, key):
    from cryptography.hazmat.primitives.asymmetric import ec

    key.public_key().verify(certificate.signature, certificate.tbs_certificate_bytes,
                            ec.ECDSA(certificate.signature_hash_algorithm))


@needs_certtool
@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
def test_certtool_digest_follows_the_curve(curve, tmp_path):
    """certtool signs P-256 with SHA-256, P-384 with SHA-384, P-521 with SHA-512."""
    from mkcert.x509.certificate import build_certificate

    key_type = KeyType("ec", curve=curve)
    key_path, block, key = _certtool_key(tmp_path, key_type)
    template = data_path("gnutls", "imapd.cnf")
    theirs = _certtool_certificate(template, key_path, tmp_path)
    request = _read(template, key_type)
    pinned = request.replace(serial=theirs.serial_number,
                             not_before=compat.not_valid_before(theirs),
                             not_after=compat.not_valid_after(theirs))
    ours = build_certificate(pinned, key)
    assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes
    _verify(ours, key)


@needs_certtool
@pytest.mark.parametrize("key_type", ["ec", "ec:P-384", "ec:P-521", "ed25519"])
def test_key_written_as_certtool_writes_it(key_type, tmp_path):
    """certtool's own key, laid out by us in certtool's form."""
    from mkcert.x509.key_types import key_spec_of, private_key_pem

    key_type = parse_key_type(key_type)
    _, block, key = _certtool_key(tmp_path, key_type)
    ours = private_key_pem(key, key_spec_of(key, "gnutls"))
    if key_type.algorithm == "ed25519":
        assert ours == block
        return
    # The same label, version, curve and public key; the private number the
    # same, at RFC 5915's fixed length where certtool drops leading zeros or
    # adds a sign byte (see _sec1_key).
    assert ours.splitlines()[0] == block.splitlines()[0] == b"-----BEGIN EC PRIVATE KEY-----"
    mine, theirs = _sec1_members(ours), _sec1_members(block)
    assert [mine[0]] + mine[2:] == [theirs[0]] + theirs[2:]
    number = der.content(mine[1])
    assert int.from_bytes(number, "big") == int.from_bytes(der.content(theirs[1]), "big")
    assert len(number) == (key.curve.key_size + 7) // 8


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521", None])
def test_key_written_as_openssl_writes_it(curve, tmp_path):
    """openssl's own key (genpkey: PKCS#8), laid out by us in openssl's form: the same bytes."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from mkcert.x509.key_types import key_spec_of, private_key_pem

    path = tmp_path / "openssl.key"
    if curve is None:
        openssl("genpkey", "-algorithm", "ed25519", "-out", path)
    else:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}",
                "-out", path)
    data = path.read_bytes()
    key = load_pem_private_key(data, None)
    assert private_key_pem(key, key_spec_of(key, "openssl")) == data
    os.remove(path)


@needs_certtool
@pytest.mark.parametrize("key_type, label", [("ec", b"EC PRIVATE KEY"),
                                             ("ed25519", b"PRIVATE KEY")])
def test_command_with_a_template_writes_certtools_key_form(layout, key_type, label):
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    result = layout.command("mkimapdcert", "-q", "--key-type", key_type)
    assert result.returncode == 0, result.stderr
    data = (layout.certsdir / "imapd.pem").read_bytes()
    assert PEM_LABELS.findall(data) == [label, b"CERTIFICATE"]
    # certtool reads back what we wrote, and finds the key it is for.
    info = _certtool("--certificate-info", "--infile", layout.certsdir / "imapd.pem").stdout
    key_info = _certtool("--key-info", "--infile", layout.certsdir / "imapd.pem").stdout
    key_id = re.search(r"Public Key ID:\s*\n\s*sha256:([0-9a-f]+)", key_info).group(1)
    assert f"sha256:{key_id}" in info
    os.remove(layout.certsdir / "imapd.pem")
