"""``--check --ca-file FILE``: does the PEM's chain end at a CA the admin trusts?

``--check`` proves each link of the chain in the PEM (each certificate
issued by the next one), but a chain may be whole and still lead nowhere a
client trusts: an intermediate of another CA, a test CA's, a renewal from
the staging server.  Clients hold the roots, not the server, so the check
needs them from outside: ``FILE`` is a PEM bundle of trust anchors (Debian's
``/etc/ssl/certs/ca-certificates.crt``, a private CA's root, the root of a
test ACME server).  The last certificate of the PEM must be one of them or
be issued (names and signature) by one of them; otherwise the PEM is
CRITICAL, since clients that trust only those would refuse the server.
"""

from __future__ import annotations

from mkcert.errors import MkcertError, describe
from mkcert.system.files import FileTooLarge, NotRegularFile, read_regular_file
from mkcert.x509 import chain

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from cryptography.x509 import Certificate

__all__ = ["MAX_BUNDLE_BYTES", "read_anchors", "anchor_of"]

# Debian's whole ca-certificates bundle is about 220 KB.
MAX_BUNDLE_BYTES = 8 << 20


def read_anchors(path: str) -> "list[Certificate]":
    """The certificates in the bundle at ``path``; MkcertError if there are none to read."""
    try:
        data = read_regular_file(path, MAX_BUNDLE_BYTES)
    except NotRegularFile:
        raise MkcertError(f"--ca-file {path}: not a regular file") from None
    except FileTooLarge:
        raise MkcertError(f"--ca-file {path}: larger than {MAX_BUNDLE_BYTES} bytes; "
                          f"not read") from None
    except OSError as exc:
        raise MkcertError(f"cannot read --ca-file {path}: {describe(exc)}") from None
    blocks = chain.certificate_blocks(chain.pem_blocks(data))
    if not blocks:
        raise MkcertError(f"--ca-file {path}: no certificate in it (no BEGIN CERTIFICATE block)")
    anchors = []
    for number, block in enumerate(blocks, 1):
        try:
            anchors.append(chain.load_certificate(block))
        except ValueError as exc:
            raise MkcertError(f"--ca-file {path}: certificate {number} cannot be read: "
                              f"{exc}") from None
    return anchors


def anchor_of(last: "Certificate", anchors: "list[Certificate]") -> "Certificate | None":
    """The anchor that is ``last`` or issued it; None when none is."""
    for anchor in anchors:
        if anchor.tbs_certificate_bytes == last.tbs_certificate_bytes and \
                anchor.signature == last.signature:
            return anchor
    for anchor in anchors:
        if chain.issued_by(last, anchor):
            return anchor
    return None
