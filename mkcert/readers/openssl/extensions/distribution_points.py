"""Where a certificate's CRL is: crlDistributionPoints, freshestCRL, issuingDistributionPoint.

A point is a name (``URI:http://...`` inline, or a section with
``fullname``/``relativename``), with the revocation reasons it covers and
the CRL issuer.  issuingDistributionPoint is a CRL extension, but OpenSSL
puts it into a certificate when a section asks.
"""

from __future__ import annotations

from mkcert.asn1 import der
from mkcert.errors import shorten
from mkcert.readers.openssl.extensions.general_names import general_name, names_from, relative_name
from mkcert.readers.openssl.extensions.values import (ExtensionError, SectionReader, parse_bool,
                                                      parse_list)

__all__ = ["crl_distribution_points", "issuing_distribution_point"]

_REASON_BITS = {"unused": 0, "keyCompromise": 1, "CACompromise": 2,
               "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5,
               "certificateHold": 6, "privilegeWithdrawn": 7, "AACompromise": 8}


def crl_distribution_points(reader: SectionReader, values: list[tuple[str, str | None]]) -> bytes:
    """crlDistributionPoints and freshestCRL: ``URI:...`` points or point sections."""
    points = []
    for name, value in values:
        if value is None:
            points.append(_distribution_point_from_section(reader, reader.section(name)))
        else:
            full_name = der.context(0, general_name(reader, name, value))
            points.append(der.sequence(der.context(0, full_name)))
    return der.sequence(*points)


def _point_name(reader, name, value):
    """[0] fullName or [1] nameRelativeToCRLIssuer for a fullname/relativename line."""
    if name == "fullname":
        return der.context(0, b"".join(names_from(reader, value)))
    if value is None:
        raise ExtensionError("relativename needs a section name")
    return der.context(1, relative_name(reader, value))


def _reason_flags(value):
    """The ReasonFlags BIT STRING content for ``keyCompromise, CACompromise, ...``."""
    bits = set()
    for reason, _ in parse_list(value or ""):
        if reason not in _REASON_BITS:
            raise ExtensionError(f"'{shorten(reason)}' is not a revocation reason")
        bits.add(_REASON_BITS[reason])
    return der.named_bits(bits)[2:]


def _distribution_point_from_section(reader, entries):
    name = reasons = issuer = None
    for key, value in entries:
        if key in ("fullname", "relativename"):
            if name is not None:
                raise ExtensionError("the distribution point name is set twice")
            name = _point_name(reader, key, value)
        elif key == "reasons":
            if reasons is not None:
                raise ExtensionError("reasons is set twice")
            reasons = der.tlv(0x81, _reason_flags(value))
        elif key == "CRLissuer":
            issuer = der.context(2, b"".join(names_from(reader, value)))
    parts = [der.context(0, name)] if name is not None else []
    parts += [part for part in (reasons, issuer) if part is not None]
    return der.sequence(*parts)


def issuing_distribution_point(reader: SectionReader,
                               values: list[tuple[str, str | None]]) -> bytes:
    """issuingDistributionPoint (a CRL extension OpenSSL also puts in certificates)."""
    name, flags, reasons = None, {}, None
    numbers = {"onlyuser": 1, "onlyCA": 2, "indirectCRL": 4, "onlyAA": 5}
    for key, value in values:
        if key in ("fullname", "relativename"):
            if name is not None:
                raise ExtensionError("the distribution point name is set twice")
            name = _point_name(reader, key, value)
        elif key in numbers:
            if value is None:
                raise ExtensionError(f"{key} needs a value: {key}:true or {key}:false")
            flags[numbers[key]] = parse_bool(key, value)
        elif key == "onlysomereasons":
            if reasons is not None:
                raise ExtensionError("onlysomereasons is set twice")
            reasons = _reason_flags(value)
        else:
            raise ExtensionError(f"'{shorten(key)}' is not fullname, relativename, onlyuser,"
                                 " onlyCA,"
                                 " onlyAA, indirectCRL or onlysomereasons")
    parts = [der.context(0, name)] if name is not None else []
    for number in (1, 2, 3, 4, 5):
        if number == 3 and reasons is not None:
            parts.append(der.tlv(0x83, reasons))
        elif flags.get(number):  # FALSE is the default and is left out
            parts.append(der.tlv(0x80 | number, b"\xff"))
    return der.sequence(*parts)
