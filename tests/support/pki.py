"""A throw-away certificate authority for the tests: root, intermediate, leaf.

Built with cryptography's X.509 builder (independent of the code under
test, which lays out its own DER), laid out on disk the way certbot does:
``live/NAME/{privkey,cert,chain,fullchain}.pem`` are symlinks into
``archive/NAME/``.  Keys are made once per process and reused, because RSA
generation is the slow part and nothing here depends on a key being fresh.
"""

import datetime
import functools
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


@functools.lru_cache(maxsize=None)
def key(kind="ec", slot=0):
    """A private key of ``kind`` (rsa, rsa1024, ec, ec384, ed25519); ``slot`` tells keys apart."""
    del slot  # only part of the cache key
    if kind == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(65537, 1024)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mkcert tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _digest(signing_key):
    return None if isinstance(signing_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def certificate(subject_key, common_name, issuer=None, issuer_key=None, ca=False,
                not_before=None, not_after=None, dns_names=None):
    """A certificate for ``subject_key``; self-signed unless ``issuer`` (a certificate) is given."""
    subject = name(common_name)
    issuer_name = subject if issuer is None else issuer.subject
    signing_key = subject_key if issuer is None else issuer_key
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_name)
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY)
               .not_valid_after(not_after or NOW + 90 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        names = dns_names if dns_names is not None else [common_name]
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, _digest(signing_key))


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(private_key, form="pkcs8", password=None):
    """The key as PEM: ``pkcs8`` (PRIVATE KEY) or ``traditional`` (RSA/EC PRIVATE KEY)."""
    fmt = (serialization.PrivateFormat.PKCS8 if form == "pkcs8"
           else serialization.PrivateFormat.TraditionalOpenSSL)
    encryption = (serialization.NoEncryption() if password is None
                  else serialization.BestAvailableEncryption(password))
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, encryption)


class Pki:
    """Root -> intermediate -> leaf for ``domain``, each part replaceable for bad cases."""

    def __init__(self, domain="mail.example.test", leaf_kind="ec", slot=0, **leaf_options):
        self.domain = domain
        self.root_key = key("ec", slot=100 + slot)
        self.root = certificate(self.root_key, "mkcert test root", ca=True,
                                not_after=NOW + 3650 * DAY)
        self.intermediate_key = key("ec", slot=200 + slot)
        self.intermediate = certificate(self.intermediate_key, "mkcert test intermediate",
                                        issuer=self.root, issuer_key=self.root_key, ca=True,
                                        not_after=NOW + 1000 * DAY)
        self.leaf_key = key(leaf_kind, slot=slot)
        self.leaf = certificate(self.leaf_key, domain, issuer=self.intermediate,
                                issuer_key=self.intermediate_key, **leaf_options)

    @property
    def chain(self):
        """What certbot's chain.pem holds: the intermediate."""
        return [self.intermediate]

    def write_certbot_lineage(self, directory, lineage=None, version=1, key_form="pkcs8",
                              key_mode=0o600):
        """certbot's layout under ``directory``; returns the ``live/LINEAGE`` path."""
        lineage = lineage or self.domain
        archive = os.path.join(directory, "archive", lineage)
        live = os.path.join(directory, "live", lineage)
        os.makedirs(archive, mode=0o700, exist_ok=True)
        os.makedirs(live, mode=0o755, exist_ok=True)
        files = {
            "privkey": key_pem(self.leaf_key, key_form),
            "cert": cert_pem(self.leaf),
            "chain": b"".join(cert_pem(c) for c in self.chain),
            "fullchain": b"".join(cert_pem(c) for c in [self.leaf] + self.chain),
        }
        for stem, data in files.items():
            target = os.path.join(archive, f"{stem}{version}.pem")
            with open(target, "wb") as handle:
                handle.write(data)
            os.chmod(target, key_mode if stem == "privkey" else 0o644)
            link = os.path.join(live, f"{stem}.pem")
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.relpath(target, live), link)
        return live
