"""DANE for Courier's services: the TLSA records a PEM needs, and whether DNS has them.

A mail host that publishes ``_25._tcp.mx.example.org. IN TLSA 3 1 1 ...``
(the SHA-256 of its public key, RFC 7672) is unreachable over DANE for
every sender that checks, the moment it serves a key without a record.  So
``--tlsa`` prints the records for the key served now and for the staged
next key (:func:`mkcert.layout.staged_key_path`), which must both be in DNS
before a rollover, and ``--check --tlsa-records FILE`` (or
``--tlsa-from-dns``) compares the published records with both keys:

* CRITICAL when no record at the service's name matches what is served:
  the leaf for usages 3 and 1, a CA certificate of the chain for 2 and 0,
  by public key (selector 1) or whole certificate (selector 0);
* WARNING when a staged key has no record of its public key yet, unless a
  CA record keeps the service reachable through a change of key anyway.

The record's name is ``_PORT._tcp.HOST.``: the port by service (esmtpd
25, imapd 993, pop3d 995; ``--port`` for others or to differ), the host
from ``--host`` or else the certificate's first DNS subjectAltName that is
no wildcard.
"""

from __future__ import annotations

from mkcert import layout
from mkcert.errors import MkcertError, describe, shorten
from mkcert.record import REQUIRED, Record

__all__ = ["DEFAULT_PORTS", "TlsaPlan", "TlsaEntry", "DaneCheck", "TlsaVerdict",
           "tlsa_records", "record_name", "service_port", "host_name", "examine_tlsa"]

DEFAULT_PORTS = {"esmtpd": 25, "imapd": 993, "pop3d": 995}


class TlsaPlan(Record):
    """``--tlsa``: the PEM, its service, the port and host if given, and the usage (3 or 2)."""

    FIELDS = (("pem", REQUIRED), ("service", REQUIRED), ("port", None), ("host", None),
              ("usage", 3))
    __slots__ = tuple(name for name, _ in FIELDS)


