"""The answer of ``--probe`` for one port and server name, and how a monitoring plugin says it.

One :class:`ProbeResult` per (port, server name): its state is the worst of
its own problems (connection, STARTTLS, handshake, comparison with the
file) and of what :mod:`mkcert.actions.check` finds in the chain the
server sent, so the states and their words are those of ``--check``.
"""

from __future__ import annotations

from mkcert.actions.check_result import OK, STATE_WORDS
from mkcert.record import REQUIRED, Record

__all__ = ["ProbeResult"]


class ProbeResult(Record):
    """What one handshake showed.

    ``served``: the :class:`~mkcert.actions.check_result.CheckResult` of the
    chain the server sent (None when there was no handshake); ``tls``: the
    :class:`~mkcert.x509.served.ServedChain`; ``file``: the file expected to
    be served; ``same_as_file``: True, False, or None when not compared.
    """

    FIELDS = (("host", REQUIRED), ("port", REQUIRED), ("starttls", None),
              ("servername", None), ("address", None), ("file", None),
              ("problems", ()), ("notes", ()), ("served", None), ("tls", None),
              ("same_as_file", None), ("covered", None))
    __slots__ = tuple(name for name, _ in FIELDS)

    @property
    def all_problems(self) -> tuple:
        served = self.served.problems if self.served is not None else ()
        return tuple(self.problems) + tuple(served)

    @property
    def status(self) -> int:
        return max((p.level for p in self.all_problems), default=OK)

    @property
    def state(self) -> str:
        return STATE_WORDS[self.status]

    def where(self) -> str:
        """``localhost:143 STARTTLS imap SNI mail.example.org``: what was probed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        text = f"{host}:{self.port}"
        if self.starttls:
            text += f" STARTTLS {self.starttls}"
        return text + (f" SNI {self.servername}" if self.servername else " no SNI")

    def line(self) -> str:
        """State, what was probed, the served certificate and session, then the problems."""
        head = f"TLS {self.state} - {self.where()}: "
        parts = []
        served = self.served
        if served is not None and served.not_after is not None:
            parts.append(f"{served.short_subject()} {served.expiry_text()}")
            if served.chain_is_worth_a_word():
                parts.append(served.chain_text())
        if self.tls is not None:
            parts.append(self.session_text())
        if self.same_as_file:
            parts.append(f"as in {self.file}")
        parts += [p.text for p in self.all_problems if not _said_by_expiry(p.text, served)]
        parts += list(self.notes)
        return head + "; ".join(parts)

    def session_text(self) -> str:
        """``TLSv1.3 TLS_AES_256_GCM_SHA384 x25519`` or ``TLSv1.2 DHE-RSA-... DH 2048 bits``
        (``ECDH`` where the bindings do not name the curve)."""
        tls = self.tls
        words = [tls.protocol or "?", tls.cipher or "?"]
        if tls.key_exchange == "DH":
            words.append(f"DH {tls.dh_bits} bits" if tls.dh_bits else "DH of unknown size")
        elif tls.group or tls.key_exchange:
            words.append(tls.group or tls.key_exchange)
        return " ".join(words)

    def as_json(self) -> dict[str, object]:
        """One object per probe: every field always present (null when unknown)."""
        tls = self.tls
        served = self.served.as_json() if self.served is not None else None
        if served is not None:
            for name in ("path", "mode", "key_matches", "status", "exit_status", "problems"):
                served.pop(name, None)
        return {
            "host": self.host,
            "port": self.port,
            "starttls": self.starttls,
            "servername": self.servername,
            "address": self.address,
            "status": self.state,
            "exit_status": self.status,
            "file": self.file,
            "same_as_file": self.same_as_file,
            "name_covered": self.covered,
            "protocol": tls.protocol if tls else None,
            "cipher": tls.cipher if tls else None,
            "group": tls.group if tls else None,
            "key_exchange": tls.key_exchange if tls else None,
            "dh_bits": tls.dh_bits if tls else None,
            "chain_length": len(tls.certificates) if tls else None,
            "trusted_by_system": (not tls.verify_errors) if tls else None,
            "verify_errors": [f"depth {d}: {t}" for d, t in tls.verify_errors] if tls else None,
            "served": served,
            "problems": [p.text for p in self.all_problems],
            "notes": list(self.notes),
        }


def _said_by_expiry(text, served):
    """The leaf's date problems are in the line's expiry words already, as in --check."""
    return served is not None and served.not_after is not None \
        and text.startswith(("expired", "expires in"))

