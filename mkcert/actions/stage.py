"""``--stage-next-key``: the key the next certificate will have, written ahead of time.

A mail host that publishes DANE TLSA ``3 1 1`` records (the SHA-256 of the
server's public key) must publish the next key's record before the key is
served, and keep it for the records' TTL.  So the next key is made now and
waits beside the PEM as ``BASE.next-key.pem``
(:func:`mkcert.layout.staged_key_path`: a name Courier's per-domain
``PEM.<name>`` lookup never serves); ``--renew --rollover`` certifies it later
and stages a fresh one, and ``--install`` of a CA certificate for that key
takes it from there when no ``--key`` is given.

Choices where the issue left it open:

* an existing staged key is never replaced by ``--stage-next-key`` (exit 1):
  its TLSA record may already be published, and a new key would silently
  break the coming rollover; remove the file to stage another;
* the staged key is written as PKCS#8 (BEGIN PRIVATE KEY), which every tool
  reads (``openssl req -new -key`` for a CSR, certbot ``--csr``); the PEM
  gets it in the form its own tool writes when it is certified;
* it is 0600 and the PEM's owner's (its group is the creator's, as for the
  PEM of a first run), and published atomically: there is never a partial
  key under that name.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from mkcert.errors import MkcertError
from mkcert.layout import staged_key_path
from mkcert.record import REQUIRED, Record

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from mkcert.actions.make import Outcome

__all__ = ["Plan", "stage", "read_staged_key", "current_key"]


class Plan(Record):
    """``--stage-next-key`` for ``pem``; ``key_type`` (a KeyType) or None for the PEM's own;
    ``key``: Courier's ``TLS_PRIVATE_KEYFILE`` when the key is kept apart."""

    FIELDS = (("pem", REQUIRED), ("key_type", None), ("key", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def stage(plan: Plan, warn: Callable[[str], None]) -> Outcome:
    """Write the next key of ``plan.pem``; refuse if one is staged already."""
    from mkcert.actions.make import Outcome

    if plan.key is not None:
        raise MkcertError(separate_key_file_refusal(plan.pem, plan.key, "--stage-next-key"))
    path = staged_key_path(plan.pem)
    if os.path.lexists(path):
        raise MkcertError(f"{path} already holds the next key; publish its TLSA record and "
                          f"run --renew --rollover, or remove it to stage another")
    pem_stat, key = current_key(plan.pem)
    spec = _spec(plan.key_type, key)
    if spec.algorithm == "ed25519":
        from mkcert.actions.weak import ED25519_WARNING

        warn(ED25519_WARNING)
    from mkcert.actions.staged_key import staged_key_owner
    from mkcert.system import publish
    from mkcert.x509.key_types import describe_key, generate_key, private_key_pem

    new_key = generate_key(spec)
    with publish.Run() as run:
        publish.remove_stale_temporaries(path)
        publish.publish_new(path, private_key_pem(new_key, spec), run, staged_key_owner(pem_stat))
    return Outcome(message=f"{path}: the next key ({describe_key(new_key)}) is staged; "
                           f"--renew --rollover makes the certificate for it")


def current_key(pem: str):
    """(stat, private key) of the PEM: the key the staged one follows."""
    from mkcert.actions.install import parse_private_key
    from mkcert.system.files import read_regular_file_with_stat
    from mkcert.x509.chain import MAX_PEM_BYTES

    try:
        data, st = read_regular_file_with_stat(pem, MAX_PEM_BYTES)
    except FileNotFoundError:
        raise MkcertError(f"{pem}: missing; make the certificate first, then stage its "
                          f"next key") from None
    except OSError as exc:
        raise MkcertError(f"cannot read {pem}: {exc.strerror or exc}") from None
    return st, parse_private_key(data, pem)


def _spec(key_type, key):
    """The next key's KeySpec: the key type asked for, else the current key's own."""
    from mkcert.request import MIN_STRONG_RSA_BITS, KeySpec
    from mkcert.x509.key_types import algorithm_of, key_spec_of

    if key_type is None:
        return key_spec_of(key).replace(pem_format="pkcs8")
    if key_type.algorithm == "rsa":
        bits = key_type.bits or (key.key_size if algorithm_of(key) == "rsa"
                                 else MIN_STRONG_RSA_BITS)
        return KeySpec("rsa", bits, "pkcs8")
    return KeySpec(key_type.algorithm, None, "pkcs8", key_type.curve)


def separate_key_file_refusal(pem: str, key: str, option: str) -> str:
    """Why ``option`` refuses a PEM whose key Courier reads from ``key``: a
    staged or reused key is not yet followed into a separate key file."""
    return (f"{pem}: its key is in {key} (TLS_PRIVATE_KEYFILE); {option} does not "
            f"support a separate key file yet")


def read_staged_key(pem: str):
    """The staged next key of ``pem`` (for ``--renew --rollover``), or MkcertError."""
    from mkcert.actions.install import read_private_key

    path = staged_key_path(pem)
    if not os.path.lexists(path):
        raise MkcertError(f"{path}: no staged key to roll over to (--stage-next-key "
                          f"writes one)")
    return read_private_key(path)

