"""A private mail CA: its key and certificate, and the leaves it issues.

Mail clients keep their trust per certificate, so every renewal of a
self-signed certificate asks every user again.  A small CA whose
certificate users import once ends that: the leaves it issues can be
renewed for ever.  This module is that CA's X.509 side:

* the CA certificate (:func:`build_ca_certificate`): basicConstraints
  CA:TRUE pathlen 0, keyUsage keyCertSign and cRLSign, and nameConstraints
  permitting only the mail host's domains (and their subdomains) and the
  networks given, so a stolen CA key cannot impersonate any other site to
  the clients that trust it.  Without any network given, every IP address
  is excluded, since a subtree of one type leaves the other types free.
  The CA certificate is our own object (nothing to reproduce byte for
  byte), so cryptography's builder makes it; a renewal keeps its key,
  subject, subjectKeyIdentifier and constraints;
* the leaf (:func:`leaf_request`): the ``.cnf``'s request as a first run
  reads it, with what a CA-issued server certificate needs on top
  (authorityKeyIdentifier, serverAuth, a random serial, an end no later
  than the CA's); the certificate builder signs it with the CA's key;
* recognition (:func:`is_issued_by`): by key identifier and signature,
  never by name.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from mkcert.asn1 import der, general_names
from mkcert.asn1.oids import (AUTHORITY_KEY_IDENTIFIER, EXTENDED_KEY_USAGE, SERVER_AUTH,
                              SUBJECT_KEY_IDENTIFIER)
from mkcert.errors import MkcertError
from mkcert.record import REQUIRED, Record

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from mkcert.readers.key_type import KeyType
    from mkcert.request import CertRequest

__all__ = ["CA_ORGANIZATION", "MAX_CA_BYTES", "Authority", "Issuer", "authority_from_pem",
           "build_ca_certificate", "ca_key_pem", "certificate_der_of", "generate_ca_key",
           "is_issued_by", "key_identifier", "leaf_request", "names_outside", "permitted_names",
           "sha256_fingerprint"]

CA_ORGANIZATION = "Courier mail server"
WEAK_DIGESTS = ("md5", "sha1", "sha224")
# A CA certificate and key of ours take a few KiB; this bounds what is read.
MAX_CA_BYTES = 64 * 1024


class Issuer(Record):
    """Who signs a leaf that is not self-signed: its name (DER) and private key."""

    FIELDS = (("name", REQUIRED), ("key", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


class Authority(Record):
    """The local CA as read from disk: ``certificate`` (cryptography's), its ``der``,
    and the private ``key`` (None when there is none: destroyed, or not needed)."""

    FIELDS = (("certificate", REQUIRED), ("der", REQUIRED), ("key", None))
    __slots__ = tuple(name for name, _ in FIELDS)

    @property
    def not_after(self) -> datetime.datetime:
        from mkcert.x509.compat import not_valid_after

        return not_valid_after(self.certificate)

    @property
    def key_identifier(self) -> bytes:
        return key_identifier(self.certificate)

    def issuer(self) -> Issuer:
        from mkcert.x509.inspect import subject_der

        if self.key is None:
            raise MkcertError("the CA's private key is not loaded")
        return Issuer(subject_der(self.der), self.key)


# --- the CA's key and certificate ------------------------------------------

def generate_ca_key(key_type: "KeyType") -> "PrivateKeyTypes":
    """A new CA key.  RSA through :mod:`mkcert.x509.keys` (its search answers a
    signal at once); EC and Ed25519 keys take no time."""
    if key_type.algorithm == "rsa":
        from mkcert.request import KeySpec
        from mkcert.x509.keys import generate_key

        return generate_key(KeySpec("rsa", key_type.bits, "pkcs8"))
    if key_type.algorithm == "ec":
        from cryptography.hazmat.primitives.asymmetric import ec

        curve = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
        return ec.generate_private_key(curve[key_type.curve]())
    if key_type.algorithm == "ed25519":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PrivateKey.generate()
    raise MkcertError(f"unsupported key algorithm {key_type.algorithm!r}")


def ca_key_pem(key: "PrivateKeyTypes") -> bytes:
    """The CA key as unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``)."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _signature_hash(key):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 384:
        return hashes.SHA512()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def build_ca_certificate(key: "PrivateKeyTypes", domains: "list[str] | tuple[str, ...]",
                         networks: "list[str] | tuple[str, ...]", days: int,
                         now: datetime.datetime | None = None,
                         previous: "x509.Certificate | None" = None) -> "x509.Certificate":
    """The self-signed CA certificate, valid ``days`` from now.

    ``previous``: the CA certificate this one renews; its subject,
    subjectKeyIdentifier and nameConstraints are kept (``domains`` and
    ``networks`` are then ignored), so clients that trust it keep trusting
    what the same key signs.
    """
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    now = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
    public_key = key.public_key()
    if previous is not None:
        subject = previous.subject
        ski = previous.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        constraints = previous.extensions.get_extension_for_class(x509.NameConstraints).value
    else:
        ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
        # The key's identifier in the name: two hosts' CAs (or a CA made
        # again) never share a name, which clients would take for one CA.
        subject = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                               f"private CA {ski.digest[:4].hex().upper()}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{domains[0]} mail CA"[:64])])
        constraints = _name_constraints(domains, networks)
    from mkcert.request import LATEST

    not_after = min(now + datetime.timedelta(days=days), LATEST)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(subject).public_key(public_key)
               .serial_number(int.from_bytes(os.urandom(20), "big") >> 1 or 1)
               .not_valid_before(now).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(constraints, critical=True)
               .add_extension(ski, critical=False))
    return builder.sign(key, _signature_hash(key))


