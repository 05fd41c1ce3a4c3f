"""Run a config through `openssl req -new -x509` and through mkcert, and compare.

The corpus tests and the property tests share this: OpenSSL is the oracle,
so a config either fails in both (ours with a ConfigError) or gives the same
subject DER, extensions (OID, criticality, DER value), digest, key size and
validity.  Both sides sign with the same fixed 1024-bit key unless a test
asks for key generation; key identifiers compare by how they were computed
and a serial inside an extension by being the certificate's own
(tests/certdiff.py).  Every file a comparison writes, the fixed key
included, is in a temporary directory removed when it ends.
"""

import datetime
import functools
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))  # certdiff

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from certdiff import extension_value  # noqa: E402
from mkcert.x509.certificate import build_certificate  # noqa: E402
from mkcert.errors import ConfigError  # noqa: E402
from mkcert.readers.load import read_include as read_include_files  # noqa: E402
from mkcert.readers.openssl.syntax import parse  # noqa: E402
from mkcert.readers.openssl.req import request_from_config  # noqa: E402
from mkcert.readers.openssl.prompt import answers_prompter  # noqa: E402

DAYS = 30


@functools.lru_cache(maxsize=None)
def openssl_version():
    return subprocess.run(["openssl", "version"], capture_output=True, text=True,
                          check=True).stdout.strip()


@functools.lru_cache(maxsize=None)
def fixed_key():
    """The 1024-bit key both sides sign with, and its PKCS#8 PEM.

    Only in memory: each OpenSSL run gets its own copy of the file in its
    work directory, so no private key outlives a comparison.
    """
    from mkcert.x509.keys import generate_key
    from mkcert.request import KeySpec
    key = generate_key(KeySpec(bits=1024))
    return key, key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())


def write_fixed_key(workdir):
    """The fixed key as a 0600 file in workdir, for `openssl req -key`."""
    path = os.path.join(workdir, "fixed-key.pem")
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(fixed_key()[1])
    return path


class Case:
    """A config with what the run needs: environment, stdin lines, file name."""

    def __init__(self, text, name="case.cnf", env=None, stdin=None, keygen=False,
                 cwd=None, deviation=None):
        self.deviation = deviation  # why mkcert refuses what OpenSSL accepts
        self.text = text
        self.name = name
        self.env = dict(env or {})
        self.stdin = stdin  # list of lines (without newlines) or None
        self.keygen = keygen
        self.cwd = cwd

    @classmethod
    def from_file(cls, path):
        """A corpus file; '#:' header lines set env / stdin / keygen."""
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
        env, stdin, keygen, deviation = {}, None, False, None
        for line in text.splitlines():
            if line.startswith("#: env "):
                name, _, value = line[7:].partition("=")
                env[name] = value
            elif line.startswith("#: stdin"):
                stdin = (stdin or []) + [line[9:]]
            elif line.startswith("#: keygen"):
                keygen = True
            elif line.startswith("#: deviation "):
                deviation = line[13:]
        return cls(text, os.path.basename(path), env, stdin, keygen, os.path.dirname(path),
                   deviation)


