"""What a CA allows below it: policies, their constraints and mappings, name constraints.

certificatePolicies takes OIDs and ``@section`` policies with CPS and
userNotice qualifiers; policyConstraints, policyMappings and
inhibitAnyPolicy limit how policies carry down a chain; nameConstraints
limits the names (``permitted;DNS:example.com``, ``excluded;IP:addr/mask``).
"""

from __future__ import annotations

from mkcert.asn1 import der
from mkcert.asn1.oids import CPS_QUALIFIER, USER_NOTICE_QUALIFIER
from mkcert.errors import shorten
from mkcert.readers.openssl.extensions.general_names import general_name
from mkcert.readers.openssl.extensions.values import (ExtensionError, SectionReader, name_matches,
                                                      parse_integer, parse_list)

__all__ = ["certificate_policies", "name_constraints", "policy_constraints", "policy_mappings",
           "inhibit_any_policy"]


def certificate_policies(reader: SectionReader, value: str) -> bytes:
    """Policy OIDs and ``@section`` policies; ``ia5org`` types later organizations IA5."""
    policies = []
    ia5org = False
    for name, item in parse_list(value):
        if item is not None:
            raise ExtensionError(f"{shorten(name)}:{shorten(item)}: a policy is an OID"
                                 " or @section")
        if name == "ia5org":
            ia5org = True  # later notice sections write organization as IA5String
            continue
        if name.startswith("@"):
            policies.append(_policy_from_section(reader, reader.section(name[1:]), ia5org))
            continue
        oid = reader.resolve(name)
        if oid is None:
            raise ExtensionError(f"'{shorten(name)}' is not a policy OID")
        policies.append(der.sequence(der.oid(oid)))
    return der.sequence(*policies)


def _policy_from_section(reader, entries, ia5org=False):
    policy_oid, qualifiers = None, []
    for name, value in entries:
        if name == "policyIdentifier":
            policy_oid = reader.resolve(value)
            if policy_oid is None:
                raise ExtensionError(f"policyIdentifier = {shorten(value)} is not an OID")
        elif name_matches(name, "CPS"):
            qualifiers.append(der.sequence(der.oid(CPS_QUALIFIER),
                                           der.tlv(0x16, value.encode("utf-8", "surrogateescape"))))
        elif name_matches(name, "userNotice"):
            if not value.startswith("@"):
                raise ExtensionError(f"{shorten(name)} = {shorten(value)}: expected @section")
            notice = _user_notice(reader.section(value[1:]), ia5org)
            qualifiers.append(der.sequence(der.oid(USER_NOTICE_QUALIFIER), notice))
        else:
            raise ExtensionError(f"'{shorten(name)}' is not policyIdentifier, CPS or userNotice")
    if policy_oid is None:
        raise ExtensionError("a policy section needs a policyIdentifier")
    parts = [der.oid(policy_oid)]
    if qualifiers:
        parts.append(der.sequence(*qualifiers))
    return der.sequence(*parts)


# explicitText = TYPE:text picks the DisplayText type; the bytes go in as
# they are (OpenSSL does not convert them, not even for BMP).
_DISPLAY_TEXT_TYPES = (("UTF8:", 12), ("UTF8String:", 12), ("BMP:", 30),
                       ("BMPSTRING:", 30), ("VISIBLE:", 26), ("VISIBLESTRING:", 26),
                       ("IA5:", 22), ("IA5STRING:", 22))


def _user_notice(entries, ia5org):
    explicit_text, organization, numbers = None, None, None
    for name, value in entries:
        raw = value.encode("utf-8", "surrogateescape")
        if name == "explicitText":
            tag = 26
            for prefix, prefix_tag in _DISPLAY_TEXT_TYPES:
                if value.startswith(prefix):
                    tag, raw = prefix_tag, raw[len(prefix):]
                    break
            explicit_text = der.tlv(tag, raw)
        elif name == "organization":
            organization = raw
        elif name == "noticeNumbers":
            items = parse_list(value)
            numbers = (numbers or []) + [der.integer(parse_integer(number)) for number, _ in items]
        else:
            raise ExtensionError(f"'{shorten(name)}' is not explicitText, organization or"
                                 " noticeNumbers")
    if numbers is not None and organization is None:
        # OpenSSL writes an undecodable organization field in this case.
        raise ExtensionError("noticeNumbers needs an organization in the same section")
    parts = []
    if organization is not None or numbers is not None:
        parts.append(der.sequence(der.tlv(22 if ia5org else 26, organization or b""),
                                  der.sequence(*(numbers or []))))
    if explicit_text is not None:
        parts.append(explicit_text)
    return der.sequence(*parts)


def name_constraints(reader: SectionReader, values: list[tuple[str, str | None]]) -> bytes:
    """``permitted;TYPE:value`` and ``excluded;TYPE:value`` subtrees."""
    subtrees = {"permitted": [], "excluded": []}
    for name, value in values:
        for kind in subtrees:
            if name.startswith(kind) and len(name) > len(kind):
                # One separator character after the word: permitted;DNS.
                base = general_name(reader, name[len(kind) + 1:], value, constraint=True)
                subtrees[kind].append(der.sequence(base))
                break
        else:
            raise ExtensionError(f"'{shorten(name)}': expected permitted;TYPE or excluded;TYPE")
    parts = []
    for number, kind in enumerate(("permitted", "excluded")):
        if subtrees[kind]:
            parts.append(der.context(number, b"".join(subtrees[kind])))
    return der.sequence(*parts)


def policy_constraints(reader: SectionReader, values: list[tuple[str, str | None]]) -> bytes:
    fields = {}
    for name, value in values:
        if name not in ("requireExplicitPolicy", "inhibitPolicyMapping"):
            raise ExtensionError(f"'{shorten(name)}' is not requireExplicitPolicy or"
                                 " inhibitPolicyMapping")
        fields[name] = parse_integer(value)
    if not fields:
        raise ExtensionError("policyConstraints needs a value")
    parts = []
    for number, name in enumerate(("requireExplicitPolicy", "inhibitPolicyMapping")):
        if name in fields:
            content = der.content(der.integer(fields[name]))
            parts.append(der.context(number, content, constructed=False))
    return der.sequence(*parts)


def policy_mappings(reader: SectionReader, values: list[tuple[str, str | None]]) -> bytes:
    """``issuerPolicy:subjectPolicy`` pairs of OIDs."""
    mappings = []
    for issuer_policy, subject_policy in values:
        first = reader.resolve(issuer_policy) if subject_policy is not None else None
        second = reader.resolve(subject_policy) if subject_policy is not None else None
        if first is None or second is None:
            raise ExtensionError(f"{shorten(f'{issuer_policy}:{subject_policy}')}: expected"
                                 " issuerPolicyOID:subjectPolicyOID")
        mappings.append(der.sequence(der.oid(first), der.oid(second)))
    return der.sequence(*mappings)


def inhibit_any_policy(reader: SectionReader, value: str) -> bytes:
    return der.integer(parse_integer(value))
