"""authorityInfoAccess and subjectInfoAccess: ``OCSP;URI:http://...`` lines.

Each line is an access method (a name such as OCSP or caIssuers, or an
OID), a ``;`` and the GeneralName where it is found.
"""

from __future__ import annotations

from mkcert.asn1 import der
from mkcert.errors import shorten
from mkcert.readers.openssl.extensions.general_names import general_name
from mkcert.readers.openssl.extensions.values import ExtensionError, SectionReader

__all__ = ["information_access"]


def information_access(reader: SectionReader, values: list[tuple[str, str | None]]) -> bytes:
    """authorityInfoAccess or subjectInfoAccess: one AccessDescription per line."""
    descriptions = []
    for name, value in values:
        method, semicolon, kind = name.partition(";")
        if not semicolon:
            raise ExtensionError(f"{shorten(name)}: expected METHOD;TYPE:value,"
                                 " e.g. OCSP;URI:http://...")
        location = general_name(reader, kind, value)
        oid = reader.resolve(method)
        if oid is None:
            raise ExtensionError(f"'{shorten(method)}' is not an access method (OCSP,"
                                 " caIssuers or an OID)")
        descriptions.append(der.sequence(der.oid(oid), location))
    return der.sequence(*descriptions)
