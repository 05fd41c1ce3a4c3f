"""The answer of ``--check``: a :class:`CheckResult`, and how a monitoring plugin says it.

States follow the monitoring-plugin convention (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN); every finding is a :class:`Problem` with its level,
and the result's state is the worst of them.  The result is said in one
line (state, file, subject, expiry, chain, then the problems) or as one
JSON object with every field; :mod:`mkcert.actions.check` examines the PEM
and makes the result, ``--renew`` and ``--install`` word dates the same way.
"""

from __future__ import annotations

import datetime

from mkcert.request import REQUIRED, Record

__all__ = ["OK", "WARNING", "CRITICAL", "UNKNOWN", "STATE_WORDS", "Problem", "ChainCertificate",
           "CheckResult", "short_name", "format_moment", "days_between"]

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_WORDS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


class Problem(Record):
    """One finding: its ``level`` (OK ... UNKNOWN) and the ``text`` the line shows."""

    FIELDS = (("level", REQUIRED), ("text", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


class ChainCertificate(Record):
    """One certificate after the server's own, numbered from 2 as
    :func:`mkcert.x509.chain.chain_breaks` numbers them.

    Fields stay None when the block cannot be parsed, so the JSON list keeps
    one entry per block and the numbers in the problems match it.
    """

    FIELDS = (("position", REQUIRED), ("subject", None), ("common_name", None),
              ("issuer", None), ("not_before", None), ("not_after", None),
              ("days_left", None), ("self_signed", None), ("certificate", None))
    __slots__ = tuple(name for name, _ in FIELDS)

    def label(self) -> str:
        """``certificate 2 (CN=R11)``: what a problem about it calls it."""
        return f"certificate {self.position} ({short_name(self.common_name, self.subject)})"

    def as_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "days_left": self.days_left,
            "self_signed": self.self_signed,
        }


class CheckResult(Record):
    """What :func:`mkcert.actions.check.check_pem` found; ``status`` is the exit status to use.

    ``problems``: a tuple of :class:`Problem`; dates are aware UTC datetimes,
    ``mode`` the permission bits.  A field stays None when the examination
    did not get that far.
    """

    FIELDS = (
        ("path", REQUIRED), ("problems", ()),
        ("subject", None), ("common_name", None), ("issuer", None),
        ("not_before", None), ("not_after", None), ("days_left", None),
        ("self_signed", None), ("key_matches", None), ("digest", None),
        ("key_type", None), ("key_bits", None), ("mode", None), ("checked_at", None),
        ("issuer_common_name", None),
        # The certificates after the server's own, a tuple of ChainCertificate
        # (empty when there are none; None when the file could not be
        # examined that far).
        ("chain", None), ("chain_verifies", None), ("shortest_days_left", None),
        ("shortest_lived", None), ("shortest_lived_common_name", None),
        # SHA-256 of the certificate (colon form) and of its public key (hex,
        # TLSA 3 1 1's data); what published TLSA records say, when asked
        # (a mkcert.actions.dane.TlsaVerdict).
        ("certificate_sha256", None), ("key_sha256", None), ("tlsa", None),
        # --ca-file: the bundle given, and the anchor in it the chain ends at.
        ("ca_file", None), ("trust_anchor", None), ("trust_anchor_common_name", None),
        # Not printed: for --renew, which decides from the same reading (the
        # cryptography certificate, the file's bytes and its os.stat_result).
        ("certificate", None), ("data", None), ("stat", None),
    )
    __slots__ = tuple(name for name, _ in FIELDS)

    @property
    def status(self) -> int:
        return max((p.level for p in self.problems), default=OK)

    @property
    def state(self) -> str:
        return STATE_WORDS[self.status]

    def line(self) -> str:
        """The one plugin-style line: state, file, subject, expiry, then problems."""
        head = f"CERT {self.state} - {self.path}: "
        if self.not_after is None:
            return head + "; ".join(p.text for p in self.problems)
        parts = [f"{self.short_subject()} {self.expiry_text()}"]
        if self.chain_is_worth_a_word():
            parts.append(self.chain_text())
        if self.trust_anchor is not None:
            anchor = short_name(self.trust_anchor_common_name, self.trust_anchor)
            parts.append(f"trusted: ends at {anchor} from {self.ca_file}")
        if self.tlsa is not None and self.tlsa.summary():
            parts.append(self.tlsa.summary())
        parts += [p.text for p in self.problems if not p.text.startswith(_EXPIRY_WORDS)]
        parts += self.fingerprint_texts()
        return head + "; ".join(parts)

    def fingerprint_texts(self) -> list[str]:
        """At the end of the line, so what comes before reads as it always did."""
        texts = []
        if self.certificate_sha256 is not None:
            texts.append(f"certificate SHA-256 {self.certificate_sha256}")
        if self.key_sha256 is not None:
            texts.append(f"key SHA-256 {self.key_sha256}")
        return texts

    def short_subject(self) -> str:
        """``CN=...`` when the subject has a common name (the usual case), else all of it."""
        return short_name(self.common_name, self.subject)

    def chain_is_worth_a_word(self) -> bool:
        """Not for a lone self-signed certificate: its line stays as it always was."""
        return self.chain is not None and (self.self_signed is False or bool(self.chain))

    def chain_text(self) -> str:
        """``issued by CN=R11 (chain of 1 verifies, shortest-lived: CN=R11, 20 days left)``.

        No "; " inside, so the line still splits into findings on "; ".
        """
        who = ("self-signed" if self.self_signed
               else f"issued by {short_name(self.issuer_common_name, self.issuer)}")
        if not self.chain:
            return f"{who} (no chain)"
        count = len(self.chain)
        verdict = {True: "verifies", False: "does not verify",
                   None: "cannot be verified"}[self.chain_verifies]
        text = f"{who} (chain of {count} {verdict}"
        if self.shortest_days_left is not None:
            name = short_name(self.shortest_lived_common_name, self.shortest_lived)
            text += f", shortest-lived: {name}, {_left(self.shortest_days_left)}"
        return text + ")"

    def expiry_text(self) -> str:
        when = format_moment(self.not_after)
        if self.checked_at >= self.not_after:
            return f"expired {when} ({self.days_ago()} days ago)"
        return f"expires {when} ({self.days_left} days)"

    def days_ago(self) -> int:
        """Whole days since expiry, floored like days_left (2 days 23 hours: 2)."""
        return days_between(self.not_after, self.checked_at)

    def as_json(self) -> dict[str, object]:
        """The --json object: every field always present (null when unknown)."""
        return {
            "path": self.path,
            "status": self.state,
            "exit_status": self.status,
            "subject": self.subject,
            "common_name": self.common_name,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "days_left": self.days_left,
            "self_signed": self.self_signed,
            "key_matches": self.key_matches,
            "signature_digest": self.digest,
            "key_type": self.key_type,
            "key_bits": self.key_bits,
            "mode": None if self.mode is None else f"{self.mode:04o}",
            "chain": None if self.chain is None else [c.as_json() for c in self.chain],
            "chain_verifies": self.chain_verifies,
            "shortest_days_left": self.shortest_days_left,
            "shortest_lived": self.shortest_lived,
            "certificate_sha256": self.certificate_sha256,
            "key_sha256": self.key_sha256,
            "tlsa": None if self.tlsa is None else self.tlsa.as_json(),
            "problems": [p.text for p in self.problems],
            # Only with --ca-file, so that the object is as it was without it.
            **({"trust_anchor": self.trust_anchor} if self.ca_file is not None else {}),
        }


# Problems about the dates are already said by expiry_text() in the line.
_EXPIRY_WORDS = ("expired", "expires in")


def short_name(common_name: str | None, subject: str | None) -> str:
    """``CN=...`` when there is a common name (the usual case), else the whole name."""
    if common_name is not None:
        return f"CN={common_name}"
    return subject or "(empty subject)"


def _left(days):
    return "expired" if days < 0 else f"{days} days left"


def format_moment(moment: datetime.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _iso(moment):
    return None if moment is None else moment.isoformat()


def days_between(now: datetime.datetime, then: datetime.datetime) -> int:
    """Whole days from ``now`` to ``then``, floored (an hour past expiry is -1)."""
    return (then - now) // datetime.timedelta(days=1)
