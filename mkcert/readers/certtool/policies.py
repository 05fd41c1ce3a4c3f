"""Certificate policies: ``policy1`` to ``policy8`` and ``inhibit_anypolicy_skip_certs``.

Few templates name a policy, so only those load this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mkcert.asn1 import der
from mkcert.asn1.oids import (CERTIFICATE_POLICIES, CPS_QUALIFIER, INHIBIT_ANY_POLICY,
                              USER_NOTICE_QUALIFIER)
from mkcert.errors import shorten
from mkcert.request import IA5_STRING, UTF8_STRING
from mkcert.readers.certtool.options import (Template, numeric_option, object_identifier,
                                             require_utf8)

__all__ = ["policy_extensions", "policy_used"]


def policy_extensions(template: Template) -> Iterator[tuple[str, bytes]]:
    """inhibitAnyPolicy, then certificatePolicies from policy1 up to the first gap.

    (extension OID, value) pairs, made one at a time: certtool stops at the
    first clash with an add_extension, before it reads the next policy.
    """
    skip, _ = numeric_option(template, "inhibit_anypolicy_skip_certs")
    if skip is not None and skip >= 0:
        yield INHIBIT_ANY_POLICY, der.integer(skip)
    for number in range(1, 9):
        option = template.first(f"policy{number}")
        if option is None:
            break
        qualifiers = []
        text = template.first(f"policy{number}_txt")
        if text is not None:
            require_utf8(template, text)
            notice = der.sequence(der.tlv(UTF8_STRING, text.value.encode("utf-8")))
            qualifiers.append(der.sequence(der.oid(USER_NOTICE_QUALIFIER), notice))
        url = template.first(f"policy{number}_url")
        if url is not None:
            if not url.value.isascii():
                template.fail(url, f"'{url.name}' must be ASCII: '{shorten(url.value)}'")
            qualifiers.append(der.sequence(der.oid(CPS_QUALIFIER),
                                           der.tlv(IA5_STRING, url.value.encode("ascii"))))
        policy = [object_identifier(template, option)]
        policy += [der.sequence(*qualifiers)] if qualifiers else []
        yield CERTIFICATE_POLICIES, der.sequence(*policy)


def policy_used(template: Template, name: str) -> bool:
    """Whether certtool reads the ``policy*`` option ``name``: policy1 to policy8
    and their _txt and _url, as far as no policyN before it is missing."""
    match = re.fullmatch(r"policy([1-8])(_txt|_url)?", name)
    return match is not None and all(template.has(f"policy{i}")
                                     for i in range(1, int(match.group(1)) + 1))
