"""Weak choices of a ``.cnf``: what a first run says about them, and what ``--renew`` does.

Courier's own imapd.cnf and pop3d.cnf (OpenSSL builds) still say
``default_md = sha1``.  A first run is a drop-in for Courier's script, so it
makes what the ``.cnf`` asks for, but says once where the weak setting is and
the way out.  ``--renew`` replaces certificates unattended, so it never makes
what ``--check`` calls weak (the rule is :func:`mkcert.request.weak_digest`
and :func:`mkcert.request.weak_rsa_bits`, which ``--check`` asks too): it
signs with SHA-256 and makes RSA keys of 2048 bits at least, keeping any
stronger choice of the ``.cnf``, and says so.
"""

from __future__ import annotations

from mkcert.request import MIN_STRONG_RSA_BITS, CertRequest, weak_digest, weak_rsa_bits

__all__ = ["ED25519_WARNING", "STRONG_DIGEST", "weak_choices", "weak_choice_warnings",
           "strengthen"]

STRONG_DIGEST = "sha256"
ED25519_WARNING = ("an Ed25519 key: many mail clients cannot use it yet "
                   "(--key-type ec is the widely supported choice)")


def weak_choices(request: CertRequest) -> list[tuple[str, str]]:
    """("digest" | "bits", what is weak) for each weak choice of the request."""
    found = []
    if request.key.algorithm != "ed25519" and weak_digest(request.digest):
        found.append(("digest", f"a signature with {request.digest}"))
    if request.key.algorithm == "rsa" and weak_rsa_bits(request.key.bits):
        found.append(("bits", f"an RSA key of {request.key.bits} bits"))
    return found


def weak_choice_warnings(request: CertRequest, config: str) -> list[str]:
    """A first run: one line naming the weak settings, where they are, and the way out."""
    parts, fixes = [], []
    for field, weakness in weak_choices(request):
        where = request.origin(field) or config
        if field == "digest":
            fix = "default_md = sha256"
        elif request.origin(field) is None:  # the size came from --key-type rsa:BITS
            where, fix = f"--key-type rsa:{request.key.bits}", "a larger rsa:BITS"
        else:
            fix = "default_bits = 2048" if request.flavour == "openssl" else "BITS=high"
        parts.append(f"{where}: {weakness}")
        fixes.append(fix)
    if not parts:
        return []
    return [f"{'; '.join(parts)}: --check calls {'these' if len(parts) > 1 else 'this'} weak; "
            f"made as the .cnf says, as Courier's script would (set {' and '.join(fixes)}, "
            f"or replace it later with --renew --upgrade)"]


def strengthen(request: CertRequest, config: str) -> tuple[CertRequest, list[str]]:
    """``--renew``: the request with every weak choice raised, and a line saying so."""
    changes, said = {}, []
    for field, _ in weak_choices(request):
        where = request.origin(field) or config
        if field == "digest":
            changes["digest"] = STRONG_DIGEST
            said.append(f"{where}: renewed with {STRONG_DIGEST}, not {request.digest}")
        else:
            changes["key"] = request.key.replace(bits=MIN_STRONG_RSA_BITS)
            said.append(f"{where}: renewed with an RSA key of {MIN_STRONG_RSA_BITS} bits, "
                        f"not {request.key.bits}")
    if not said:
        return request, []
    return request.replace(**changes), [
        f"{'; '.join(said)} (--renew never makes what --check calls weak)"]
