"""Would a TLS server load this PEM?  The proof asked of every per-domain file.

A ``TLS_CERTFILE.<name>`` that Courier cannot load does not stop the
server: the handshake for that one name fails, and the only trace is
"No supported cipher suites have been found." in the log.  So before such
a file is published its bytes are loaded as a server would load them:
every certificate block parsed, the private key parsed, the key matching
the first certificate, and the pair accepted by an OpenSSL ``SSL.Context``
(:func:`mkcert.x509.compat.tls_context_error`).
"""

from __future__ import annotations

__all__ = ["pem_load_error"]


def pem_load_error(data: bytes, key_data: bytes | None = None) -> str | None:
    """None when a server could serve ``data``; else why not, in a few words.

    ``key_data``: the separate key file's bytes (``TLS_PRIVATE_KEYFILE``),
    when the key is not in ``data`` itself.
    """
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from mkcert.x509.chain import (certificate_blocks, is_encrypted, key_matches,
                                   load_certificate, pem_blocks, private_key_blocks)
    from mkcert.x509.compat import tls_context_error

    blocks = pem_blocks(data)
    certificates = []
    for number, block in enumerate(certificate_blocks(blocks), 1):
        try:
            certificates.append(load_certificate(block))
        except ValueError as exc:
            return f"certificate {number} cannot be parsed: {exc}"
    if not certificates:
        return "no certificate in it"
    key_blocks = pem_blocks(key_data) if key_data is not None else blocks
    if is_encrypted(key_blocks):
        return "the private key is encrypted"
    found = private_key_blocks(key_blocks)
    if not found:
        return "no private key in it"
    try:
        key = load_pem_private_key(found[0], None)
    except Exception as exc:  # ValueError, TypeError, UnsupportedAlgorithm
        return f"the private key cannot be read: {exc}"
    try:
        if not key_matches(key, certificates[0]):
            return "the private key does not match the certificate"
    except ValueError as exc:
        return f"the certificate's key cannot be read: {exc}"
    return tls_context_error(certificates[0], key)
