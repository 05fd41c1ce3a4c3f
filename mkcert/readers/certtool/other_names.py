"""otherName entries of the subjectAltName: typed strings, raw DER, Kerberos principals.

Few templates have one, so only those load this module (from
:mod:`mkcert.readers.certtool.extensions`).
"""

from __future__ import annotations

import re

from mkcert.asn1 import der, general_names as gn
from mkcert.asn1.oids import KRB5_PRINCIPAL, XMPP_ADDR
from mkcert.errors import shorten
from mkcert.request import UTF8_STRING
from mkcert.readers.certtool.options import Option, Template, oid_and_value, require_utf8

__all__ = ["other_name"]

GENERAL_STRING = 0x1B  # the string type of Kerberos names (RFC 4120)


def other_name(template: Template, option: Option) -> bytes:
    """The otherName one of the extensions module's ``OTHER_NAME_OPTIONS`` gives."""
    if option.name == "krb5_principal":
        return _krb5_principal(template, option)
    return _typed_other_name(template, option)


def _typed_other_name(template, option):
    """An otherName: ``xmpp_name = addr``, ``other_name_utf8 = OID text``,
    ``other_name_octet = OID text`` (its bytes) or ``other_name = OID hex-DER``."""
    if option.name == "xmpp_name":
        oid, value = XMPP_ADDR, option.value
    else:
        oid, value = oid_and_value(template, option)
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)+", oid):
            template.fail(option, f"'{shorten(oid)}' is not an object identifier")
    if option.name == "other_name_octet":
        inner = der.octet_string(value.encode("utf-8", "surrogateescape"))
    elif option.name == "other_name":
        inner = _single_der_value(template, option, value)
    else:
        require_utf8(template, option)
        inner = der.tlv(UTF8_STRING, value.encode("utf-8"))
    return gn.other_name(oid, inner)


def _krb5_principal(template, option):
    """A Kerberos principal name as an otherName (RFC 4556 KRB5PrincipalName).

    As GnuTLS reads ``user/instance@REALM``: the realm follows the last
    "@"; with one "@" the rest is split at "/" (empty parts dropped, at
    most 6; name type 2 for krbtgt/REALM, else 1); with more than one "@"
    the rest is a single enterprise name (type 10).
    """
    text = option.value
    if "@" not in text:
        template.fail(option, f"Kerberos principal '{shorten(text)}' has no @REALM")
    name, _, realm = text.rpartition("@")
    if "@" in name:
        parts, name_type = [name], 10
    else:
        parts = [part for part in name.split("/") if part]
        if len(parts) > 6:
            template.fail(option, f"Kerberos principal '{shorten(text)}' has more than 6 parts")
        name_type = 2 if len(parts) == 2 and parts[0] == "krbtgt" else 1
    general = [der.tlv(GENERAL_STRING, p.encode("utf-8", "surrogateescape")) for p in parts]
    principal = der.sequence(
        der.context(0, der.tlv(GENERAL_STRING, realm.encode("utf-8", "surrogateescape"))),
        der.context(1, der.sequence(der.context(0, der.integer(name_type)),
                                    der.context(1, der.sequence(*general)))))
    return gn.other_name(KRB5_PRINCIPAL, principal)


def _single_der_value(template, option, digits):
    """``other_name``'s hex digits: exactly one DER value, which becomes the otherName's value."""
    if len(digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
        template.fail(option, f"'{shorten(digits)}' is not an even number of hex digits")
    value = bytes.fromhex(digits)
    try:
        if der.read_tlv(value)[2] != len(value):
            raise ValueError("more than one value")
    except (ValueError, IndexError):
        template.fail(option, f"'{shorten(digits)}' is not one DER value")
    return value
