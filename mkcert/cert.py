"""Certificates: turn a :class:`~mkcert.request.CertRequest` and a key into X.509.

cryptography's builder makes the TBSCertificate (version, serial, validity,
public key, extensions); two of its fields are then replaced before the
certificate is signed with the RSA key (PKCS#1 v1.5, as OpenSSL signs):

* subject and issuer, with the DER the reader chose (:mod:`mkcert.names`):
  the builder would validate and re-encode names differently from OpenSSL;
* the version, when a request has no extensions (OpenSSL's v1);
* the signature algorithm: since cryptography 39 the builder refuses MD5 and
  SHA-1, yet Courier's own imapd.cnf and pop3d.cnf say ``default_md = sha1``,
  and a drop-in must honour that.
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ObjectIdentifier

from . import der
from .errors import MkcertError
from .names import name_der
from .request import KeyContext

# Signature algorithms for RSA PKCS#1 v1.5, by digest name.
RSA_SIGNATURE_OIDS = {
    "md5": "1.2.840.113549.1.1.4",
    "sha1": "1.2.840.113549.1.1.5",
    "sha224": "1.2.840.113549.1.1.14",
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
    "sha512-224": "1.2.840.113549.1.1.15",
    "sha512-256": "1.2.840.113549.1.1.16",
    "sha3-224": "2.16.840.1.101.3.4.3.13",
    "sha3-256": "2.16.840.1.101.3.4.3.14",
    "sha3-384": "2.16.840.1.101.3.4.3.15",
    "sha3-512": "2.16.840.1.101.3.4.3.16",
}

_HASHES = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha512-224": hashes.SHA512_224,
    "sha512-256": hashes.SHA512_256,
    "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256,
    "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}

def hash_algorithm(name):
    """The cryptography hash object for a digest name such as ``sha256``."""
    try:
        return _HASHES[name]()
    except KeyError:
        raise MkcertError(f"unsupported signature digest {name!r}") from None


def random_serial():
    """A random positive serial of up to 159 bits, as OpenSSL 3 `req -x509` makes."""
    return int.from_bytes(os.urandom(20), "big") >> 1 or 1


def key_context(public_key, subject, serial):
    spki = public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    _, body, _ = der.read_tlv(spki)
    algorithm, bit_string = der.children(spki[body:])
    _, start, end = der.read_tlv(bit_string)
    return KeyContext(public_key_info=spki, public_key_bits=bit_string[start + 1:end],
                      subject=subject, serial=serial)


def build_certificate(request, key, now=None):
    """Make the self-signed certificate the request describes, signed by ``key``."""
    subject = name_der(request.subject)
    serial = request.serial if request.serial is not None else random_serial()
    not_before, not_after = request.validity(now)
    placeholder = x509.Name([])
    builder = (x509.CertificateBuilder()
               .subject_name(placeholder)
               .issuer_name(placeholder)
               .public_key(key.public_key())
               .serial_number(serial)
               .not_valid_before(_naive_utc(not_before))
               .not_valid_after(_naive_utc(not_after)))
    context = key_context(key.public_key(), subject, serial)
    for extension in request.extensions:
        value = extension.value(context)
        if value is None:
            continue
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier(extension.oid), value),
            critical=extension.critical)
    # OpenSSL makes a version 1 certificate when the config asks for no
    # extensions at all (version 3 as soon as it asks for any, even if
    # none ends up in the certificate).
    return _sign(builder, key, subject, request.digest, version1=not request.extensions)


def _naive_utc(moment):
    # cryptography 38 reads naive datetimes as UTC and has no tz handling of its own.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _sign(builder, key, subject, digest, version1=False):
    """Replace the draft's names and signature algorithm, then sign it."""
    if digest not in RSA_SIGNATURE_OIDS:
        raise MkcertError(f"unsupported signature digest {digest!r}")
    algorithm = hash_algorithm(digest)
    draft = builder.sign(key, hashes.SHA256())
    algorithm_id = der.sequence(der.oid(RSA_SIGNATURE_OIDS[digest]), der.null())
    _, body, _ = der.read_tlv(draft.tbs_certificate_bytes)
    fields = der.children(draft.tbs_certificate_bytes[body:])
    # TBSCertificate: [0] version, serialNumber, signature, issuer, validity,
    # subject, subjectPublicKeyInfo, [3] extensions.
    fields[2], fields[3], fields[5] = algorithm_id, subject, subject
    if version1:
        del fields[0]  # version v1 is the DEFAULT: it is left out
    tbs = der.sequence(*fields)
    signature = key.sign(tbs, padding.PKCS1v15(), algorithm)
    return x509.load_der_x509_certificate(
        der.sequence(tbs, algorithm_id, der.bit_string(signature)))


def certificate_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)
