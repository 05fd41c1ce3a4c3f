"""``--check``: is a Courier PEM still fit to serve, and for how long?

The 2007 how-to begins "after a year of good and loyal service, your Courier
server fails": nothing warned that the self-signed certificate was about to
expire.  This module examines one PEM the way a monitoring plugin would and
returns a :class:`CheckResult`; the command line prints it.  It reads the
one file (and the trust anchors of ``--ca-file``, when given) and nothing
else, and never writes, so it is safe to run from
Nagios, Icinga, a cron job or by hand as often as anyone likes.

Every finding is a :class:`~mkcert.actions.check_result.Problem` with its
level, and the result's state is the worst of them; the result and how it
is said are :mod:`mkcert.actions.check_result`.

Mode decision: a PEM that others (the "other" permission bits) may read or
write is CRITICAL, as is one its group may write; a PEM its group may read
is fine, because that is Debian's standard (postinst sets 0640 root:courier
so the daemons, running as group courier, can read the key).

The chain: a certificate from a CA (``--install`` puts certbot's there) is
followed in the PEM by the intermediates that lead towards the CA's root,
in the order a TLS server sends them.  Clients refuse the server when a
link is broken or a chain certificate is out of date, so those are
CRITICAL, as for the server's own certificate; a chain certificate about to
expire is a WARNING, because replacing the leaf alone will not help then.
A CA-issued certificate without any chain is not a problem by itself: a
private CA's root may be installed on every client.
"""

from __future__ import annotations

import collections
import datetime
import stat

from mkcert.actions.check_result import (CRITICAL, UNKNOWN, WARNING, ChainCertificate,
                                         CheckResult, Problem, days_between, format_moment)
from mkcert.actions.defaults import CHECK_WARN_DAYS
from mkcert.system.files import FileTooLarge, NotRegularFile, read_regular_file_with_stat
from mkcert.request import (MIN_STRONG_RSA_BITS, REQUIRED, WEAK_DIGESTS, Record, weak_digest,
                            weak_rsa_bits)
TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from mkcert.actions.dane import DaneCheck

from mkcert.x509.chain import (DIGEST_BY_SIGNATURE_OID, MAX_PEM_BYTES, certificate_blocks,
                    certificate_public_key, chain_breaks, is_encrypted, is_self_signed,
                    key_matches, load_certificate, pem_blocks, private_key_blocks)

__all__ = ["DEFAULT_WARN_DAYS", "MIN_RSA_BITS", "WEAK_DIGESTS", "Plan", "Findings", "check", "check_pem", "examine"]

DEFAULT_WARN_DAYS = CHECK_WARN_DAYS
MIN_RSA_BITS = MIN_STRONG_RSA_BITS  # the rule's home is mkcert.request
SAN_OID = "2.5.29.17"
COMMON_NAME_OID = "2.5.4.3"


