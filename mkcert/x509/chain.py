"""What a PEM holds, and whether its key and certificates belong together.

A Courier PEM is a private key followed by the server's certificate and,
for a certificate from a CA, the intermediates that lead to the CA's root:
the order a TLS server sends them in.  ``--check`` reads such a file and
``--install`` assembles one from a CA's (certbot's) separate files; both ask
the same questions here:

* which PEM blocks the bytes hold (:func:`pem_blocks`);
* does the key belong to the first certificate (:func:`public_key_der`);
* is each certificate issued by the next one (:func:`chain_breaks`), which
  takes the issuer's *signature*, not only matching names.

No file I/O: callers read the bytes and decide what a finding means.
"""

from __future__ import annotations

import bisect
import re

from mkcert.asn1 import der, oids

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import (CertificatePublicKeyTypes,
                                                                 PrivateKeyTypes, PublicKeyTypes)

__all__ = ["Blocks", "CERTIFICATE_LABEL", "DIGEST_BY_SIGNATURE_OID", "ENCRYPTED_KEY_LABEL",
           "MAX_PEM_BYTES", "PRIVATE_KEY_LABELS", "PSS_DIGESTS", "certificate_blocks",
           "certificate_public_key", "chain_breaks", "is_encrypted", "is_self_signed",
           "issued_by", "key_matches", "load_certificate", "pem_blocks", "private_key_blocks",
           "pss_parameters", "public_key_der", "signature_verifies"]

# A PEM file's blocks, in file order: (label, the whole block from BEGIN to END).
Blocks = list[tuple[bytes, bytes]]

# Signature algorithm OIDs, by the digest they use (RSA PKCS#1 v1.5 and
# ECDSA); what is not here is reported by its OID and never warned about.
DIGEST_BY_SIGNATURE_OID = {
    oids.MD5_WITH_RSA: "md5",
    oids.SHA1_WITH_RSA: "sha1",
    oids.SHA224_WITH_RSA: "sha224",
    oids.SHA256_WITH_RSA: "sha256",
    oids.SHA384_WITH_RSA: "sha384",
    oids.SHA512_WITH_RSA: "sha512",
    oids.ECDSA_WITH_SHA1: "sha1",
    oids.ECDSA_WITH_SHA224: "sha224",
    oids.ECDSA_WITH_SHA256: "sha256",
    oids.ECDSA_WITH_SHA384: "sha384",
    oids.ECDSA_WITH_SHA512: "sha512",
    oids.ED25519: "ed25519",
    oids.ED448: "ed448",
}

PRIVATE_KEY_LABELS = (b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY",
                      b"DSA PRIVATE KEY")
ENCRYPTED_KEY_LABEL = b"ENCRYPTED PRIVATE KEY"
CERTIFICATE_LABEL = b"CERTIFICATE"
# The most any reader here takes from a PEM file.  A Courier PEM (key,
# certificate, chain, DH parameters) is a few KiB; the certificates our own
# commands make stay well under this (mkcert.x509.certificate refuses bigger ones), so
# --check, --renew and --install read everything we write.
MAX_PEM_BYTES = 1 << 20

_BEGIN, _END, _DASHES = b"-----BEGIN ", b"-----END ", b"-----"
_LABEL = re.compile(rb"([A-Z0-9 ]+)-----")
_LINE_END = re.compile(rb"\r?\n")


def pem_blocks(data: bytes) -> Blocks:
    """(label, block bytes) for each PEM block, in file order; other text is skipped.

    A block runs from a ``-----BEGIN LABEL-----`` line to the first
    ``-----END LABEL-----`` after it; a BEGIN line without its END is
    skipped.  The work is linear in the size of ``data``: every END marker
    is found once, up front, so a BEGIN without an END costs a lookup
    rather than a scan to the end of the file (a file of such lines made a
    backtracking search quadratic: minutes for one MiB, in a file the mail
    user may own and the daily renewal reads).
    """
    ends = _end_markers(data)
    blocks, position = [], 0
    while True:
        start = data.find(_BEGIN, position)
        if start < 0:
            return blocks
        label, body = _begin_line(data, start + len(_BEGIN))
        end = None if label is None else _first_at_or_after(ends.get(label), body)
        if end is None:
            position = start + 1
            continue
        position = end + len(_END) + len(label) + len(_DASHES)
        blocks.append((label, data[start:position]))


def _end_markers(data):
    """Where each label's ``-----END LABEL-----`` markers start, in file order."""
    ends, position = {}, 0
    while True:
        at = data.find(_END, position)
        if at < 0:
            return ends
        match = _LABEL.match(data, at + len(_END))
        if match:
            ends.setdefault(match.group(1), []).append(at)
        position = at + 1  # "-----END A-----END B-----" holds both


