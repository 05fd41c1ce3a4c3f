"""Property tests: the config readers never crash and never hang.

Whatever text they get -- random, or shaped like an OpenSSL config or a
certtool template -- the readers either return a request or raise a
:class:`mkcert.errors.MkcertError`; any other exception, or more than a few
seconds on a small input, is a bug.  The same holds end to end through
:func:`mkcert.readers.load.load_request` on bytes written to a file.  The
longer-running coverage-guided version is fuzz/fuzz_config.py (atheris).
"""

import contextlib
import os
import signal
import tempfile

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mkcert.readers.load import load_request
from mkcert.readers.detect import detect_format
from mkcert.errors import MkcertError
from mkcert.readers.openssl.syntax import parse
from mkcert.readers.openssl.req import request_from_config
from mkcert.readers.certtool.template import read_template

SCALE = int(os.environ.get("MKCERT_FUZZ_SCALE", "1"))  # more examples: MKCERT_FUZZ_SCALE=20
SECONDS = 5  # per example; a small input that takes longer is a hang
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=False)


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds=SECONDS):
    def expire(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# Bugs found here and reported to their owners, each pinned by an
# xfail(strict=True) regression test below; the properties tolerate exactly
# these (function, exception type, message part) so they keep looking for others.
KNOWN_BUGS = []


def only_mkcert_errors(function, *args, **kwargs):
    with time_limit():
        try:
            return function(*args, **kwargs)
        except MkcertError as exc:
            text = str(exc)
            assert text and "\n" not in text.strip(), repr(text)  # one line
            return None
        except Exception as exc:
            for name, kind, part in KNOWN_BUGS:
                if function.__name__ == name and isinstance(exc, kind) and part in str(exc):
                    return None
            raise


# --- grammar-shaped inputs -----------------------------------------------------

NAMES = st.sampled_from([
    "req", "dn", "ext", "default", "distinguished_name", "prompt", "default_bits", "default_md",
    "x509_extensions", "string_mask", "utf8", "RANDFILE", "encrypt_key", "CN", "C", "O", "OU",
    "emailAddress", "0.OU", "1.OU", "basicConstraints", "keyUsage", "extendedKeyUsage",
    "subjectAltName", "subjectKeyIdentifier", "authorityKeyIdentifier", "nsCertType",
    "nsComment", "x", "ENV", "days", "serial", "oid_section", "1.2.3.4", "alt",
    "CN_default", "CN_min", "CN_max", "commonName",
])
VALUES = st.one_of(
    st.sampled_from([
        "no", "yes", "1024", "512", "0", "-1", "99999999", "sha256", "sha1", "md5", "nosuch",
        "dn", "ext", "alt", "utf8only", "nombstr", "pkix", "default", "server", "client",
        "critical,CA:true", "CA:false", "pathlen:0", "digitalSignature, keyEncipherment",
        "serverAuth", "DNS:localhost", "IP:127.0.0.1", "IP:::1", "email:copy", "@alt",
        "hash", "keyid:always,issuer", "none", "US", "USA", "\"quoted value\"", "'single'",
        "$dn::CN", "${dn::CN}", "$ENV::HOME", "$undefined", "${", "$", "\\", "\\\n",
        "a\\#b", "x # comment", "\"unterminated", "ASN1:UTF8String:x", "DER:01:02",
        "DNS:a,DNS:b", "otherName:1.2.3;UTF8:x", "dirName:dn", "URI:http://x",
        "RID:1.2.3", "2.5.4.3", "é", "\udcff", "",
    ]),
    st.text(alphabet=st.characters(blacklist_characters="\0\n", blacklist_categories=("Cs",)),
            max_size=20),
)


@st.composite
def openssl_configs(draw):
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(f"[ {draw(NAMES)} ]")
        elif kind == 1:
            lines.append(draw(st.sampled_from([
                ".include missing.cnf", ".include = other.cnf", ".include self.cnf",
                ".include dir", ".pragma dollarid:on", ".pragma abspath:true",
                ".pragma includedir:inc", "# a comment", "", "[", "[ unclosed", "]"])))
        else:
            lines.append(f"{draw(NAMES)} = {draw(VALUES)}")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n", "\\"]))


TEMPLATE_KEYS = st.sampled_from([
    "cn", "organization", "unit", "locality", "state", "country", "email", "serial",
    "expiration_days", "activation_date", "expiration_date", "dns_name", "ip_address",
    "uri", "tls_www_server", "tls_www_client", "signing_key", "encryption_key", "ca",
    "path_len", "dn", "challenge_password", "honor_crq_extensions", "policy1",
    "add_extension", "key_purpose_oid", "crl_dist_points", "dc", "uid", "title",
    "nosuchkey", "ocsp_uri", "subject_unique_id", "proxy_policy_language",
])
TEMPLATE_VALUES = st.one_of(
    st.sampled_from([
        "localhost", "\"quoted\"", "\"unterminated", "1", "-1", "0", "365", "abc",
        "2030-01-01", "2030-01-01 12:00:00 UTC", "@0", "@99999999999999", "01:02:03",
        "0x1234", "127.0.0.1", "::1", "256.1.1.1", "mail@example.org", "US", "USA",
        "CN=x,O=y", "\"a\" \"b\"", "1.2.3.4 \"DER\"", "", "é", "\udcfe", "x\\",
    ]),
    st.text(alphabet=st.characters(blacklist_characters="\0\n", blacklist_categories=("Cs",)),
            max_size=20),
)


@st.composite
def templates(draw):
    lines = []
    for _ in range(draw(st.integers(0, 15))):
        sep = draw(st.sampled_from([" = ", "=", ": ", " ", ""]))
        lines.append(draw(TEMPLATE_KEYS) + sep + draw(TEMPLATE_VALUES))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["# c", "", "  ", "[section]"])))
    return "\n".join(lines) + "\n"


