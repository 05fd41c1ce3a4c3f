"""``--probe``: what a Courier server really hands its clients, compared with the file.

``--check`` reads the PEM; but what a client gets is what the running
server sends: a file replaced under a daemon that kept the old one, a
per-domain file the SNI lookup does not pick, a chain that lost its
intermediate, a key that matches no certificate (Courier then fails that
name's handshake, saying only "No supported cipher suites have been
found").  This action connects like a client, once without SNI and once
with each server name asked for, takes the chain the server sent, judges
it as ``--check`` judges a PEM (dates with the same ``--warn``, chain
links, strength), and compares it with the file expected to be served:
the plan's ``expected(servername, address)`` says which (the base PEM
unless the caller knows Courier's lookup rule).

Findings, besides those of ``--check`` about the served chain:

- CRITICAL: no connection, STARTTLS refused, no handshake (with the
  expected file's own CRITICAL problems as the likely reason); a leaf or
  chain other than the file's; a server name the leaf does not cover.
- WARNING: a CA-issued leaf sent without any chain certificate whose
  issuer the system's trusted CAs do not hold (clients cannot build the
  path: the missing intermediate); a protocol older than TLS 1.2; a DH
  group under 2048 bits.
- UNKNOWN: the probe itself failed (a bug, or ^C).

The file that cannot be read here (a probe of another host, a monitoring
user without access to the key) is not compared, and the line says so.
"""

from __future__ import annotations

import datetime

from mkcert.actions.check_result import CRITICAL, UNKNOWN, WARNING, Problem
from mkcert.actions.defaults import CHECK_WARN_DAYS
from mkcert.actions.probe_result import ProbeResult
from mkcert.record import REQUIRED, Record

__all__ = ["DEFAULT_PORTS", "DEFAULT_TIMEOUT", "MIN_DH_BITS", "Target", "Plan", "probe",
           "probe_one", "default_targets"]

DEFAULT_TIMEOUT = 10.0
MIN_DH_BITS = 2048
OLD_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")
# Where each Courier service listens, implicit TLS or plain text then
# STARTTLS (None: TLS from the first byte).
DEFAULT_PORTS = {
    "imapd": ((993, None), (143, "imap")),
    "pop3d": ((995, None), (110, "pop3")),
    "esmtpd": ((25, "smtp"), (465, None)),
}
# OpenSSL's verify errors that mean "the path to a trusted CA is not there".
_NO_ISSUER = ("unable to get local issuer certificate", "unable to verify the first certificate",
              "unable to get issuer certificate")


