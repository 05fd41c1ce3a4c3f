"""The few places where cryptography 38 (Debian 12) and the newest releases differ."""

from __future__ import annotations

import datetime

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = ["not_valid_after", "not_valid_before", "tls_context_error"]


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def not_valid_before(certificate: "x509.Certificate") -> datetime.datetime:
    """notBefore as an aware UTC datetime (``*_utc`` only exists since cryptography 42)."""
    try:
        return certificate.not_valid_before_utc
    except AttributeError:
        return _aware(certificate.not_valid_before)


def not_valid_after(certificate: "x509.Certificate") -> datetime.datetime:
    """notAfter as an aware UTC datetime."""
    try:
        return certificate.not_valid_after_utc
    except AttributeError:
        return _aware(certificate.not_valid_after)


def tls_context_error(certificate: "x509.Certificate", key: "PrivateKeyTypes") -> str | None:
    """Would a TLS server accept this certificate and key?  None, or OpenSSL's reason.

    Loads both into a pyOpenSSL ``SSL.Context`` and runs ``check_privatekey``,
    as a server starting up does.  pyOpenSSL 24.3 and later take
    cryptography objects directly; 23.0 (Debian 12) wants its own wrappers.
    The context runs at security level 0: weak keys and digests are the
    checker's WARNINGs to report, not a reason to call the PEM unloadable
    (Debian's system-wide SECLEVEL=2 would otherwise refuse a 1024-bit key).
    """
    from OpenSSL import SSL, crypto

    try:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
        try:
            context.use_certificate(certificate)
            context.use_privatekey(key)
        except TypeError:
            context.use_certificate(crypto.X509.from_cryptography(certificate))
            context.use_privatekey(crypto.PKey.from_cryptography_key(key))
        context.check_privatekey()
    except (SSL.Error, crypto.Error) as exc:
        return _openssl_reason(exc)
    return None


def _openssl_reason(exc):
    """The reason strings from a pyOpenSSL error (a list of (lib, func, reason))."""
    details = exc.args[0] if exc.args else None
    if isinstance(details, list) and details:
        return "; ".join(str(entry[-1]) for entry in details)
    return str(exc) or type(exc).__name__
