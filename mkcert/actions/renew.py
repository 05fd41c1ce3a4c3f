"""``--renew``: replace a self-signed Courier PEM before it expires.

Upstream's answer to an expiring certificate is "delete the PEM and run
mkimapdcert again" (the 2007 how-to), which leaves the server without a key
between the two steps and forgets the mode and group Debian's postinst set.
Here a PEM that is due is replaced in one rename by one made from the
current ``.cnf`` by the very pipeline a first run uses
(:func:`mkcert.actions.make.produce`), keeping its mode, owner and group; the
previous PEM stays beside it as ``PEMFILE.pem.old`` (0600) for a way back.

Courier's couriertls reads the PEM for every connection, so nothing needs
restarting afterwards.

Choices made where Courier and certbot leave the behaviour open:

* a PEM that is a symbolic link is refused (exit 1): replacing the link
  would silently detach it from wherever the admin points it (often a
  certificate managed by other tooling), and writing through it is what the
  shell originals got wrong;
* a PEM with no readable certificate (an empty file left by a killed
  upstream run, a damaged certificate) is replaced only with ``--force``: we
  cannot tell whose it is; ``--force`` makes a new one from the ``.cnf`` and
  keeps the old file as ``.old``;
* a PEM that cannot be read at all (larger than any PEM, which our commands
  never make, or unreadable to us) is not replaced even with ``--force``:
  ``.old`` could not keep it, and nothing a run did not make is lost;
* a certificate that is not yet valid counts as due: a server cannot use it
  now, and waiting will not help if the clock was wrong when it was made;
* the new certificate keeps the old one's subjectAltName entries (on top
  of the ``.cnf``'s and any ``--san``): names added with ``--san`` at the
  first run must survive the unattended renewals of the timer;
* the kept mode loses any permission for others and group write (the new
  private key must not be exposed because the old one was); the change is
  reported;
* a renewal never makes what --check calls weak (:mod:`mkcert.actions.weak`),
  and ``--upgrade`` replaces a weak self-signed certificate before it is
  due; which key is certified (new, ``--reuse-key``, ``--rollover``) and of
  which type is :mod:`mkcert.actions.renew_keys`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping

from mkcert.actions.defaults import RENEW_BEFORE_DAYS
from mkcert.errors import MkcertError
from mkcert.actions.check_result import CheckResult
from mkcert.actions.make import Outcome, make, prepare, produce
from mkcert.request import REQUIRED, Record
from mkcert.system.publish import file_to_replace
from mkcert.system.target import Target, old_path
from mkcert.x509.inspect import subject_alt_names

__all__ = ["Plan", "Decision", "renew", "decide"]


class Plan(Record):
    """``--renew``: the certificate to make (a :class:`mkcert.actions.make.Plan`),
    ``before`` (days; None for the default) and ``force``; ``upgrade`` (also
    replace a weak self-signed certificate), ``reuse_key`` (certify the
    current key again) and ``rollover`` (certify the staged next key)."""

    FIELDS = (("make", REQUIRED), ("before", None), ("force", False), ("upgrade", False),
              ("reuse_key", False), ("rollover", False))
    __slots__ = tuple(name for name, _ in FIELDS)


class Decision(Record):
    """Whether to renew, and the reason to print either way; ``name_stock_subject``:
    --upgrade of the stock CN=localhost without a subjectAltName, which the
    new certificate gets as a DNS name."""

    FIELDS = (("due", REQUIRED), ("reason", REQUIRED), ("name_stock_subject", False))
    __slots__ = tuple(name for name, _ in FIELDS)


def renew(plan: Plan, warn: Callable[[str], None]) -> Outcome:
    """Run ``--renew``: a first run if the PEM is missing, else renew if due.

    ``warn(text)`` is told the config's warnings and a mode that will not
    be kept as soon as they are known: before the key is generated.
    """
    paths = plan.make  # the PEM, its seed and the .cnf: those of a first run
    st = file_to_replace(paths.pem, "renewing", "renew the file it points to, or put a "
                                                "regular file in its place")
    if st is None:
        return make(plan.make, warn)

    from mkcert.actions.check import check_pem

    current = check_pem(paths.pem)
    from mkcert.actions.issue import local_authority_of

    authority = local_authority_of(current, paths.environ)
    issuing = authority is not None or paths.ca
    decision = decide(current, plan, paths.pem, certbot_lineage=None if authority else
                      _certbot_lineage(current, plan, paths.pem, paths.environ),
                      issued_here=authority is not None)
    decision = _explicit_decision(current, plan, decision)
    if not decision.due:
        return Outcome(message=f"{paths.pem}: not due for renewal: {decision.reason}")
    from mkcert.actions.renew_keys import (add_stock_name, key_to_certify, make_plan_for,
                                           refuse_weak_key, stage_after)
    from mkcert.actions.weak import strengthen

    if paths.key is not None and (plan.reuse_key or plan.rollover):
        from mkcert.actions.stage import separate_key_file_refusal

        raise MkcertError(separate_key_file_refusal(
            paths.pem, paths.key, "--reuse-key" if plan.reuse_key else "--rollover"))
    key = key_to_certify(current, plan)
    make_plan = make_plan_for(plan.make, current, key)
    kept_names = _kept_names(current, plan, paths.pem)
    request, extra = prepare(make_plan, warn, kept_names)
    if key is not None:
        refuse_weak_key(key, plan)
    if decision.name_stock_subject:
        request = add_stock_name(request)
    request, strengthened = strengthen(request, paths.config)
    issuer = None
    if issuing:
        from mkcert.actions.issue import issued_request, load_authority

        issuer = load_authority(paths.environ, paths.pem)
        request = issued_request(request, issuer, paths.pem)
    target = Target(paths.pem, current.data, current.stat)
    if target.mode_changes:
        warn(f"{paths.pem} was mode {current.mode:04o}; the new one is "
             f"{target.kept_mode:04o}")
    publish_pem, kept = target.publish, target.old_path
    if paths.key is not None:  # TLS_PRIVATE_KEYFILE: the key goes there
        from mkcert.actions.keyfile import current as current_key, publisher
        from mkcert.system.publish import Owner

        key_target = current_key(paths.key)
        publish_pem = publisher(target, key_target, Owner.lookup(paths.user))
        if not key_target.is_new:
            kept += f" (and {key_target.old_path})"
    elif plan.rollover:
        publish_pem = stage_after(target, paths.pem, current.stat, key)
    certificate = produce(make_plan, request, extra, publish_pem, issuer, key=key)
    renewed = "renewed from the local CA" if issuing else "renewed"
    return Outcome(f"{paths.pem}: {renewed} ({decision.reason}); the previous one is "
                   f"{kept}", certificate, tuple(strengthened))


UPGRADING = "upgrading a weak certificate"
NO_SAN = "no subjectAltName for the stock CN=localhost"


def _explicit_decision(current: CheckResult, plan: Plan, decision: Decision) -> Decision:
    """A certificate that is not due is still replaced for --rollover, or for
    --upgrade when it is self-signed and weak (what --check calls weak, or the
    stock CN=localhost without any subjectAltName)."""
    if decision.due or current.certificate is None or not current.self_signed:
        return decision
    if plan.rollover:
        from mkcert.actions.check_result import format_moment

        return Decision(True, f"rolling over to the staged key; it expires "
                              f"{format_moment(current.not_after)}")
    if not plan.upgrade:
        return decision
    from mkcert.request import weak_digest, weak_rsa_bits

    reasons = []
    if weak_digest(current.digest):
        reasons.append(f"signed with {current.digest}")
    if current.key_type == "RSA" and weak_rsa_bits(current.key_bits):
        reasons.append(f"an RSA key of {current.key_bits} bits")
    if not subject_alt_names(current.certificate) and _stock_common_name(plan):
        reasons.append(NO_SAN)
    if not reasons:
        return decision
    return Decision(True, f"{UPGRADING}: {', '.join(reasons)}",
                    name_stock_subject=NO_SAN in reasons)


def _stock_common_name(plan: Plan) -> bool:
    """Whether the .cnf names Courier's stock subject, CN=localhost."""
    from mkcert.readers.load import load_request

    request = load_request(plan.make.config, plan.make.environ)
    names = [attribute.value for rdn in request.subject for attribute in rdn
             if attribute.oid == "2.5.4.3"]
    return names == ["localhost"]