class Plan(Record):
    """``--check``: the PEM to examine, how many days before expiry to warn,
    the TLSA records to compare its keys with (a :class:`mkcert.actions.dane.DaneCheck`),
    and ``ca_certificate``: the local CA's certificate, against which a PEM it
    issued is checked too (:func:`mkcert.actions.issue.ca_findings`)."""

    FIELDS = (("pem", REQUIRED), ("warn_days", DEFAULT_WARN_DAYS), ("tlsa", None),
              ("ca_certificate", None), ("ca_file", None), ("key", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def check(plan: Plan) -> CheckResult:
    """``--check``: :func:`check_pem`, and UNKNOWN for whatever goes wrong in it.

    Never raises, not even for ^C: a monitoring plugin answers UNKNOWN
    rather than with a traceback, since the monitor shows the first line.
    """
    try:
        result = check_pem(plan.pem, plan.warn_days, tlsa=plan.tlsa, ca_file=plan.ca_file,
                            key_path=plan.key)
        if plan.ca_certificate is not None:
            from mkcert.actions.issue import ca_findings

            result = ca_findings(result, plan.ca_certificate)
        return result
    except BaseException as exc:  # noqa: B036 - a plugin answers UNKNOWN, even to ^C
        problem = Problem(UNKNOWN, f"check failed: {type(exc).__name__}: {exc}")
        return CheckResult(path=plan.pem, problems=(problem,))


class Findings:
    """What a check has found so far: the one mutable object of an examination.

    The steps below fill it in as they read the PEM, field by field and
    problem by problem (a step that fails leaves the rest None);
    :meth:`result` makes the :class:`CheckResult` of it, once, at the end.
    """

    __slots__ = tuple(name for name, _ in CheckResult.FIELDS)

    def __init__(self, path: str) -> None:
        for name, default in CheckResult.FIELDS:
            setattr(self, name, default)
        self.path = path
        self.problems = []

    def add(self, level: int, text: str) -> None:
        self.problems.append(Problem(level, text))

    def result(self) -> CheckResult:
        values = {name: getattr(self, name) for name, _ in CheckResult.FIELDS}
        values["problems"] = tuple(self.problems)
        if self.chain is not None:
            values["chain"] = tuple(self.chain)
        return CheckResult(**values)


def check_pem(path: str, warn_days: int = DEFAULT_WARN_DAYS,
              now: datetime.datetime | None = None, tlsa: "DaneCheck | None" = None,
              ca_file: str | None = None, key_path: str | None = None) -> CheckResult:
    """Examine the PEM at ``path``; never raises for anything the file contains.

    ``tlsa``: compare its keys with published TLSA records too (:mod:`mkcert.actions.dane`).
    ``ca_file``: trust anchors the chain must end at (:mod:`mkcert.actions.anchors`).
    ``key_path``: Courier's ``TLS_PRIVATE_KEYFILE`` for this PEM, which
    holds the key instead (its mode is then the one judged for secrecy).
    """
    result = Findings(path)
    result.ca_file = ca_file
    data = _read(path, result, holds_key=key_path is None)
    if data is None:
        return result.result()
    key_data = None
    if key_path is not None:
        key_data = _read_key_file(key_path, result)
        if key_data is None:
            return result.result()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    examine(data, result, warn_days, now, key_data=key_data)
    if ca_file is not None:
        _check_anchor(result, ca_file)
    if tlsa is not None and result.certificate is not None:
        from mkcert.actions.dane import examine_tlsa

        examine_tlsa(result, tlsa)
    return result.result()


def _check_anchor(result, ca_file):
    """The last certificate of the PEM must be, or be issued by, one of ``ca_file``'s."""
    from mkcert.actions.anchors import anchor_of, read_anchors
    from mkcert.errors import MkcertError
    from mkcert.x509.inspect import format_name, subject_der

    if result.certificate is None or any(e.certificate is None for e in result.chain or ()):
        return  # already CRITICAL: what cannot be read cannot be anchored
    try:
        anchors = read_anchors(ca_file)
    except MkcertError as exc:
        result.add(UNKNOWN, str(exc))
        return
    last = result.chain[-1].certificate if result.chain else result.certificate
    anchor = anchor_of(last, anchors)
    if anchor is None:
        result.add(CRITICAL, f"no certificate in {ca_file} is or issued the last one of the "
                             f"PEM ({format_name(subject_der(last)) or '(empty name)'}): "
                             f"clients trusting only those refuse it")
        return
    result.trust_anchor = format_name(subject_der(anchor))
    result.trust_anchor_common_name = _common_name(anchor, subject_der)


def _read_key_file(path, result):
    """The separate key file's bytes, or None with the reason recorded as CRITICAL."""
    try:
        data, st = read_regular_file_with_stat(path, MAX_PEM_BYTES)
    except FileNotFoundError:
        result.add(CRITICAL, f"the key file {path} is missing")
        return None
    except OSError as exc:
        result.add(CRITICAL, f"cannot read the key file {path}: {exc.strerror or exc}")
        return None
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        result.add(CRITICAL, f"the key file {path} is mode {mode:04o}: others may read or "
                             f"write the private key")
    elif mode & stat.S_IWGRP:
        result.add(CRITICAL, f"the key file {path} is mode {mode:04o}: its group may "
                             f"replace the private key")
    return data


def _read(path, result, holds_key=True):
    """The file's bytes, or None with the reason recorded as CRITICAL."""
    try:
        data, st = read_regular_file_with_stat(path, MAX_PEM_BYTES)
    except NotRegularFile:
        result.add(CRITICAL, "not a regular file")
        return None
    except FileTooLarge as exc:
        _record_stat(exc.stat, result, holds_key)
        result.add(CRITICAL, f"larger than {MAX_PEM_BYTES} bytes, more than any PEM holds; "
                             f"not read")
        return None
    except FileNotFoundError:
        result.add(CRITICAL, "missing (no such file)")
        return None
    except OSError as exc:
        result.add(CRITICAL, f"cannot read: {exc.strerror or exc}")
        return None
    _record_stat(st, result, holds_key)
    result.data = data
    return data


def _record_stat(st, result, holds_key=True):
    result.stat, result.mode = st, stat.S_IMODE(st.st_mode)
    if holds_key:
        _check_mode(result.mode, result)
    elif result.mode & (stat.S_IWGRP | stat.S_IWOTH):
        result.add(CRITICAL, f"mode {result.mode:04o}: others may replace the certificate")


def _check_mode(mode, result):
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        result.add(CRITICAL, f"mode {mode:04o}: others may read or write the private key")
    elif mode & stat.S_IWGRP:
        result.add(CRITICAL, f"mode {mode:04o}: its group may replace the private key")



def examine(data: bytes, result: Findings, warn_days: int, now: datetime.datetime,
            with_key: bool = True, key_data: bytes | None = None) -> None:
    """Fill ``result`` (:class:`Findings`) from the PEM bytes: certificate, key, dates,
    strength, TLS load.

    ``with_key=False`` for certificates without their key: what a server
    sends (``--probe``), judged as a PEM would be, less the key.
    ``key_data``: the separate key file's bytes, if any.
    """
    blocks = pem_blocks(data)
    if not blocks:
        result.add(CRITICAL, "not a PEM file (no BEGIN/END block)")
        return
    certificate = _load_certificate(blocks, result)
    if certificate is None:
        return
    result.certificate = certificate
    _describe(certificate, result)
    _check_dates(certificate, result, warn_days, now)
    _check_strength(certificate, result)
    key = _load_key(blocks if key_data is None else pem_blocks(key_data), result) \
        if with_key else None
    if key is not None:
        _check_key(key, certificate, result)
    _examine_chain(blocks, certificate, result, warn_days, now)


def _load_certificate(blocks, result):
    """The first certificate: the server's own (any later ones are its chain)."""
    found = certificate_blocks(blocks)
    if not found:
        result.add(CRITICAL, "no certificate in the file")
        return None
    try:
        return load_certificate(found[0])
    except ValueError as exc:
        result.add(CRITICAL, f"the certificate cannot be parsed: {exc}")
        return None


def _load_key(blocks, result):
    from mkcert.x509.privatekeys import load_private_key

    if is_encrypted(blocks):
        result.add(CRITICAL, "the private key is encrypted (Courier cannot ask for a passphrase)")
        return None
    found = private_key_blocks(blocks)
    if not found:
        result.add(CRITICAL, "no private key in the file")
        return None
    try:
        return load_private_key(found[0])
    except (ValueError, TypeError) as exc:
        result.add(CRITICAL, f"the private key cannot be parsed: {exc}")
        return None
    except Exception as exc:  # UnsupportedAlgorithm and the like
        result.add(CRITICAL, f"the private key cannot be used: {exc}")
        return None


def _describe(certificate, result):
    from mkcert.x509.compat import not_valid_after, not_valid_before
    from mkcert.x509.inspect import format_name, issuer_der, subject_der

    # From the DER: cryptography refuses some names OpenSSL writes.
    result.subject = format_name(subject_der(certificate))
    result.issuer = format_name(issuer_der(certificate))
    result.common_name = _common_name(certificate, subject_der)
    result.not_before = not_valid_before(certificate)
    result.not_after = not_valid_after(certificate)
    oid = certificate.signature_algorithm_oid.dotted_string
    result.digest = DIGEST_BY_SIGNATURE_OID.get(oid, oid)
    result.self_signed = is_self_signed(certificate)
    result.issuer_common_name = _common_name(certificate, issuer_der)
    _fingerprints(certificate, result)


def _fingerprints(certificate, result):
    """The certificate's SHA-256 (as ``openssl x509 -fingerprint -sha256``) and its key's
    (the SubjectPublicKeyInfo's, as a TLSA ``3 1 1`` record holds it)."""
    from mkcert.x509.inspect import certificate_der, fingerprint
    from mkcert.x509.tlsa import spki_sha256_hex

    result.certificate_sha256 = fingerprint(certificate_der(certificate), "sha256")
    result.key_sha256 = spki_sha256_hex(certificate)


def _common_name(certificate, which_name):
    """The first CN of the name ``which_name(certificate)`` gives, escaped for one line; or None."""
    from mkcert.x509.inspect import name_value

    return name_value(which_name(certificate), COMMON_NAME_OID)


def _check_dates(certificate, result, warn_days, now):
    result.checked_at = now
    result.days_left = days_between(now, result.not_after)
    if now < result.not_before:
        result.add(CRITICAL, f"not yet valid: valid from {format_moment(result.not_before)}")
    if now >= result.not_after:
        result.add(CRITICAL, f"expired {days_between(result.not_after, now)} days ago")
    elif result.days_left < warn_days:
        result.add(WARNING, f"expires in {result.days_left} days (warning at {warn_days})")


def _check_strength(certificate, result):
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        public_key = certificate_public_key(certificate)
    except ValueError as exc:
        result.add(CRITICAL, f"the certificate: {exc}")
        return
    result.key_type = type(public_key).__name__.lstrip("_").replace("PublicKey", "").upper()
    result.key_bits = getattr(public_key, "key_size", None)
    if weak_digest(result.digest):
        result.add(WARNING, f"signed with {result.digest}")
    if isinstance(public_key, rsa.RSAPublicKey) and weak_rsa_bits(public_key.key_size):
        result.add(WARNING, f"RSA key of {public_key.key_size} bits (under {MIN_RSA_BITS})")
    from mkcert.x509.inspect import extensions

    oids = collections.Counter(oid for oid, _, _ in extensions(certificate))
    for oid in sorted(oid for oid, count in oids.items() if count > 1):
        result.add(WARNING, f"the extension {oid} appears more than once (RFC 5280 forbids it; "
                            f"clients may refuse the certificate)")
    if SAN_OID not in oids:
        result.add(WARNING, "no subjectAltName (clients match names only there)")


def _check_key(key, certificate, result):
    from mkcert.x509.compat import tls_context_error

    try:
        result.key_matches = key_matches(key, certificate)
    except ValueError:
        return  # _check_strength has said why: the certificate's key cannot be read
    if not result.key_matches:
        result.add(CRITICAL, "the private key does not match the certificate")
        return
    error = tls_context_error(certificate, key)
    if error is not None:
        result.add(CRITICAL, f"a TLS server could not load it: {error}")


def _examine_chain(blocks, certificate, result, warn_days, now):
    """The certificates after the server's own: every link, every date, the shortest-lived."""
    result.chain = [_chain_entry(position, block, result, now)
                    for position, block in enumerate(certificate_blocks(blocks)[1:], start=2)]
    _check_links(certificate, result)
    for entry in result.chain:
        if entry.certificate is not None:
            _check_chain_dates(entry, result, warn_days, now)
    _find_shortest_lived(result)


def _chain_entry(position, block, result, now):
    """A :class:`ChainCertificate` for one PEM block; CRITICAL if it cannot be parsed.

    Clients cannot use a chain certificate that does not parse, so it breaks
    the chain as surely as a wrong one.
    """
    from mkcert.x509.compat import not_valid_after, not_valid_before
    from mkcert.x509.inspect import format_name, issuer_der, subject_der

    try:
        certificate = load_certificate(block)
        # From the DER, as for the leaf: cryptography refuses some names OpenSSL writes.
        subject = format_name(subject_der(certificate))
        issuer = format_name(issuer_der(certificate))
        not_before = not_valid_before(certificate)
        not_after = not_valid_after(certificate)
    except ValueError as exc:
        result.add(CRITICAL, f"certificate {position} of the chain cannot be parsed: {exc}")
        return ChainCertificate(position)
    return ChainCertificate(position, subject=subject,
                            common_name=_common_name(certificate, subject_der), issuer=issuer,
                            not_before=not_before, not_after=not_after,
                            days_left=days_between(now, not_after),
                            self_signed=is_self_signed(certificate), certificate=certificate)


def _check_links(certificate, result):
    """Each certificate issued by the next; unknown (None) if any of them did not parse."""
    if any(entry.certificate is None for entry in result.chain):
        result.chain_verifies = None
        return
    breaks = chain_breaks([certificate] + [entry.certificate for entry in result.chain])
    for _, text in breaks:
        result.add(CRITICAL, text)
    result.chain_verifies = not breaks


def _check_chain_dates(entry, result, warn_days, now):
    """A chain certificate out of date is CRITICAL; one about to be is a WARNING.

    Worded as the leaf's own findings; the dates themselves are in --json.
    """
    if now < entry.not_before:
        result.add(CRITICAL, f"{entry.label()} is not yet valid: valid from "
                             f"{format_moment(entry.not_before)}")
    if now >= entry.not_after:
        ago = days_between(entry.not_after, now)
        result.add(CRITICAL, f"{entry.label()} expired {ago} days ago")
    elif entry.days_left < warn_days:
        result.add(WARNING, f"{entry.label()} expires in {entry.days_left} days "
                            f"(warning at {warn_days})")


def _find_shortest_lived(result):
    """The certificate, leaf or chain, that ends first: the whole chain is only good till then.

    The leaf wins a tie: it is the one that gets replaced.
    """
    candidates = [(result.not_after, result.days_left, result.subject, result.common_name)]
    candidates += [(e.not_after, e.days_left, e.subject, e.common_name)
                   for e in result.chain if e.certificate is not None]
    _, days, subject, common_name = min(candidates, key=lambda c: c[0])
    result.shortest_days_left = days
    result.shortest_lived = subject
    result.shortest_lived_common_name = common_name
