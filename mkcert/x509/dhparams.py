"""Diffie-Hellman parameter files: PKCS#3, the RFC 7919 groups, and how each flavour makes fresh ones.

Upstream's mkdhparams runs ``openssl dhparam BITS`` (one core, minutes for
large sizes).  Here the same kind of parameters -- a safe prime p (p and
(p-1)/2 both prime), p = 23 mod 24 so that 2 generates the subgroup of prime
order (p-1)/2, generator 2, PKCS#3 PEM -- come from one independent search
per core (:mod:`mkcert.x509.safe_primes`, loaded only when a prime is
searched for), and the first result wins.  The gnutls flavour's file is
certtool's own output (:func:`certtool_dh_params`).

The named groups of RFC 7919 need no search at all: they are computed from
the RFC's definition (the digits of e) and encoded exactly as
``openssl genpkey -genparam -algorithm DH -pkeyopt group:NAME`` writes them.

Nothing here imports a crypto library at import time: ``--help`` and the
"file is fresh" path of mkdhparams load this module alone.
"""

from __future__ import annotations

import os

from mkcert.asn1 import der

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CERTTOOL", "DEFAULT_BITS", "GENERATOR", "MAX_BITS", "MIN_BITS", "NAMED_GROUPS",
           "RFC7919_X", "certtool_dh_params", "check_bits", "generate_dh_params_pem",
           "named_group_pem", "pkcs3_der", "pkcs3_pem", "rfc7919_prime"]

GENERATOR = 2  # RFC 7919's, and what a PKCS#3 file written here says unless told
DEFAULT_BITS = 2048
MIN_BITS = 512  # what `openssl dhparam` still accepts
MAX_BITS = 10000  # OpenSSL's OPENSSL_DH_MAX_MODULUS_BITS

# RFC 7919, appendix A: p = 2^b - 2^{b-64} + {[2^{b-130} e] + X } * 2^64 - 1
RFC7919_X = {
    2048: 560316,
    3072: 2625351,
    4096: 5736041,
    6144: 15705020,
    8192: 10965728,
}
NAMED_GROUPS = tuple(f"ffdhe{bits}" for bits in RFC7919_X)


def pkcs3_der(p: int, g: int = GENERATOR) -> bytes:
    """DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER } (PKCS #3).

    ``openssl dhparam`` and ``openssl genpkey`` (for the ffdhe groups) write
    no privateValueLength, so neither do we.
    """
    return der.sequence(der.integer(p), der.integer(g))


def pkcs3_pem(p: int, g: int = GENERATOR) -> bytes:
    """:func:`pkcs3_der` as the ``DH PARAMETERS`` PEM that ``openssl dhparam`` writes."""
    return der.pem(pkcs3_der(p, g), "DH PARAMETERS")


def _e_fixed_point(fraction_bits):
    """floor(e * 2^fraction_bits), from the series e = sum 1/k!, exactly.

    Enough guard bits are carried that the truncation errors of the terms
    cannot reach the integer part of the result.
    """
    guard = 64
    one = 1 << (fraction_bits + guard)
    total, term, k = 0, one, 0
    while term:
        total += term
        k += 1
        term //= k
    return total >> guard


def rfc7919_prime(bits: int) -> int:
    """The ffdhe prime of ``bits`` bits, computed from RFC 7919's formula."""
    x = RFC7919_X[bits]
    return (1 << bits) - (1 << (bits - 64)) + ((_e_fixed_point(bits - 130) + x) << 64) - 1


def named_group_pem(name: str) -> bytes:
    """The RFC 7919 group ``name`` (``ffdhe2048`` ... ``ffdhe8192``) as PKCS#3 PEM."""
    bits = _named_group_bits(name)
    return pkcs3_pem(rfc7919_prime(bits), GENERATOR)