class TlsaEntry(Record):
    """One record to publish, and what it stands for (``current key``, ...)."""

    FIELDS = (("name", REQUIRED), ("usage", REQUIRED), ("selector", REQUIRED),
              ("matching", REQUIRED), ("data", REQUIRED), ("about", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


class DaneCheck(Record):
    """What ``--check`` compares the keys with: a records file, or DNS (optionally one server)."""

    FIELDS = (("service", REQUIRED), ("port", None), ("host", None), ("records_path", None),
              ("from_dns", False), ("dns_server", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class TlsaVerdict(Record):
    """What the comparison found, for the line and ``--json``.

    ``served``/``staged``: the records (``source:line 3 1 1 hex``) that
    match the served certificate and the staged key; ``staged_key`` the
    staged key's path, None when there is none; ``through_authority``: a
    CA's record matches, which a change of the server's key keeps valid.
    """

    FIELDS = (("name", None), ("source", None), ("records", 0), ("served", ()),
              ("staged_key", None), ("staged", ()), ("staged_key_sha256", None),
              ("through_authority", False))
    __slots__ = tuple(name for name, _ in FIELDS)

    def summary(self) -> str | None:
        """``TLSA at NAME matches the served key`` (and the staged one), or None."""
        if not self.served:
            return None
        keys = "the served and the staged key" if self.staged else "the served key"
        return f"TLSA at {self.name} matches {keys}"

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "source": self.source, "records": self.records,
                "served_matches": list(self.served), "staged_key": self.staged_key,
                "staged_key_sha256": self.staged_key_sha256,
                "staged_matches": list(self.staged)}


def record_name(port: int, host: str) -> str:
    return f"_{port}._tcp.{host.rstrip('.').lower()}."


def service_port(service: str, port: int | None) -> int:
    """``--port``, else the service's well-known TLS port."""
    if port is not None:
        return port
    if service not in DEFAULT_PORTS:
        raise MkcertError(f"no default port for service {service!r} (esmtpd 25, imapd 993, "
                          f"pop3d 995): give --port")
    return DEFAULT_PORTS[service]


def host_name(certificate, host: str | None) -> str:
    """``--host``, else the certificate's first DNS subjectAltName that is no wildcard."""
    if host is not None:
        return host
    from mkcert.asn1 import der, general_names
    from mkcert.x509.inspect import subject_alt_names

    try:
        names = subject_alt_names(certificate)
    except ValueError as exc:
        raise MkcertError(f"no host name for the TLSA record: the certificate's "
                          f"subjectAltName cannot be read ({exc}); give --host") from None
    for entry in names:
        if general_names.choice(entry) == general_names.DNS_NAME:
            name = _host(der.content(entry))
            if name is not None:
                return name
    raise MkcertError("no host name for the TLSA record: the certificate has no DNS "
                      "subjectAltName; give --host")


def _host(dns_name):
    """A subjectAltName's DNS name if it is a host's (no wildcard, nothing odd), else None.

    The name goes into the record's name and the check's one line: what is
    no valid host name (a control character, say) is passed over.
    """
    from mkcert.readers.san import SanError, dns_name as valid_dns_name

    try:
        name = dns_name.decode("ascii")
        valid_dns_name(name)
    except (UnicodeDecodeError, SanError):
        return None
    return None if name.startswith("*") else name.lower()


def tlsa_records(plan: TlsaPlan) -> list[TlsaEntry]:
    """``--tlsa``: the records to publish for the PEM (and its staged next key)."""
    from mkcert.x509 import tlsa

    certificates = _certificates(plan.pem)
    name = record_name(service_port(plan.service, plan.port),
                       host_name(certificates[0], plan.host))
    if plan.usage == tlsa.DANE_TA:
        authority = _issuing_authority(plan.pem, certificates)
        data = tlsa.certificate_association(authority, tlsa.PUBLIC_KEY, tlsa.SHA256)
        return [TlsaEntry(name, tlsa.DANE_TA, tlsa.PUBLIC_KEY, tlsa.SHA256, data,
                          f"issuing CA {_subject(authority)}")]
    entries = [TlsaEntry(name, tlsa.DANE_EE, tlsa.PUBLIC_KEY, tlsa.SHA256,
                         tlsa.certificate_association(certificates[0], tlsa.PUBLIC_KEY,
                                                      tlsa.SHA256), "current key")]
    staged_path, staged = read_staged_key(plan.pem)
    if staged is not None:
        entries.append(TlsaEntry(name, tlsa.DANE_EE, tlsa.PUBLIC_KEY, tlsa.SHA256,
                                 tlsa.association(tlsa.key_spki(staged), tlsa.SHA256),
                                 f"staged next key {shorten(staged_path, len(staged_path))}"))
    return entries


def _certificates(pem):
    """The PEM's certificates, leaf first; MkcertError when there is none to read."""
    from mkcert.system.files import read_regular_file
    from mkcert.x509 import chain

    try:
        data = read_regular_file(pem, chain.MAX_PEM_BYTES)
    except OSError as exc:
        raise MkcertError(f"cannot read {pem}: {describe(exc)}") from None
    blocks = chain.certificate_blocks(chain.pem_blocks(data))
    if not blocks:
        raise MkcertError(f"{pem}: no certificate in it (no BEGIN CERTIFICATE block)")
    certificates = []
    for number, block in enumerate(blocks, 1):
        try:
            certificates.append(chain.load_certificate(block))
        except ValueError as exc:
            raise MkcertError(f"{pem}: certificate {number} cannot be read: {exc}") from None
    return certificates


def _issuing_authority(pem, certificates):
    """The certificate after the leaf, if it really issued the leaf."""
    from mkcert.x509.chain import issued_by

    if len(certificates) < 2:
        raise MkcertError(f"{pem}: no issuing CA certificate after the server's own (a "
                          f"self-signed one needs usage 3: --tlsa without --tlsa-usage 2)")
    if not issued_by(certificates[0], certificates[1]):
        raise MkcertError(f"{pem}: certificate 2 ({_subject(certificates[1])}) did not issue "
                          f"the server's certificate; see --check")
    return certificates[1]


def _subject(certificate):
    from mkcert.x509.inspect import format_name, subject_der

    return format_name(subject_der(certificate)) or "(empty name)"


def read_staged_key(pem: str):
    """(path, key) of the staged next key, (path, None) when there is none.

    MkcertError when it is there but not a key a server could use: read as
    ``--renew --rollover`` reads it (:func:`mkcert.actions.stage.read_staged_key`).
    """
    import os

    from mkcert.actions.stage import read_staged_key as read_key

    path = layout.staged_key_path(pem)
    if not os.path.lexists(path):
        return path, None
    return path, read_key(pem)


def examine_tlsa(findings, plan: DaneCheck) -> None:
    """``--check``'s TLSA part: add what the records say about the served and staged keys.

    ``findings`` is :class:`mkcert.actions.check.Findings` after the PEM's
    examination (its certificate and chain are read).  A question that
    cannot be answered (no name, unreadable records, no dnspython, no DNS
    answer) is UNKNOWN: the check could not be made, which says nothing
    about the keys.
    """
    from mkcert.actions.check_result import CRITICAL, UNKNOWN, WARNING

    try:
        name = record_name(service_port(plan.service, plan.port),
                           host_name(findings.certificate, plan.host))
        source, records = _published(plan, name)
    except (MkcertError, ValueError) as exc:
        findings.add(UNKNOWN, f"TLSA: {exc}")
        return
    verdict = _compare(findings, name, source, records)
    try:
        verdict = _compare_staged(findings.path, verdict, records)
    except MkcertError as exc:
        findings.add(WARNING, f"{exc} (a rollover to it would fail)")
    findings.tlsa = verdict
    if not verdict.served:
        found = verdict.records
        findings.add(CRITICAL, f"no TLSA record at {name} in {source}" if not found else
                     f"none of the {found} TLSA records at {name} in {source} matches "
                     f"the served certificate")
    if verdict.staged_key is not None and not verdict.staged and not (
            verdict.through_authority):
        findings.add(WARNING, f"the staged next key {verdict.staged_key} has no TLSA record "
                              f"at {name} yet: a rollover now would break DANE")


def _published(plan, name):
    """(source as messages name it, the TLSA records at ``name``)."""
    from mkcert.readers.tlsa_records import owner_matches, parse_records, read_records

    if plan.from_dns:
        from mkcert.system.dns_lookup import DnsError, DnsUnavailable, tlsa_zone_text

        try:
            text = tlsa_zone_text(name, plan.dns_server)
        except (DnsUnavailable, DnsError) as exc:
            raise MkcertError(str(exc)) from None
        source, records = "DNS", parse_records(text, f"DNS {name}")
    else:
        source, records = plan.records_path, read_records(plan.records_path)
    source = shorten(source, len(source))  # it goes into the one line
    return source, [record for record in records if owner_matches(record.owner, name)]


def _compare(findings, name, source, records):
    from mkcert.x509 import tlsa

    chain = [entry.certificate for entry in findings.chain or () if entry.certificate]
    served, through_authority = [], False
    for record in records:
        if record.usage in tlsa.END_ENTITY_USAGES:
            matched = tlsa.matches_certificate(record, findings.certificate)
        else:
            matched = any(tlsa.matches_certificate(record, ca) for ca in chain)
            through_authority = through_authority or matched
        if matched:
            served.append(_label(record))
    return TlsaVerdict(name=name, source=source, records=len(records), served=tuple(served),
                       through_authority=through_authority)


def _compare_staged(pem, verdict, records):
    from mkcert.x509 import tlsa

    path, key = read_staged_key(pem)
    if key is None:
        return verdict
    spki = tlsa.key_spki(key)
    staged = tuple(_label(record) for record in records
                   if record.usage in tlsa.END_ENTITY_USAGES and tlsa.matches_key(record, spki))
    return verdict.replace(staged_key=shorten(path, len(path)), staged=staged,
                           staged_key_sha256=tlsa.association(spki, tlsa.SHA256).hex())


def _label(record):
    return f"{record.where()} {record.fields_text()}"
