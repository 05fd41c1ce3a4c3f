"""The few places where cryptography 38 (Debian 12) and the newest releases differ."""

import datetime


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def not_valid_before(certificate):
    """notBefore as an aware UTC datetime (``*_utc`` only exists since cryptography 42)."""
    try:
        return certificate.not_valid_before_utc
    except AttributeError:
        return _aware(certificate.not_valid_before)


def not_valid_after(certificate):
    """notAfter as an aware UTC datetime."""
    try:
        return certificate.not_valid_after_utc
    except AttributeError:
        return _aware(certificate.not_valid_after)