def fake_include(files):
    def read(path):
        name = os.path.basename(path)
        if name in files:
            return [(path, files[name])]
        if name == "dir":
            return [(f"{path}/a.cnf", files.get("other.cnf", "")), (f"{path}/b.cnf", "x = 1\n")]
        raise MkcertError(f"cannot read config {path}: No such file or directory")
    return read


def through_readers(text):
    """Every reader in turn, as load_request would, but from memory."""
    with time_limit():
        try:
            flavour = detect_format(text, "fuzz.cnf")
        except MkcertError:
            flavour = None
    only_mkcert_errors(read_template, text, "fuzz.cnf")
    include = fake_include({"self.cnf": text, "other.cnf": "[ req ]\nprompt = no\n"})
    config = only_mkcert_errors(parse, text, "fuzz.cnf", environ={"HOME": "/root"},
                                read_include=include)
    if config is not None:
        only_mkcert_errors(request_from_config, config)
    return flavour


@settings(max_examples=250 * SCALE, **SETTINGS)
@given(openssl_configs())
@example("[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = $dn::CN\n")
@example(".include self.cnf\n")
@example("a = ${a}\n[ req ]\nx = $a$a$a$a$a$a$a$a$a$a\n")
def test_openssl_shaped_configs(text):
    through_readers(text)


@settings(max_examples=250 * SCALE, **SETTINGS)
@given(templates())
@example('cn = "a\nexpiration_days = 99999999999999999999\n')
def test_template_shaped_configs(text):
    through_readers(text)


@settings(max_examples=300 * SCALE, **SETTINGS)
@given(st.binary(max_size=400))
def test_random_bytes_as_text(data):
    text = data.replace(b"\0", b"").decode("utf-8", "surrogateescape")
    through_readers(text)


@settings(max_examples=150 * SCALE, **SETTINGS)
@given(st.one_of(st.binary(max_size=300),
                 openssl_configs().map(lambda t: t.encode("utf-8", "surrogateescape")),
                 templates().map(lambda t: t.encode("utf-8", "surrogateescape"))))
def test_load_request_from_file(data):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "imapd.cnf")
        with open(path, "wb") as handle:
            handle.write(data)
        only_mkcert_errors(load_request, path, {"HOME": "/root"})
        assert os.listdir(directory) == ["imapd.cnf"]


# --- regressions of what the fuzzing found ------------------------------------

@pytest.mark.parametrize("value", ["@99999999999999", "@99999999999999999999999"])
def test_template_huge_epoch_seconds(value):
    with pytest.raises(MkcertError):
        read_template(f"cn = x\nactivation_date = {value}\n", "t.cnf")