def _name_constraints(domains, networks):
    from cryptography import x509

    permitted = [x509.DNSName(domain) for domain in domains]
    permitted += [x509.IPAddress(ipaddress.ip_network(network, strict=False))
                  for network in networks]
    excluded = None
    if not networks:
        excluded = [x509.IPAddress(ipaddress.ip_network("0.0.0.0/0")),
                    x509.IPAddress(ipaddress.ip_network("::/0"))]
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)


def certificate_der_of(certificate: "x509.Certificate") -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.DER)


def authority_from_pem(certificate_pem: bytes, key_pem: bytes | None,
                       certificate_path: str, key_path: str) -> Authority:
    """The CA from its files' bytes; MkcertError naming the file for anything wrong."""
    from mkcert.x509.chain import (certificate_blocks, is_self_signed, load_certificate,
                                   pem_blocks, private_key_blocks, key_matches)

    blocks = certificate_blocks(pem_blocks(certificate_pem))
    if len(blocks) != 1:
        raise MkcertError(f"{certificate_path}: not one PEM certificate")
    try:
        certificate = load_certificate(blocks[0])
    except ValueError as exc:
        raise MkcertError(f"{certificate_path}: the certificate cannot be parsed: {exc}") from None
    if not (_is_ca(certificate) and is_self_signed(certificate)):
        raise MkcertError(f"{certificate_path}: not a self-signed CA certificate")
    key = None
    if key_pem is not None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        found = private_key_blocks(pem_blocks(key_pem))
        try:
            if len(found) != 1:
                raise ValueError("not one unencrypted PEM private key")
            key = load_pem_private_key(found[0], None)
        except (ValueError, TypeError) as exc:
            raise MkcertError(f"{key_path}: {exc}") from None
        if not key_matches(key, certificate):
            raise MkcertError(f"{key_path} does not belong to the CA certificate "
                              f"{certificate_path}")
    return Authority(certificate, certificate_der_of(certificate), key)


def _is_ca(certificate):
    from cryptography import x509

    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return False
    return constraints.value.ca


def key_identifier(certificate: "x509.Certificate") -> bytes | None:
    """The certificate's subjectKeyIdentifier, or None."""
    from cryptography import x509

    try:
        return certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def _authority_key_identifier(certificate):
    from cryptography import x509

    try:
        return certificate.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        return None


def is_issued_by(certificate: "x509.Certificate", authority: "x509.Certificate") -> bool:
    """Did this CA issue ``certificate``: its key identifier, and the CA key verifies it.

    Not by name: a name is anyone's to write, and a renewed CA keeps it.
    """
    from mkcert.x509.chain import signature_verifies

    ca_identifier = key_identifier(authority)
    if ca_identifier is None or _authority_key_identifier(certificate) != ca_identifier:
        return False
    try:
        return signature_verifies(certificate, authority.public_key())
    except Exception:  # a key type this cryptography cannot load
        return False


def sha256_fingerprint(certificate_der: bytes) -> str:
    """``AB:CD:...``: what ``openssl x509 -fingerprint -sha256`` and mail clients show."""
    from mkcert.x509.digests import digest

    text = digest("sha256", certificate_der).hex().upper()
    return ":".join(text[i:i + 2] for i in range(0, len(text), 2))


# --- names and constraints --------------------------------------------------

