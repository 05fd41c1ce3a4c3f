"""``mkcourierca``: the local mail CA, made once, exported, renewed, checked, retired.

Its two files sit beside the PEMs (:mod:`mkcert.layout`):

* ``courier-ca.pem``, the certificate users import into their mail
  clients: mode 0644, nothing secret;
* ``courier-ca.key``, its private key: 0600 and the caller's (root) from
  the first instant of its temporary file, never given to the mail user,
  whose daemons have no business signing certificates.

Making the CA refuses to overwrite either file with upstream's
"PATH already exists." (exit 1).  The key is published first, by a hard
link that fails if the name exists, so of two concurrent runs exactly
one makes a CA; if its certificate then cannot be published, the key is
removed again, so a failed run leaves nothing.
"""

from __future__ import annotations

import datetime
import os
import stat
from collections.abc import Callable

from mkcert import layout
from mkcert.errors import AlreadyExists, MkcertError, describe
from mkcert.record import REQUIRED, Record

__all__ = ["CA_DAYS", "CA_RENEW_BEFORE_DAYS", "SERVICES", "CreatePlan", "RenewPlan",
           "CheckPlan", "DestroyPlan", "Outcome", "create", "renew", "check", "destroy_key",
           "exported"]

CA_DAYS = 3650  # ten years
# The CA is renewed (and --check warns) a year before it ends: clients
# that imported it keep trusting the renewed one, which has the same key,
# but a year leaves time to notice a timer that does not run.
CA_RENEW_BEFORE_DAYS = 365
# The services whose certificates --destroy-key issues before the key goes.
SERVICES = ("imapd", "pop3d", "esmtpd")


class CreatePlan(Record):
    """A new CA: its files, ``domains`` and ``networks`` (text), key type, days."""

    FIELDS = (("certificate", REQUIRED), ("key", REQUIRED), ("domains", REQUIRED),
              ("networks", ()), ("key_type", REQUIRED), ("days", CA_DAYS))
    __slots__ = tuple(name for name, _ in FIELDS)