def _kept_names(current: CheckResult, plan: Plan, path: str) -> list[bytes]:
    """The old certificate's subjectAltName entries, which the new one keeps.

    A subjectAltName that cannot be read is not silently dropped: the
    names may be what clients connect with.  ``--force`` renews without them.
    """
    if current.certificate is None:
        return []
    try:
        return subject_alt_names(current.certificate)
    except ValueError as exc:
        if plan.force:
            return []
        raise MkcertError(f"{path}: {exc}; not renewing without its names (--force renews "
                          f"with only the .cnf's and --san's)") from None


def _certbot_lineage(current: CheckResult, plan: Plan, pem: str,
                     environ: Mapping[str, str]) -> str | None:
    """The certbot lineage that renews a CA-issued ``pem`` (mkcert-install.conf), if any."""
    if current.certificate is None or current.self_signed or plan.force:
        return None
    from mkcert.actions.hook import lineage_taking

    return lineage_taking(pem, environ)


def decide(current: CheckResult, plan: Plan, path: str, now: datetime.datetime | None = None,
           certbot_lineage: str | None = None, issued_here: bool = False) -> Decision:
    """Renew or not, from a :class:`~mkcert.actions.check_result.CheckResult` of the PEM.

    Raises MkcertError (exit 1) for a PEM that is due but not ours to replace.
    ``certbot_lineage``: the certbot certificate the deploy hook installs
    into this PEM.  Such a PEM is certbot's to renew, so while it is still
    valid, being due is not an error here (certbot renews at about the same
    time before expiry as the timer looks, and the timer must not fail in
    between); once it has expired, certbot did not renew it, and that is.
    ``issued_here``: the local CA issued it, which re-issues it like a
    self-signed one (:mod:`mkcert.actions.issue`).
    """
    from mkcert.actions.check_result import format_moment

    before = plan.before if plan.before is not None else RENEW_BEFORE_DAYS
    if current.certificate is None:
        problem = "; ".join(p.text for p in current.problems)
        if current.data is None:
            raise MkcertError(f"{path}: {problem}; not replacing it, not even with --force, "
                              f"since {old_path(path)} could not keep it (move it away, and "
                              f"--renew makes a new one)")
        if plan.force:
            return Decision(True, f"forced; it was unusable: {problem}")
        raise MkcertError(f"{path}: {problem}; not replacing a file that may not be "
                          f"a certificate of ours (--force replaces it)")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    left = current.not_after - now
    expiry = f"expires {format_moment(current.not_after)}"
    if now < current.not_before:
        reason = f"not valid before {format_moment(current.not_before)}"
    elif left <= datetime.timedelta(days=before):
        reason = f"{expiry}, within {before} days" if left.total_seconds() > 0 else (
            f"expired {format_moment(current.not_after)}")
    elif plan.force:
        reason = f"forced; it {expiry}"
    else:
        return Decision(False, f"{expiry} ({current.days_left} days left; renewing "
                               f"within {before} days)")
    valid_now = current.not_before <= now < current.not_after
    if not current.self_signed and not plan.force and certbot_lineage and valid_now:
        return Decision(False, f"{expiry} ({current.days_left} days left); certbot renews it "
                               f"(lineage {certbot_lineage} in mkcert-install.conf)")
    if not current.self_signed and not plan.force and not issued_here:
        raise MkcertError(
            f"{path}: not renewing: issued by {current.issuer or '(empty name)'}, not "
            f"self-signed; a new self-signed certificate would replace what your CA "
            f"issued (--force does that anyway)")
    return Decision(True, reason)