def run_openssl(case, workdir):
    """The certificate OpenSSL makes, or (None, its error output)."""
    config = os.path.join(workdir, case.name)
    with open(config, "wb") as out:
        out.write(case.text.encode("utf-8", "surrogateescape"))
    # -utf8: mkcert reads values as UTF-8 whatever the config's utf8 says,
    # which is what OpenSSL does with utf8 = yes.
    command = ["openssl", "req", "-utf8", "-new", "-x509", "-nodes", "-days", str(DAYS),
               "-config", config, "-out", os.path.join(workdir, "cert.pem")]
    if case.keygen:
        command += ["-keyout", os.path.join(workdir, "key.pem")]
    else:
        command += ["-key", write_fixed_key(workdir)]
    env = base_environment(case)
    stdin = "".join(line + "\n" for line in case.stdin) if case.stdin is not None else ""
    result = subprocess.run(command, capture_output=True, env=env, cwd=case.cwd or workdir,
                            input=stdin.encode("utf-8", "surrogateescape"), timeout=60)
    errors = result.stderr.decode("utf-8", "replace")
    # `req` exits 1 after writing the certificate when it cannot save the
    # RANDFILE (/etc/courier/... here): the certificate itself is made.
    saved_rand_only = "Cannot write random bytes" in errors and os.path.exists(
        os.path.join(workdir, "cert.pem"))
    if result.returncode != 0 and not saved_rand_only:
        return None, errors
    printed = subprocess.run(["openssl", "x509", "-noout", "-subject", "-in",
                              os.path.join(workdir, "cert.pem")],
                             capture_output=True, check=True).stdout
    with open(os.path.join(workdir, "cert.pem"), "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    case.printed_subject = printed.decode("utf-8", "surrogateescape").rstrip("\n")
    return certificate, None


def base_environment(case):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent-home"}
    env.update(case.env)
    return env


class BuilderLimitation(Exception):
    """mkcert.x509.certificate could not build what the request (correctly) asks for."""


def request_subject_der(request):
    """The subject DER the request asks for, encoded here independently of cert.py."""
    from mkcert.asn1 import der
    codecs = {30: "utf-16-be", 28: "utf-32-be", 20: "latin-1"}

    def attribute(a):
        value = a.value.encode(codecs.get(a.tag, "utf-8"), "surrogateescape")
        return der.sequence(der.oid(a.oid), der.tlv(a.tag, value))
    return der.sequence(*(der.set_of(*(attribute(a) for a in rdn)) for rdn in request.subject))


def _request_answering_from_pipe(config, lines):
    """Answer prompts the way the command line does: StdioPrompter on a pipe."""
    import io

    from mkcert.readers.openssl.prompt import StdioPrompter
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write("".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape"))
    with os.fdopen(read_end, "rb") as reader:
        prompter = StdioPrompter(reader, io.StringIO(), wait_seconds=5)
        return request_from_config(config, prompter=prompter, days=DAYS)


def run_ours(case):
    """(request, certificate) from mkcert, or raises ConfigError."""
    cwd = case.cwd

    def read_include(path):
        if cwd and not os.path.isabs(path):
            return [(p, t) for p, t in read_include_files(os.path.join(cwd, path))]
        return read_include_files(path)

    config = parse(case.text, case.name, environ=base_environment(case),
                   read_include=read_include)
    if case.stdin is None:
        request = request_from_config(config, prompter=answers_prompter([]), days=DAYS)
    else:
        request = _request_answering_from_pipe(config, case.stdin)
    if case.keygen:
        from mkcert.errors import MkcertError
        from mkcert.x509.keys import generate_key
        try:
            key = generate_key(request.key)
        except MkcertError as problem:  # cryptography 42+ refuses RSA below 1024 bits
            raise BuilderLimitation(request, problem) from None
    else:
        key = fixed_key()[0]
    try:
        return request, build_certificate(request, key)
    except ValueError as problem:
        raise BuilderLimitation(request, problem) from None


def subject_der(certificate):
    """The subject's DER straight from the TBSCertificate.

    cryptography cannot parse every string OpenSSL writes (a T61String with
    Latin-1 bytes), so names are compared as bytes, never as Name objects.
    """
    from mkcert.asn1 import der
    fields = der.members(certificate.tbs_certificate_bytes)
    offset = 1 if fields[0][0] == 0xA0 else 0
    return fields[offset + 4]


def raw_extensions(certificate):
    """(OID, critical, value DER) from the TBSCertificate, without cryptography's checks.

    cryptography refuses to parse some values OpenSSL writes (keyUsage
    decipherOnly without keyAgreement), so extensions are read from DER.
    """
    from mkcert.asn1 import der
    found = []
    for field in der.members(certificate.tbs_certificate_bytes):
        if field[0] != 0xA3:
            continue
        # [3] EXPLICIT Extensions: the SEQUENCE OF Extension inside the tag
        for extension in der.members(der.content(field)):
            parts = der.members(extension)
            critical = len(parts) == 3 and parts[1] == b"\x01\x01\xff"
            found.append((der.read_oid(parts[0]), critical, der.content(parts[-1])))
    return found


def extension_list(certificate):
    """(OID, critical, value) per extension, key identifiers by what they identify.

    With generated keys the two sides have different keys, and each
    certificate has its own random serial, so key identifiers compare by
    how they were made and an authorityKeyIdentifier field by field
    (tests/certdiff.py), never as bytes with a part blanked out.
    """
    return [(oid, critical, extension_value(oid, value, certificate))
            for oid, critical, value in raw_extensions(certificate)]


def differences(theirs, ours, request):
    """What differs between OpenSSL's certificate and ours (empty: the same)."""
    found = []
    if request_subject_der(request) != subject_der(theirs):
        found.append(f"request subject: openssl {subject_der(theirs).hex()} "
                     f"request {request_subject_der(request).hex()}")
    if not found and subject_der(theirs) != subject_der(ours):
        raise BuilderLimitation(request, "it encodes the subject differently from the"
                                " request (T61String must be Latin-1 bytes)")
    if subject_der(theirs) != subject_der(ours):
        found.append(f"subject: openssl {subject_der(theirs).hex()} "
                     f"ours {subject_der(ours).hex()}")
    if extension_list(theirs) != extension_list(ours):
        found.append(f"extensions: openssl {extension_list(theirs)} "
                     f"ours {extension_list(ours)}")
    if theirs.signature_algorithm_oid != ours.signature_algorithm_oid:
        found.append(f"signature: openssl {theirs.signature_algorithm_oid} "
                     f"ours {ours.signature_algorithm_oid}")
    if theirs.public_key().key_size != request.key.bits and theirs.public_key().key_size != ours.public_key().key_size:
        found.append(f"key size: openssl {theirs.public_key().key_size} ours {request.key.bits}")
    # OpenSSL reads the clock once for notBefore and again for notAfter, so
    # its span is a second longer when a second turns between the two reads;
    # ours is read once and must be exact.
    span = _validity(theirs)
    exact = datetime.timedelta(days=DAYS)
    if _validity(ours) != exact or span not in (exact, exact + datetime.timedelta(seconds=1)):
        found.append(f"validity: openssl {span} ours {_validity(ours)}")
    # OpenSSL makes a version 1 certificate when the extension section gave
    # it nothing at all (an empty or missing x509_extensions), version 3
    # otherwise -- even when "none" then removed every extension.  The
    # request says which by having extensions or not.
    implied = x509.Version.v3 if request.extensions else x509.Version.v1
    if theirs.version != implied:
        found.append(f"version: openssl {theirs.version}, request implies {implied}")
    elif not found and ours.version != theirs.version:
        raise BuilderLimitation(request, f"it makes {ours.version.name} where OpenSSL makes"
                                f" {theirs.version.name} (no extensions: version 1)")
    return found


def _validity(certificate):
    from mkcert.x509.compat import not_valid_after, not_valid_before
    return not_valid_after(certificate) - not_valid_before(certificate)


def subject_line_problems(case, theirs):
    """format_name must print OpenSSL's certificate's subject as OpenSSL does."""
    from mkcert.x509.inspect import format_name
    ours = "subject=" + format_name(subject_der(theirs))
    if ours != case.printed_subject:
        return [f"subject line: openssl {case.printed_subject!r} ours {ours!r}"]
    return []


def compare(case):
    """Run both; return a list of problems (empty when they agree)."""
    with tempfile.TemporaryDirectory(prefix="mkcert-oracle-") as workdir:
        theirs, error = run_openssl(case, workdir)
    if theirs is not None:
        line_problems = subject_line_problems(case, theirs)
        if line_problems:
            return line_problems
    try:
        request, ours = run_ours(case)
    except BuilderLimitation as limitation:
        request = limitation.args[0]
        if theirs is None:
            return [f"{openssl_version()} refused it ({error.strip()[-300:]}) but we accepted it"]
        if request_subject_der(request) != subject_der(theirs):
            return [f"subject: openssl {subject_der(theirs).hex()} "
                    f"request {request_subject_der(request).hex()}"]
        if case.keygen and theirs.public_key().key_size != request.key.bits:
            return [f"key size: openssl {theirs.public_key().key_size} ours {request.key.bits}"]
        raise
    except ConfigError as problem:
        if theirs is None or case.deviation:
            return []
        return [f"we refused ({problem}) but {openssl_version()} accepted it"]
    if case.deviation:
        return [f"we accepted it, but it is a deliberate deviation: {case.deviation}"]
    if theirs is None:
        return [f"{openssl_version()} refused it ({error.strip()[-300:]}) but we accepted it"]
    if case.keygen and theirs.public_key().key_size != request.key.bits:
        return [f"key size: openssl {theirs.public_key().key_size} ours {request.key.bits}"]
    return differences(theirs, ours, request)


def compare_request(case):
    """compare(), but a request the builder cannot build yet counts as agreeing.

    Property tests check the reader; mkcert.x509.certificate's own limits (see the
    xfails in test_openssl_corpus.py) would otherwise hide reader bugs
    behind builder ones.  The request's subject was already checked.
    """
    try:
        return compare(case)
    except BuilderLimitation:
        return []