class RenewPlan(Record):
    """``--renew``: the files, ``before`` (days), ``force``, ``days`` of the new one."""

    FIELDS = (("certificate", REQUIRED), ("key", REQUIRED), ("before", None),
              ("force", False), ("days", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class CheckPlan(Record):
    FIELDS = (("certificate", REQUIRED), ("key", REQUIRED), ("warn_days", None),
              ("mail_user", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class DestroyPlan(Record):
    """``--destroy-key``: the CA's files and the environment the services' runs read;
    ``san``: names to add to each service certificate; ``days`` their validity."""

    FIELDS = (("certificate", REQUIRED), ("key", REQUIRED), ("environ", REQUIRED),
              ("san", ()), ("days", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class Outcome(Record):
    """Lines to print, and the certificate (DER) whose summary follows, if any."""

    FIELDS = (("lines", ()), ("certificate", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def create(plan: CreatePlan) -> Outcome:
    """Make the CA's key and certificate; AlreadyExists if either file is there."""
    for path in (plan.certificate, plan.key):
        if os.path.lexists(path):
            raise AlreadyExists(path)
    from mkcert.system import publish
    from mkcert.x509.authority import (build_ca_certificate, ca_key_pem, certificate_der_of,
                                       generate_ca_key)
    from mkcert.x509.certificate import certificate_pem

    with publish.Run() as run:
        for path in (plan.certificate, plan.key):
            publish.remove_stale_temporaries(path)
        key = generate_ca_key(plan.key_type)
        certificate = certificate_der_of(build_ca_certificate(
            key, list(plan.domains), list(plan.networks), plan.days))
        publish.publish_new(plan.key, ca_key_pem(key), run)
        try:
            publish.publish_new(plan.certificate, certificate_pem(certificate), run,
                                mode=0o644)
        except BaseException:
            _unlink(plan.key)
            raise
    return Outcome((f"{plan.certificate}: a new CA for {', '.join(plan.domains + plan.networks)}"
                    f"; its key is {plan.key}",), certificate)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def exported(certificate_path: str) -> tuple[bytes, bytes, str]:
    """(PEM, DER, SHA-256 fingerprint) of the CA certificate, read and checked."""
    from mkcert.actions.issue import read_authority
    from mkcert.x509.authority import sha256_fingerprint
    from mkcert.x509.certificate import certificate_pem

    authority = read_authority(certificate_path, None)
    return (certificate_pem(authority.der), authority.der, sha256_fingerprint(authority.der))


def renew(plan: RenewPlan) -> Outcome:
    """The CA certificate again, same key, subject, key identifier and names, if due.

    Clients that imported the old certificate verify what the key signs
    with either; the old one stays as ``courier-ca.pem.old``.
    """
    from mkcert.actions.check_result import format_moment
    from mkcert.actions.issue import read_authority

    authority = read_authority(plan.certificate, plan.key)
    before = CA_RENEW_BEFORE_DAYS if plan.before is None else plan.before
    now = datetime.datetime.now(datetime.timezone.utc)
    end = authority.not_after
    expiry = f"expires {format_moment(end)}" if end > now else f"expired {format_moment(end)}"
    if end - now > datetime.timedelta(days=before) and not plan.force:
        return Outcome((f"{plan.certificate}: not due for renewal: {expiry} "
                        f"({(end - now).days} days left; renewing within {before} days)",))
    import types

    from mkcert.system import publish
    from mkcert.system.target import old_path, replace_keeping_old
    from mkcert.x509.authority import build_ca_certificate, certificate_der_of
    from mkcert.x509.certificate import certificate_pem

    from mkcert.system.files import read_regular_file
    from mkcert.x509.authority import MAX_CA_BYTES

    st = publish.file_to_replace(plan.certificate, "renewing", "renew the file it points to")
    try:
        old_data = read_regular_file(plan.certificate, MAX_CA_BYTES, follow_symlinks=False)
    except OSError as exc:
        raise MkcertError(f"cannot read {plan.certificate}: {describe(exc)}") from None
    days = CA_DAYS if plan.days is None else plan.days
    certificate = certificate_der_of(build_ca_certificate(
        authority.key, (), (), days, now=now, previous=authority.certificate))
    keep = types.SimpleNamespace(st_uid=st.st_uid, st_gid=st.st_gid,
                                 st_mode=stat.S_IFREG | 0o644)
    with publish.Run() as run:
        publish.remove_stale_temporaries(plan.certificate)
        replace_keeping_old(plan.certificate, old_data, st, certificate_pem(certificate), keep,
                            run)
    reason = f"forced; it {expiry}" if plan.force and end - now > datetime.timedelta(
        days=before) else expiry
    return Outcome((f"{plan.certificate}: renewed with the same key ({reason}); the previous "
                    f"one is {old_path(plan.certificate)}",), certificate)


def check(plan: CheckPlan, now: datetime.datetime | None = None) -> tuple[int, str]:
    """(plugin status, line) of the CA: dates, constraints, and its key's safety.

    Due for renewal (within ``warn_days``, default a year) is a WARNING,
    long before the CA ends; a key that anyone but its owner may read, or
    that belongs to the mail user, is CRITICAL.  A key removed on purpose
    (``--destroy-key``) is no problem until the CA is due.
    """
    from mkcert.actions.check_result import (CRITICAL, OK, STATE_WORDS, WARNING, days_between,
                                             format_moment)
    from mkcert.actions.issue import read_authority
    from mkcert.x509.authority import permitted_names
    from mkcert.x509.inspect import name_value, subject_der

    try:
        authority = read_authority(plan.certificate, None)
    except MkcertError as exc:
        return CRITICAL, f"CA CRITICAL - {exc}"
    problems = []
    key_state = _key_state(plan, problems)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    end, warn_days = authority.not_after, plan.warn_days
    warn_days = CA_RENEW_BEFORE_DAYS if warn_days is None else warn_days
    left = days_between(now, end)
    if now >= end:
        problems.append((CRITICAL, f"expired {format_moment(end)}"))
        when = f"expired {format_moment(end)}"
    else:
        when = f"expires {format_moment(end)} ({left} days)"
        if left < warn_days:
            problems.append((WARNING, "due for renewal (mkcourierca --renew)" if key_state
                             else "due for renewal, but its key is gone: make a new CA"))
    domains, networks, _ = permitted_names(authority.certificate)
    names = ", ".join(list(domains) + [str(n) for n in networks]) or "(no constraints)"
    name = name_value(subject_der(authority.der), "2.5.4.3") or "(no CN)"
    status = max((level for level, _ in problems), default=OK)
    parts = [f"CN={name} {when}", f"for {names}",
             f"key {plan.key}" if key_state else "no key (removed)"]
    parts += [text for _, text in problems if not text.startswith("expired")]
    return status, f"CA {STATE_WORDS[status]} - {plan.certificate}: " + "; ".join(parts)


def _key_state(plan, problems):
    """True if the key is there (problems noted), False if it is gone."""
    from mkcert.actions.check_result import CRITICAL
    from mkcert.actions.issue import read_authority

    try:
        st = os.lstat(plan.key)
    except FileNotFoundError:
        return False
    except OSError as exc:
        problems.append((CRITICAL, f"cannot examine {plan.key}: {describe(exc)}"))
        return True
    if not stat.S_ISREG(st.st_mode):
        problems.append((CRITICAL, f"{plan.key} is not a regular file"))
        return True
    if st.st_mode & 0o077:
        problems.append((CRITICAL, f"{plan.key} is mode {stat.S_IMODE(st.st_mode):04o}: "
                                   f"others than its owner may read the CA key"))
        return True
    if plan.mail_user is not None and _uid_of(plan.mail_user) == st.st_uid != 0:
        problems.append((CRITICAL, f"{plan.key} belongs to the mail user {plan.mail_user}"))
    try:
        read_authority(plan.certificate, plan.key)
    except MkcertError as exc:
        problems.append((CRITICAL, str(exc)))
    return True


def _uid_of(user):
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def destroy_key(plan: DestroyPlan, warn: Callable[[str], None]) -> Outcome:
    """Issue every service's certificate now, then remove the CA key.

    The services are those of :data:`SERVICES` whose PEM exists (a service
    not installed has none): one the CA issued, or a self-signed one, is
    issued again from the CA at once (new key, its names kept, ``san``
    added); one from another CA is left alone.  The key is removed only
    when every one of them succeeded: otherwise nothing of the CA changes
    and the run fails with the reasons.
    """
    from mkcert.actions.issue import read_authority

    read_authority(plan.certificate, plan.key)  # a CA that can issue, or stop here
    lines, failures = [], []
    for name in SERVICES:
        line = _issue_service(name, plan, warn)
        if line is None:
            continue
        (failures if line.startswith("!") else lines).append(line.lstrip("!"))
    if failures:
        raise MkcertError(f"not removing {plan.key}: " + "; ".join(failures))
    _remove_key(plan.key)
    lines.append(f"{plan.key}: removed; the certificates it issued can no longer be renewed "
                 f"(that needs a new CA)")
    return Outcome(tuple(lines))


def _issue_service(name, plan, warn):
    """The line for one service, "!" first for a failure; None if it has no PEM."""
    from mkcert.actions import make, renew
    from mkcert.actions.check import check_pem
    from mkcert.actions.issue import local_authority_of

    pem = os.path.join(layout.certsdir(plan.environ), name + ".pem")
    if not os.path.lexists(pem):
        return None
    current = check_pem(pem)
    if (current.certificate is not None and not current.self_signed
            and local_authority_of(current, plan.environ) is None):
        return f"{pem}: left alone: issued by {current.issuer}, not by the local CA"
    config = os.path.join(layout.sysconfdir(plan.environ), name + ".cnf")
    make_plan = make.Plan(name, pem, pem[:-len(".pem")] + ".rand", config,
                          layout.mailuser(plan.environ), plan.environ, plan.days,
                          tuple(plan.san), ca=True)
    try:
        outcome = renew.renew(renew.Plan(make_plan, force=True), warn)
    except MkcertError as exc:
        return f"!{exc}"
    return outcome.message


def _remove_key(path):
    try:
        os.unlink(path)
    except OSError as exc:
        raise MkcertError(f"cannot remove {path}: {describe(exc)}") from None
    from mkcert.system.publish import sync_directory

    sync_directory(path)