def _begin_line(data, offset):
    """(label, start of the block's body) from the rest of a BEGIN line; (None, None) if none."""
    match = _LABEL.match(data, offset)
    if not match:
        return None, None
    newline = _LINE_END.match(data, match.end())
    if not newline:
        return None, None
    return match.group(1), newline.end()


def _first_at_or_after(positions, offset):
    if not positions:
        return None
    index = bisect.bisect_left(positions, offset)
    return positions[index] if index < len(positions) else None


def is_encrypted(blocks: Blocks) -> bool:
    """A passphrase-protected key, in PKCS#8 or OpenSSL's traditional form."""
    return any(label == ENCRYPTED_KEY_LABEL or b"Proc-Type: 4,ENCRYPTED" in block
               for label, block in blocks)


def private_key_blocks(blocks: Blocks) -> list[bytes]:
    return [block for label, block in blocks if label in PRIVATE_KEY_LABELS]


def certificate_blocks(blocks: Blocks) -> list[bytes]:
    return [block for label, block in blocks if label == CERTIFICATE_LABEL]


def load_certificate(block: bytes) -> "x509.Certificate":
    """cryptography's certificate for one PEM block; ValueError, in one sentence, if unreadable.

    Damaged or hostile bytes fail inside cryptography in more ways than
    ValueError (InvalidVersion for a bad version number; TypeError or
    KeyError from a name value of an odd type, and only when the name is
    used), and differently from release to release.  So every part of a
    certificate this project reads is read here once, the names and
    extensions from the DER (as :mod:`mkcert.x509.inspect` prints them), and any
    failure becomes a ValueError that the callers report as an unreadable
    certificate.  The public key stays lazy: :func:`certificate_public_key`
    says what is wrong with it.
    """
    import warnings

    from cryptography import x509

    from mkcert.x509.compat import not_valid_after, not_valid_before
    from mkcert.x509.inspect import extensions, format_name, issuer_der, subject_der

    try:
        with warnings.catch_warnings():
            # A non-positive serial is tolerated with a deprecation warning,
            # which would be a second line on stderr; the serial is nobody's
            # business here.
            warnings.simplefilter("ignore")
            certificate = x509.load_pem_x509_certificate(block)
            _ = (not_valid_before(certificate), not_valid_after(certificate),
                 certificate.signature_algorithm_oid.dotted_string,
                 format_name(subject_der(certificate)), format_name(issuer_der(certificate)),
                 extensions(certificate))
    except Exception as exc:  # noqa: BLE001 - see above: no list of types is complete
        raise ValueError(_first_sentence(exc)) from None
    return certificate


def _first_sentence(exc):
    """The gist of a library's error, without OpenSSL's error stack or Rust's debug dump."""
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return (detail.split(". ")[0] or type(exc).__name__).replace("\n", " ")


def public_key_der(public_key: "PublicKeyTypes") -> bytes:
    """SubjectPublicKeyInfo DER: equal for a key and its certificate, whatever the type."""
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_public_key(certificate: "x509.Certificate") -> "CertificatePublicKeyTypes":
    """The certificate's public key; ValueError, in one short sentence, if it cannot be read.

    A damaged or unknown key algorithm surfaces only here (cryptography
    parses it lazily), as UnsupportedAlgorithm or as a ValueError carrying
    OpenSSL's error stack, depending on the release.
    """
    try:
        return certificate.public_key()
    except Exception as exc:  # UnsupportedAlgorithm is not a ValueError
        raise ValueError(f"its public key cannot be read: {_first_sentence(exc)}") from None


def key_matches(key: "PrivateKeyTypes", certificate: "x509.Certificate") -> bool:
    """Is ``key`` the private half of the certificate's public key?

    Raises ValueError when the certificate's key cannot be read at all.
    """
    return public_key_der(key.public_key()) == public_key_der(
        certificate_public_key(certificate))


def is_self_signed(certificate: "x509.Certificate") -> bool:
    """Issuer equals subject and its own key verifies the signature.

    Both, because a CA may issue a certificate whose subject happens to
    equal the CA's name; only the signature tells who really signed it.
    """
    return issued_by(certificate, certificate)


def issued_by(certificate: "x509.Certificate", issuer: "x509.Certificate") -> bool:
    """Did ``issuer`` issue ``certificate``: names match and its key verifies the signature?"""
    from mkcert.x509.inspect import issuer_der, subject_der

    if issuer_der(certificate) != subject_der(issuer):
        return False
    try:
        public_key = issuer.public_key()
    except Exception:  # a key type this cryptography cannot load
        return False
    return signature_verifies(certificate, public_key)