def _named_group_bits(name):
    from mkcert.errors import MkcertError

    normalised = str(name).strip().lower()
    if normalised not in NAMED_GROUPS:
        raise MkcertError(f"unknown DH group {name!r} (known: {', '.join(NAMED_GROUPS)})")
    return int(normalised[len("ffdhe"):])


def generate_dh_params_pem(bits: int = DEFAULT_BITS, jobs: int | None = None,
                           progress: Callable[[], object] | None = None) -> bytes:
    """A fresh safe prime of ``bits`` bits with generator 2, as PKCS#3 PEM.

    What ``openssl dhparam BITS`` prints (same encoding, same kind of prime),
    found by ``jobs`` parallel searches (default: the usable CPUs).
    ``progress``, if given, is called about five times a second while the
    search runs (the command line draws its spinner with it).
    """
    from mkcert.x509.safe_primes import GENERATOR as SEARCHED_GENERATOR, find_safe_prime

    p = find_safe_prime(check_bits(bits), jobs=jobs, progress=progress)
    return pkcs3_pem(p, SEARCHED_GENERATOR)


def check_bits(bits: object) -> int:
    """``bits`` as a DH prime size ``openssl dhparam`` accepts; MkcertError otherwise."""
    from mkcert.errors import MkcertError

    try:
        value = int(bits)
    except (TypeError, ValueError):
        raise MkcertError(f"invalid DH prime size {bits!r} (a number of bits, at least {MIN_BITS})") from None
    if value < MIN_BITS:
        raise MkcertError(f"DH prime size {value} is too small (at least {MIN_BITS} bits)")
    if value > MAX_BITS:
        raise MkcertError(f"DH prime size {value} is too large (at most {MAX_BITS} bits)")
    return value


# --- the gnutls flavour ------------------------------------------------------

CERTTOOL = "certtool"
PEM_BEGIN = b"-----BEGIN DH PARAMETERS-----"


def certtool_dh_params(size_args: list[str],
                       progress: Callable[[], object] | None = None) -> bytes:
    """The output of ``certtool --generate-dh-params SIZE_ARGS``, exactly as upstream writes it.

    GnuTLS 3.7's certtool makes fresh random parameters (a prime p with a
    prime-order subgroup q, FIPS 186-4 style, and a random generator of that
    subgroup, PKCS#3 with privateValueLength = bits of q), preceded by a text
    dump ("Recommended key length", generator, prime) that GnuTLS's reader
    skips.  Nothing about them is deterministic, so the file is certtool's own
    output, byte for byte; only the handling around it is ours: certtool is
    reaped on every exit path and dies with us even if we are SIGKILLed.
    """
    import shutil
    import subprocess

    from mkcert.errors import MkcertError
    from mkcert.system.workers import die_with_parent

    executable = shutil.which(CERTTOOL)
    if executable is None:
        raise MkcertError("certtool not found: the gnutls flavour runs GnuTLS's certtool "
                          "(Debian: gnutls-bin); or set COURIER_SSLLIB=openssl")
    command = [executable, "--generate-dh-params", *size_args]
    parent = os.getpid()
    try:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, preexec_fn=lambda: die_with_parent(parent))
    except OSError as exc:
        raise MkcertError(f"cannot run {executable}: {exc.strerror or exc}") from None
    try:
        out, err = _communicate(child, progress)
    finally:
        _reap(child)
    if child.returncode != 0 or PEM_BEGIN not in out:
        raise MkcertError(f"certtool --generate-dh-params failed: {_last_line(err) or f'exit status {child.returncode}'}")
    return out


def _communicate(child, progress):
    import subprocess

    from mkcert.x509.safe_primes import PROGRESS_INTERVAL  # one rhythm for both flavours

    while True:
        try:
            return child.communicate(timeout=PROGRESS_INTERVAL)
        except subprocess.TimeoutExpired:
            if progress is not None:
                progress()


def _reap(child):
    from mkcert.system.signals import blocked_signals

    with blocked_signals():
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def _last_line(data):
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""
