"""Certificates: turn a :class:`~mkcert.request.CertRequest` and a key into X.509.

The key is cryptography's and so is the signature (PKCS#1 v1.5, ECDSA or
Ed25519, as OpenSSL signs: :mod:`mkcert.x509.key_types`); the TBSCertificate around them is laid out here from
:mod:`mkcert.asn1.der`, field by field, because:

* the names must be exactly the DER the reader chose (:mod:`mkcert.asn1.names`):
  cryptography's builder validates and re-encodes them differently from
  OpenSSL (a T61String as UTF-8, no 64-character CN of non-ASCII letters);
* the digest must be the config's: since cryptography 39 the builder refuses
  MD5 and SHA-1, yet Courier's own imapd.cnf and pop3d.cnf say
  ``default_md = sha1``, and a drop-in must honour that;
* OpenSSL writes a version 1 certificate when a config asks for no
  extensions;
* importing cryptography's X.509 layer costs 45 ms (most of the command's
  own start-up budget), and the command path needs none of it: it writes
  DER and PEM and prints from the DER (:mod:`mkcert.x509.inspect`).

:func:`build_certificate` loads the result as a cryptography certificate for
callers that want one.
"""

from __future__ import annotations

import datetime
import os

# Not cryptography's serialization package: importing it loads the SSH,
# PKCS#12 and cipher code (about 10 ms); the few encodings the command
# writes are laid out in mkcert.x509.keys and mkcert.x509.key_types instead.
from mkcert.asn1 import der
from mkcert.x509.chain import MAX_PEM_BYTES
from mkcert.x509.digests import digest
from mkcert.errors import MkcertError
from mkcert.x509.key_types import (RSA_SIGNATURE_OIDS, public_key_info, sign,
                                   signature_algorithm)
from mkcert.asn1.names import name_der
from mkcert.request import CertRequest, KeyContext

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import (PrivateKeyTypes,
                                                                 PublicKeyTypes)

    from mkcert.x509.authority import Issuer

# The largest certificate (DER) made here.  Its PEM (4/3 of it, plus line
# ends), the largest key and DH parameters still fit in MAX_PEM_BYTES, so
# --check, --renew and --install can read every PEM the commands write.
MAX_CERTIFICATE_BYTES = MAX_PEM_BYTES // 2

__all__ = ["MAX_CERTIFICATE_BYTES", "RSA_SIGNATURE_OIDS", "build_certificate",
           "build_certificate_der", "certificate_pem", "key_context", "random_serial",
           "x509_time"]


def random_serial() -> int:
    """A random positive serial of up to 159 bits, as OpenSSL 3 `req -x509` makes."""
    return int.from_bytes(os.urandom(20), "big") >> 1 or 1


def key_context(public_key: "PublicKeyTypes", subject: bytes, serial: int) -> KeyContext:
    """What extensions are derived from: the key's encodings and hashes, the subject, the serial."""
    spki = public_key_info(public_key)
    _, subject_public_key = der.members(spki)  # after the AlgorithmIdentifier
    key_bits = der.content(subject_public_key)[1:]  # after the count of unused bits (0)
    return KeyContext(public_key_info=spki, public_key_bits=key_bits,
                      subject=subject, serial=serial,
                      public_key_bits_sha1=digest("sha1", key_bits),
                      public_key_info_sha1=digest("sha1", spki))


def build_certificate_der(request: CertRequest, key: "PrivateKeyTypes",
                          now: datetime.datetime | None = None,
                          issuer: "Issuer | None" = None) -> bytes:
    """The DER of the certificate the request describes, for ``key``.

    Self-signed by ``key`` (RSA PKCS#1 v1.5, ECDSA or Ed25519, as OpenSSL and
    certtool sign); or, with ``issuer`` (a :class:`mkcert.x509.authority.Issuer`),
    in its name and signed by its key (the request then carries the
    authorityKeyIdentifier: :func:`mkcert.x509.authority.leaf_request`).
    """
    signing_key = key if issuer is None else issuer.key
    algorithm_id = signature_algorithm(signing_key, request.digest)
    subject = name_der(request.subject)
    issuer_name = subject if issuer is None else issuer.name
    serial = request.serial if request.serial is not None else random_serial()
    not_before, not_after = request.validity(now)
    context = key_context(key.public_key(), subject, serial)
    fields = [der.integer(serial), algorithm_id, issuer_name,
              der.sequence(x509_time(not_before), x509_time(not_after)),
              subject, context.public_key_info]
    # OpenSSL makes a version 1 certificate when the config asks for no
    # extensions at all (version 3 as soon as it asks for any, even if
    # none ends up in the certificate).
    if request.extensions:
        fields.insert(0, der.context(0, der.integer(2)))  # v3
        extensions = _extensions_der(request.extensions, context)
        if extensions:
            fields.append(der.context(3, der.sequence(*extensions)))
    tbs = der.sequence(*fields)
    _refuse_oversized(tbs)
    signature = sign(signing_key, tbs, request.digest)
    return der.sequence(tbs, algorithm_id, der.bit_string(signature))


def _refuse_oversized(tbs):
    """A certificate that our own --check and --renew could not read is not made at all."""
    if len(tbs) > MAX_CERTIFICATE_BYTES:
        raise MkcertError(f"the certificate would be over {len(tbs)} bytes, more than the "
                          f"{MAX_CERTIFICATE_BYTES} made here so that --check, --renew and "
                          f"--install can read its PEM ({MAX_PEM_BYTES} bytes at most): ask "
                          f"for fewer or shorter names")


def _extensions_der(extensions, context):
    encoded, seen = [], set()
    for extension in extensions:
        value = extension.value(context)
        if value is None:
            continue
        if extension.oid in seen:
            raise MkcertError(f"the extension {extension.oid} is asked for twice")
        seen.add(extension.oid)
        critical = [der.boolean(True)] if extension.critical else []  # DEFAULT FALSE
        encoded.append(der.sequence(der.oid(extension.oid), *critical, der.octet_string(value)))
    return encoded


def x509_time(moment: datetime.datetime) -> bytes:
    """UTCTime through 2049, GeneralizedTime after (RFC 5280, 4.1.2.5)."""
    moment = moment.astimezone(datetime.timezone.utc)
    if 1950 <= moment.year < 2050:
        return der.tlv(der.UTC_TIME, moment.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return der.tlv(der.GENERALIZED_TIME, f"{moment.year:04d}{moment:%m%d%H%M%S}Z".encode("ascii"))


def build_certificate(request: CertRequest, key: "PrivateKeyTypes",
                      now: datetime.datetime | None = None) -> "x509.Certificate":
    """The certificate as a cryptography object (for callers that inspect it)."""
    from cryptography import x509

    return x509.load_der_x509_certificate(build_certificate_der(request, key, now))


def certificate_pem(certificate: "bytes | x509.Certificate") -> bytes:
    """PEM of a certificate given as DER bytes or as a cryptography object."""
    if not isinstance(certificate, (bytes, bytearray)):
        from cryptography.hazmat.primitives import serialization

        certificate = certificate.public_bytes(serialization.Encoding.DER)
    return der.pem(bytes(certificate), "CERTIFICATE")