def signature_verifies(certificate: "x509.Certificate",
                       public_key: "CertificatePublicKeyTypes") -> bool:
    """Does ``public_key`` verify the certificate's signature (any digest, even md5)?"""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    from mkcert.x509.digests import hash_algorithm
    from mkcert.errors import MkcertError

    oid = certificate.signature_algorithm_oid.dotted_string
    digest = DIGEST_BY_SIGNATURE_OID.get(oid)
    signed, signature = certificate.tbs_certificate_bytes, certificate.signature
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and oid == oids.RSASSA_PSS:
            return _rsa_pss_verifies(certificate, public_key, signed, signature)
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed, padding.PKCS1v15(), hash_algorithm(digest))
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed, ec.ECDSA(hash_algorithm(digest)))
        elif digest in ("ed25519", "ed448"):
            public_key.verify(signature, signed)
        else:
            return False
    except (InvalidSignature, MkcertError, ValueError, TypeError):
        return False
    except Exception:  # an algorithm this OpenSSL refuses: not provably issued
        return False
    return True


def _rsa_pss_verifies(certificate, public_key, signed, signature):
    """RSA-PSS, with the parameters read from the certificate's DER (RFC 4055).

    cryptography only exposes them since 41; reading them here gives Debian's
    38 the same verdict as the newest release.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    from mkcert.x509.digests import hash_algorithm
    from mkcert.errors import MkcertError

    try:
        digest, mask_digest, salt = pss_parameters(certificate)
        public_key.verify(signature, signed,
                          padding.PSS(mgf=padding.MGF1(hash_algorithm(mask_digest)),
                                      salt_length=salt),
                          hash_algorithm(digest))
    except (InvalidSignature, MkcertError, ValueError, TypeError, IndexError):
        return False
    except Exception:
        return False
    return True


# RFC 4055's hash algorithms for RSASSA-PSS, by OID.
PSS_DIGESTS = {
    oids.SHA1: "sha1",
    oids.SHA224: "sha224",
    oids.SHA256: "sha256",
    oids.SHA384: "sha384",
    oids.SHA512: "sha512",
}
# The fields of RSASSA-PSS-params, each an explicit tag around one value.
_HASH_ALGORITHM, _MASK_GEN_ALGORITHM, _SALT_LENGTH = (der.context_tag(n) for n in range(3))


def pss_parameters(certificate: "bytes | x509.Certificate") -> tuple[str, str, int]:
    """(digest, MGF1 digest, salt length) of an RSA-PSS signature; RFC 4055's defaults apply.

    Raises ValueError for parameters outside RFC 4055's hash algorithms.
    """
    from mkcert.x509.inspect import certificate_der

    signature_algorithm = der.members(certificate_der(certificate))[1]
    parameters = der.members(signature_algorithm)[1:]
    digest, mask_digest, salt = "sha1", "sha1", 20
    if parameters:
        for field in der.members(parameters[0]):
            value = der.members(field)[0]
            if field[0] == _HASH_ALGORITHM:
                digest = _pss_digest(value)
            elif field[0] == _MASK_GEN_ALGORITHM:  # MGF1, whose parameter is its hash
                mask_digest = _pss_digest(der.members(value)[1])
            elif field[0] == _SALT_LENGTH:
                salt = int.from_bytes(der.content(value), "big")
    return digest, mask_digest, salt


def _pss_digest(algorithm_identifier):
    """The digest name of an RFC 4055 hash AlgorithmIdentifier."""
    dotted = der.read_oid(der.members(algorithm_identifier)[0])
    if dotted not in PSS_DIGESTS:
        raise ValueError(f"RSA-PSS with hash {dotted}")
    return PSS_DIGESTS[dotted]


def chain_breaks(certificates: "list[x509.Certificate]") -> list[tuple[int, str]]:
    """Where a chain (leaf first) does not hold: (index, text) for each broken link.

    Certificate ``i`` must be issued by certificate ``i + 1``; the last one
    is not examined (it may be a root or an intermediate whose issuer the
    clients know).  An empty list means every link holds.
    """
    from mkcert.x509.inspect import format_name, issuer_der, subject_der

    breaks = []
    for index, (certificate, issuer) in enumerate(zip(certificates, certificates[1:])):
        if issued_by(certificate, issuer):
            continue
        subject = format_name(subject_der(certificate)) or "(empty name)"
        if issuer_der(certificate) != subject_der(issuer):
            wanted = format_name(issuer_der(certificate)) or "(empty name)"
            found = format_name(subject_der(issuer)) or "(empty name)"
            text = (f"certificate {index + 1} ({subject}) is issued by {wanted}, "
                    f"but certificate {index + 2} is {found}")
        else:
            text = (f"certificate {index + 1} ({subject}): the signature does not verify "
                    f"with the key of certificate {index + 2}")
        breaks.append((index, text))
    return breaks
