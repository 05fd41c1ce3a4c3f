"""Writing the staged next key (``BASE.next-key.pem``) in place of the one just certified.

Shared by ``--renew --rollover`` and ``--install`` of a certificate for the
staged key; ``--stage-next-key`` itself is :mod:`mkcert.actions.stage`.  The
key is 0600, the PEM owner's, PKCS#8, and replaces the old one in one rename.
"""

from __future__ import annotations

from mkcert.layout import staged_key_path

__all__ = ["staged_key_owner", "stage_key"]


def staged_key_owner(pem_stat) -> object:
    """The staged key's owner: the PEM's user (the group stays the creator's)."""
    from mkcert.system.publish import Owner

    return Owner(str(pem_stat.st_uid), pem_stat.st_uid, -1)


def stage_key(pem: str, spec, pem_stat, run) -> None:
    """Put a fresh key of ``spec`` in the staged file, replacing what is there (rollover)."""
    from mkcert.system import publish
    from mkcert.x509.key_types import generate_key, private_key_pem

    spec = spec.replace(pem_format="pkcs8")
    publish.publish_replace(staged_key_path(pem), private_key_pem(generate_key(spec), spec),
                            run, staged_key_owner(pem_stat), final=False)
