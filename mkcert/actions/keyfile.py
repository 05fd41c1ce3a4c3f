"""A key of its own: ``TLS_PRIVATE_KEYFILE`` beside ``TLS_CERTFILE``.

When a service config sets ``TLS_PRIVATE_KEYFILE`` (see
:mod:`mkcert.readers.serviceconf`), Courier reads the key from there and
only the certificate chain from ``TLS_CERTFILE``; a first run, ``--renew``
and ``--install`` then write the two parts of the PEM they make to the
two files, with the same file safety, and in the order of
:func:`mkcert.system.pair.order` (why, in :mod:`mkcert.system.pair`).
"""

from __future__ import annotations

from collections.abc import Callable

from mkcert.errors import MkcertError, describe

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from mkcert.system.publish import Owner, Run
    from mkcert.system.target import Target

__all__ = ["split", "current", "publisher"]


def split(data: bytes) -> tuple[bytes, bytes]:
    """(the private key block, everything else in order) of a PEM we made or assembled."""
    from mkcert.x509.chain import PRIVATE_KEY_LABELS, pem_blocks

    key, rest = b"", b""
    for label, block in pem_blocks(data):
        block = block.rstrip(b"\r\n") + b"\n"
        if label in PRIVATE_KEY_LABELS and not key:
            key = block
        else:
            rest += block
    return key, rest


def current(path: str) -> "Target":
    """The :class:`~mkcert.system.target.Target` at ``path``: new, or replacing what is there."""
    from mkcert.system.files import FileTooLarge, read_regular_file
    from mkcert.system.publish import file_to_replace
    from mkcert.system.target import Target
    from mkcert.x509.chain import MAX_PEM_BYTES

    st = file_to_replace(path, "replacing", "remove the link, or set TLS_PRIVATE_KEYFILE to "
                                            "the file it points to")
    if st is None:
        return Target(path)
    try:
        data = read_regular_file(path, MAX_PEM_BYTES, follow_symlinks=False)
    except FileTooLarge:
        raise MkcertError(f"{path}: larger than {MAX_PEM_BYTES} bytes, more than any key "
                          f"file holds; not replacing it") from None
    except OSError as exc:
        raise MkcertError(f"cannot read {path}: {describe(exc)}") from None
    return Target(path, data, st)


def publisher(certificate: "Target", key: "Target",
              owner: "Owner | None" = None) -> Callable[[bytes, "Run"], None]:
    """``publish_pem(data, run)`` for the pipeline: the key to ``key``, the rest to ``certificate``."""
    from mkcert.system.pair import publish_pair

    def publish_pem(data, run):
        key_data, certificate_data = split(data)
        publish_pair(certificate, certificate_data, key, key_data, run, owner)

    return publish_pem