class Target(Record):
    """One port, and the protocol whose STARTTLS it needs (None: implicit TLS)."""

    FIELDS = (("port", REQUIRED), ("starttls", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class Plan(Record):
    """``--probe``: where, which names, the file expected for each, and the limits.

    ``expected(servername, address)``: the path of the file the server is
    expected to serve to a client sending ``servername`` (None: no SNI) on
    ``address`` (the server's IP address the probe connected to).
    """

    FIELDS = (("host", REQUIRED), ("targets", REQUIRED), ("servernames", ()),
              ("expected", None), ("warn_days", CHECK_WARN_DAYS),
              ("timeout", DEFAULT_TIMEOUT), ("now", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def default_targets(service: str, port: int | None = None,
                    starttls: str | None = None) -> tuple[Target, ...] | None:
    """The targets of ``--probe`` for ``service``; None when it has no default ports.

    A PORT given alone that is one of the service's defaults keeps that
    port's protocol (``mkimapdcert --probe :143`` means STARTTLS); another
    PORT is implicit TLS unless ``starttls`` says otherwise.
    """
    defaults = DEFAULT_PORTS.get(service)
    if port is not None:
        if starttls is None and defaults is not None:
            starttls = dict(defaults).get(port)
        return (Target(port, starttls),)
    if defaults is None:
        return None
    if starttls is None:
        return tuple(Target(p, mode) for p, mode in defaults)
    # --starttls without a port: the service's plain-text ports, in that protocol.
    return tuple(Target(p, starttls) for p, mode in defaults if mode is not None) or None


def probe(plan: Plan) -> tuple[ProbeResult, ...]:
    """Every target without SNI and with each server name: one result each, never raising.

    ^C ends the run with an UNKNOWN result for the probe it interrupted;
    the ones not yet begun are left out.
    """
    now = plan.now or datetime.datetime.now(datetime.timezone.utc)
    results = []
    for target in plan.targets:
        for servername in (None,) + tuple(plan.servernames):
            try:
                results.append(probe_one(plan, target, servername, now))
            except KeyboardInterrupt:
                results.append(_unknown(plan, target, servername, "interrupted"))
                return tuple(results)
    return tuple(results)


def probe_one(plan: Plan, target: Target, servername: str | None,
              now: datetime.datetime) -> ProbeResult:
    """One connection and handshake; UNKNOWN for whatever goes wrong in the probe itself."""
    try:
        return _probe(plan, target, servername, now)
    except Exception as exc:  # a plugin answers UNKNOWN rather than with a traceback
        return _unknown(plan, target, servername, f"probe failed: {type(exc).__name__}: {exc}")


def _unknown(plan, target, servername, text):
    return ProbeResult(plan.host, target.port, target.starttls, servername,
                       problems=(Problem(UNKNOWN, text),))


def _probe(plan, target, servername, now):
    from mkcert.system.starttls import ProbeFailed, connect, starttls
    from mkcert.x509.served import handshake

    result = {"host": plan.host, "port": target.port, "starttls": target.starttls,
              "servername": servername}
    try:
        sock = connect(plan.host, target.port, plan.timeout)
    except ProbeFailed as exc:
        return ProbeResult(**result, problems=(Problem(CRITICAL, str(exc)),))
    try:
        result["address"] = _peer_address(sock)
        result["file"] = _expected_file(plan, servername, result["address"])
        try:
            if target.starttls:
                starttls(sock, target.starttls, plan.timeout)
            tls = handshake(sock, servername, plan.timeout)
        except ProbeFailed as exc:
            return _failed(result, str(exc), plan, now)
    finally:
        sock.close()
    return _judge(result, tls, plan, now)


def _peer_address(sock):
    address = sock.getpeername()[0]
    return address[len("::ffff:"):] if address.startswith("::ffff:") and "." in address else address


def _expected_file(plan, servername, address):
    return plan.expected(servername, address) if plan.expected is not None else None


def _failed(result, reason, plan, now):
    """No handshake: CRITICAL, with what is wrong in the expected file as the likely cause."""
    problems = [Problem(CRITICAL, reason)]
    file_result = _read_file(result["file"], plan, now)
    if file_result is not None and file_result.data is not None:
        problems += [Problem(CRITICAL, f"{result['file']}: {p.text}")
                     for p in file_result.problems if p.level >= CRITICAL]
    return ProbeResult(**result, problems=tuple(problems))


def _read_file(path, plan, now):
    from mkcert.actions.check import check_pem

    if path is None:
        return None
    return check_pem(path, plan.warn_days, now)


def _judge(result, tls, plan, now):
    """The served chain judged as --check would, then compared with the expected file."""
    problems, notes = [], []
    served = _examine_served(tls.certificates, plan.warn_days, now)
    covered = _check_name(result["servername"], tls.certificates, problems)
    _check_path(tls, served, problems)
    _check_session(tls, problems)
    same = _compare(result["file"], tls.certificates, plan, now, problems, notes)
    return ProbeResult(**result, problems=tuple(problems), notes=tuple(notes), served=served,
                       tls=tls, same_as_file=same, covered=covered)


def _examine_served(certificates, warn_days, now):
    from mkcert.actions.check import Findings, examine
    from mkcert.asn1.der import pem

    findings = Findings(None)
    examine(b"".join(pem(c, "CERTIFICATE") for c in certificates), findings, warn_days, now,
            with_key=False)
    return findings.result()


def _check_name(servername, certificates, problems):
    """Does the leaf cover the name the client asked for?  None without SNI."""
    from mkcert.x509.served import dns_names, name_covered

    if servername is None:
        return None
    try:
        names = dns_names(certificates[0])
    except ValueError as exc:
        problems.append(Problem(CRITICAL, f"its subjectAltName cannot be read: {exc}"))
        return False
    if name_covered(servername, names):
        return True
    listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "") if names else "none"
    problems.append(Problem(CRITICAL, f"does not cover {servername} (subjectAltName DNS names: "
                                      f"{listed})"))
    return False


def _check_path(tls, served, problems):
    """A CA-issued leaf sent alone, with an issuer no trusted CA here knows: the missing link."""
    if served.self_signed is not False or len(tls.certificates) > 1:
        return
    if any(depth == 0 and text in _NO_ISSUER for depth, text in tls.verify_errors):
        problems.append(Problem(WARNING, "no chain sent, and the issuer of the certificate is "
                                         "not among this system's trusted CAs: an intermediate "
                                         "certificate is missing?"))


def _check_session(tls, problems):
    if tls.protocol in OLD_PROTOCOLS:
        problems.append(Problem(WARNING, f"negotiated {tls.protocol} (older than TLSv1.2)"))
    if tls.key_exchange == "DH" and tls.dh_bits is not None and tls.dh_bits < MIN_DH_BITS:
        problems.append(Problem(WARNING, f"DH group of {tls.dh_bits} bits "
                                         f"(under {MIN_DH_BITS})"))


def _compare(path, certificates, plan, now, problems, notes):
    """Same leaf, same chain in the same order, a key that matches: True; False; None unread."""
    file_result = _read_file(path, plan, now)
    if file_result is None:
        return None
    if file_result.data is None:
        notes.append(f"not compared with {path}: "
                     + "; ".join(p.text for p in file_result.problems))
        return None
    held = _file_certificates(file_result.data)
    if not held or held[0] != certificates[0]:
        problems.append(Problem(CRITICAL, f"not the certificate of {path} "
                                          f"({_describe_file(file_result)}); restart or reload "
                                          f"the server, or the lookup picks another file"))
        return False
    if file_result.key_matches is False:
        problems.append(Problem(CRITICAL, f"{path}: the private key does not match the "
                                          f"certificate"))
        return False
    if tuple(held[1:]) != tuple(certificates[1:]):
        problems.append(Problem(CRITICAL, _chain_difference(path, held[1:], certificates[1:])))
        return False
    return True


def _file_certificates(data):
    """The DER of every certificate in the file, in its order (None for one that does not parse)."""
    from mkcert.x509.chain import certificate_blocks, load_certificate, pem_blocks
    from mkcert.x509.inspect import certificate_der

    found = []
    for block in certificate_blocks(pem_blocks(data)):
        try:
            found.append(certificate_der(load_certificate(block)))
        except ValueError:
            found.append(None)
    return found


def _describe_file(file_result):
    if file_result.not_after is None:
        return "; ".join(p.text for p in file_result.problems) or "no certificate"
    return f"{file_result.short_subject()} {file_result.expiry_text()}"


def _chain_difference(path, held, sent):
    if len(held) == len(sent) and sorted(held, key=repr) == sorted(sent, key=repr):
        return f"sends the chain of {path} in another order"
    missing = sum(1 for certificate in held if certificate not in sent)
    text = f"sends {len(sent)} chain certificates where {path} holds {len(held)}"
    return text + (f" ({missing} of them not sent)" if missing else "")
