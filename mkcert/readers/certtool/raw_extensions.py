"""``add_extension`` and ``add_critical_extension``: an extension's DER, given in hex.

Few templates have one, so only those load this module.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der
from mkcert.errors import shorten
from mkcert.readers.certtool.options import Option, Template, oid_and_value

__all__ = ["raw_extension"]


def raw_extension(template: Template, option: Option) -> tuple[str, bytes]:
    """``add_extension = OID hex`` (or ``OID octet_string(hex)``): (OID, DER as given).

    The OID and the value are split as for dn_oid.
    """
    oid, value = oid_and_value(template, option)
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)+", oid):
        template.fail(option, f"'{shorten(oid)}' is not an object identifier")
    wrap = value.startswith("octet_string(")
    if wrap:
        if not value.endswith(")"):  # certtool ignores what follows the ")"
            template.fail(option, f"cannot read '{shorten(value)}'")
        value = value[len("octet_string("):-1]
    elif "(" in value:
        template.fail(option, f"cannot read '{shorten(value)}': only octet_string(...) is known")
    if value.startswith("0x"):
        value = value[2:]
    if not value or len(value) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", value):
        template.fail(option, f"'{shorten(value)}' is not an even number of hex digits")
    raw = bytes.fromhex(value)
    return oid, der.octet_string(raw) if wrap else raw