def permitted_names(certificate: "x509.Certificate") -> tuple[list[str], list, list]:
    """(DNS domains, permitted networks, excluded networks) of the CA's nameConstraints."""
    from cryptography import x509

    try:
        value = certificate.extensions.get_extension_for_class(x509.NameConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return [], [], []
    permitted = value.permitted_subtrees or []
    excluded = value.excluded_subtrees or []
    return ([n.value for n in permitted if isinstance(n, x509.DNSName)],
            [n.value for n in permitted if isinstance(n, x509.IPAddress)],
            [n.value for n in excluded if isinstance(n, x509.IPAddress)])


def names_outside(names: "list[bytes]", certificate: "x509.Certificate") -> list[str]:
    """The DNS names and IP addresses among ``names`` (GeneralName DER) that the CA's
    nameConstraints do not permit, as text; other kinds of name are not constrained."""
    domains, networks, excluded = permitted_names(certificate)
    outside = []
    for name in names:
        tag, content = der.tag_and_content(name)
        choice = tag & 0x1F
        if choice == general_names.DNS_NAME:
            text = content.decode("ascii", "replace")
            if domains and not any(_within(text, domain) for domain in domains):
                outside.append(text)
        elif choice == general_names.IP_ADDRESS and len(content) in (4, 16):
            address = ipaddress.ip_address(content)
            allowed = any(address.version == n.version and address in n for n in networks)
            barred = any(address.version == n.version and address in n for n in excluded)
            if barred or (networks and not allowed):
                outside.append(str(address))
    return outside


def _within(name, domain):
    """OpenSSL's dNSName subtree rule: the domain itself, or any name under it."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    if domain.startswith("."):
        return name.endswith(domain)
    return name == domain or name.endswith("." + domain)


def dns_names(names: "list[bytes]") -> list[str]:
    return [der.tag_and_content(n)[1].decode("ascii", "replace") for n in names
            if der.tag_and_content(n)[0] & 0x1F == general_names.DNS_NAME]


# --- the leaf ---------------------------------------------------------------

def leaf_request(request: "CertRequest", authority: Authority,
                 now: datetime.datetime | None = None) -> "CertRequest":
    """The ``.cnf``'s request made fit for issuing by ``authority``.

    Its subject and extensions stay as a first run makes them, except:
    authorityKeyIdentifier names the CA's key (where the ``.cnf`` had one,
    else last); extendedKeyUsage includes serverAuth (added to the ``.cnf``'s,
    or new); the serial is random (a template's fixed ``serial = 001``
    would repeat under one issuer); the validity ends no later than the CA's.
    Refuses (MkcertError) a request without a DNS name in subjectAltName, or
    with a name outside the CA's nameConstraints: clients would refuse the
    certificate.
    """
    from mkcert.request import Extension

    names = _request_names(request)
    domains = permitted_names(authority.certificate)[0]
    if not dns_names(names):
        raise MkcertError(f"a certificate from the CA needs the server's names in "
                          f"subjectAltName: give them with --san (within the CA's domains: "
                          f"{', '.join(domains) or 'any'})")
    outside = names_outside(names, authority.certificate)
    if outside:
        raise MkcertError(f"{', '.join(outside)}: outside the CA's names ("
                          f"{', '.join(domains)}); clients would refuse the certificate")
    aki = Extension(oid=AUTHORITY_KEY_IDENTIFIER, critical=False,
                    der=der.sequence(der.context(0, authority.key_identifier,
                                                 constructed=False)))
    extensions = [e for e in request.extensions if e.oid != AUTHORITY_KEY_IDENTIFIER]
    position = next((i for i, e in enumerate(request.extensions)
                     if e.oid == AUTHORITY_KEY_IDENTIFIER), len(extensions))
    extensions.insert(position, aki)
    extensions = _with_server_auth(extensions)
    if SUBJECT_KEY_IDENTIFIER not in [e.oid for e in extensions]:
        extensions.insert(position, _subject_key_identifier())
    not_before, not_after = request.validity(now)
    if not_after > authority.not_after:
        not_after = authority.not_after
    if not_after <= not_before:
        raise MkcertError("the CA certificate has expired: renew it first (mkcourierca --renew)")
    # A CA's signature with a digest that clients refuse (OpenSSL 3 refuses
    # SHA-1 at its default security level) would make the leaf useless;
    # Courier's own imapd.cnf still says default_md = sha1.
    digest = request.digest if request.digest not in WEAK_DIGESTS else "sha256"
    return request.replace(extensions=tuple(extensions), serial=None, digest=digest,
                           not_before=not_before, not_after=not_after)


def _request_names(request):
    from mkcert.asn1.oids import SUBJECT_ALT_NAME
    from mkcert.request import KeyContext

    for extension in request.extensions:
        if extension.oid == SUBJECT_ALT_NAME:
            value = extension.der
            if value is None:  # derived late (email:copy reads the subject), never from the key
                from mkcert.asn1.names import name_der

                value = extension.derive(KeyContext(b"", b"", name_der(request.subject), 0,
                                                    b"", b""))
            return general_names.entries(value) or []
    return []


def _with_server_auth(extensions):
    from mkcert.request import Extension

    wanted = der.oid(SERVER_AUTH)
    for index, extension in enumerate(extensions):
        if extension.oid == EXTENDED_KEY_USAGE and extension.der is not None:
            purposes = der.children(der.content(extension.der))
            if wanted not in purposes:
                extensions[index] = extension.replace(der=der.sequence(*purposes, wanted))
            return extensions
    return extensions + [Extension(oid=EXTENDED_KEY_USAGE, der=der.sequence(wanted))]


def _subject_key_identifier():
    """RFC 5280's method 1, as OpenSSL's ``subjectKeyIdentifier = hash``."""
    from mkcert.request import Extension

    return Extension(oid=SUBJECT_KEY_IDENTIFIER,
                     derive=lambda context: der.octet_string(context.public_key_bits_sha1))
