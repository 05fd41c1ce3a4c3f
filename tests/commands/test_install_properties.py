"""``--install`` on damaged inputs: an install or one line and exit 1, never a traceback.

Hypothesis damages a good key, certificate and chain (cut, flipped bytes,
blocks repeated, dropped or reordered, text around them) and runs the real
command line in process.  Whatever comes in, the outcome is one of two:
exit 0 with a PEM whose key matches its first certificate (judged by the
``openssl`` binary), or exit 1 with one line on stderr and the old PEM, or
none, left exactly as it was.
"""

import binascii
import contextlib
import io
import os
import re

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import pki
from conftest import openssl
from mkcert.x509 import chain
from mkcert.cli import main as cli
from mkcert.asn1 import der

AUTHORITY = pki.Pki(leaf_kind="ec")
GOOD = {
    "key": pki.key_pem(AUTHORITY.leaf_key),
    "cert": pki.cert_pem(AUTHORITY.leaf),
    "chain": pki.cert_pem(AUTHORITY.intermediate) + pki.cert_pem(AUTHORITY.root),
}
VERSION = re.compile(rb"\xa0\x03\x02\x01.", re.DOTALL)  # [0] EXPLICIT INTEGER n


def with_version(pem_data, number):
    """Each certificate in ``pem_data`` saying version ``number`` (its signature now lies).

    cryptography refuses such a certificate with InvalidVersion, which is no
    ValueError; random flips hit that byte too rarely to be found every run.
    """
    for block in chain.certificate_blocks(chain.pem_blocks(pem_data)):
        try:
            data = binascii.a2b_base64(b"".join(block.splitlines()[1:-1]))
        except binascii.Error:
            continue
        data = VERSION.sub(lambda match: match.group()[:-1] + bytes([number]), data, count=1)
        pem_data = pem_data.replace(block, der.pem(data, "CERTIFICATE").rstrip(b"\n"))
    return pem_data


@st.composite
def damaged(draw, good):
    data = bytearray(good)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "wrap", "swap", "crlf",
                                     "version"]))
        if kind == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[:draw(st.integers(0, len(data)))]
        elif kind == "repeat":
            data = data + data
        elif kind == "wrap":
            data = bytearray(draw(st.binary(max_size=40))) + data + bytearray(
                draw(st.binary(max_size=40)))
        elif kind == "swap":
            blocks = bytes(data).split(b"-----END CERTIFICATE-----\n")
            data = bytearray(b"-----END CERTIFICATE-----\n".join(reversed(blocks)))
        elif kind == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif kind == "version":
            data = bytearray(with_version(bytes(data), draw(st.integers(0, 255))))
    return bytes(data)


def run_install(directory, files, existing):
    pem = directory / "out" / "imapd.pem"
    pem.parent.mkdir(exist_ok=True)
    if existing is not None:
        pem.write_bytes(existing)
    paths = {}
    for name, data in files.items():
        path = directory / f"{name}.pem"
        path.write_bytes(data)
        os.chmod(path, 0o600)
        paths[name] = str(path)
    err = io.StringIO()
    environ = dict(os.environ, COURIER_MAILUSER=pki_user())
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["--install", "--key", paths["key"], "--cert", paths["cert"],
                           "--chain", paths["chain"], str(pem)],
                          program="mkimapdcert", environ=environ)
    return status, err.getvalue(), pem


def pki_user():
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(key=damaged(GOOD["key"]), cert=damaged(GOOD["cert"]), chain=damaged(GOOD["chain"]),
       existing=st.sampled_from([None, b"the old PEM\n"]))
@example(key=GOOD["key"], cert=GOOD["cert"], chain=with_version(GOOD["chain"], 7), existing=None)
@example(key=GOOD["key"], cert=with_version(GOOD["cert"], 3), chain=GOOD["chain"],
         existing=b"the old PEM\n")
def test_damaged_inputs_install_or_refuse_in_one_line(tmp_path_factory, key, cert, chain,
                                                      existing):
    directory = tmp_path_factory.mktemp("install")
    status, stderr, pem = run_install(directory, {"key": key, "cert": cert, "chain": chain},
                                      existing)
    leftovers = sorted(os.listdir(pem.parent))
    event("installed" if status == 0 else "refused")
    if status == 0:
        assert stderr == ""
        key_public = openssl("pkey", "-in", pem, "-pubout").stdout
        assert key_public == openssl("x509", "-in", pem, "-pubkey", "-noout").stdout
        assert leftovers in (["imapd.pem"], ["imapd.pem", "imapd.pem.old"])
    else:
        assert status == 1, (status, stderr)
        assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
        assert stderr.startswith("mkimapdcert: ")
        if existing is None:
            assert leftovers == []
        else:
            assert leftovers == ["imapd.pem"] and pem.read_bytes() == existing
