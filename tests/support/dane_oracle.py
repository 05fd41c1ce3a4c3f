"""openssl as the oracle for what ``--check`` and ``--tlsa`` say about a key and certificate.

The key's digest is the pipeline DANE guides give for a ``3 1 1`` record,
run as it is written: ``openssl x509 -pubkey | openssl pkey -pubin -outform
DER | sha256sum``; the certificate's is ``openssl x509 -fingerprint -sha256``.
"""

import shlex
import subprocess


def _run(command):
    return subprocess.run(command, shell=isinstance(command, str), capture_output=True,
                          text=True, check=True, timeout=60).stdout


def certificate_sha256(pem) -> str:
    """``AB:CD:...`` of the first certificate in ``pem`` (a file)."""
    out = _run(["openssl", "x509", "-in", str(pem), "-noout", "-fingerprint", "-sha256"])
    return out.strip().split("=", 1)[1]


def spki_sha256(pem) -> str:
    """The hex SHA-256 of the public key of the first certificate in ``pem``."""
    out = _run(f"openssl x509 -in {shlex.quote(str(pem))} -noout -pubkey "
               f"| openssl pkey -pubin -outform DER | sha256sum")
    return out.split()[0]


def key_file_spki_sha256(key_path) -> str:
    """The hex SHA-256 of the public half of a private key file (a staged key)."""
    out = _run(f"openssl pkey -in {shlex.quote(str(key_path))} -pubout "
               f"| openssl pkey -pubin -outform DER | sha256sum")
    return out.split()[0]


def spki_sha512(pem) -> str:
    out = _run(f"openssl x509 -in {shlex.quote(str(pem))} -noout -pubkey "
               f"| openssl pkey -pubin -outform DER | sha512sum")
    return out.split()[0]


def fingerprint_suffix(pem) -> str:
    """What ``--check`` appends to its line for the PEM: both digests, openssl's."""
    return f"; certificate SHA-256 {certificate_sha256(pem)}; key SHA-256 {spki_sha256(pem)}"


def strip_fingerprints(line: str, pem) -> str:
    """The line without its fingerprints, which must be openssl's (a trailing newline stays)."""
    newline = "\n" if line.endswith("\n") else ""
    body, suffix = line[:len(line) - len(newline)], fingerprint_suffix(pem)
    assert body.endswith(suffix), (body, suffix)
    return body[:-len(suffix)] + newline
