"""The neutral certificate request: what to make, whatever file said so.

Both readers (OpenSSL ``req`` configs in :mod:`mkcert.readers.openssl.req`, certtool
templates in :mod:`mkcert.readers.certtool.template`) produce a :class:`CertRequest`; the
builder in :mod:`mkcert.x509.certificate` turns one into a key and a certificate.  The
request holds plain data only, with every value already in the exact form
the certificate needs (DER for extensions, an ASN.1 string tag for each name
attribute), so the builder makes no choices of its own: the readers own the
fidelity to OpenSSL and certtool.
"""

from __future__ import annotations

import datetime

from mkcert.record import REQUIRED, Record  # noqa: F401  (every value type imports them from here too)

# The latest instant X.509 can express (GeneralizedTime, RFC 5280 4.1.2.5).
LATEST = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)

# Universal ASN.1 tags of the string types a distinguished name may use.
UTF8_STRING = 12
PRINTABLE_STRING = 19
T61_STRING = 20
IA5_STRING = 22
UNIVERSAL_STRING = 28
BMP_STRING = 30

class Attribute(Record):
    """One attribute of a distinguished name, e.g. CN=localhost.

    ``oid`` in dotted form ("2.5.4.3"), ``value`` a str, ``tag`` its ASN.1
    string type.
    """

    FIELDS = (("oid", REQUIRED), ("value", REQUIRED), ("tag", UTF8_STRING))
    __slots__ = tuple(name for name, _ in FIELDS)


# A relative distinguished name: usually one attribute, several when a
# config joins them with "+" (a multi-valued RDN).
RDN = tuple[Attribute, ...]


# The RSA sizes any reader may ask for.  OpenSSL and certtool go down to
# 512 bits, but cryptography (since 42) makes no key under 1024, and the
# project behaves alike on every supported stack; above 16384 bits a key
# takes hours.
MIN_RSA_BITS = 1024
MAX_RSA_BITS = 16384


# What --check calls weak, and so what --renew never makes: a signature
# with one of these digests, or an RSA key under this size.  The one home
# of the rule; the readers, --check and --renew all ask it.
WEAK_DIGESTS = ("md5", "sha1")
MIN_STRONG_RSA_BITS = 2048


def weak_digest(digest: str) -> bool:
    """Whether a signature digest is one --check warns about."""
    return digest in WEAK_DIGESTS


def weak_rsa_bits(bits: int | None) -> bool:
    """Whether an RSA key of ``bits`` is one --check warns about."""
    return bits is not None and bits < MIN_STRONG_RSA_BITS


class KeySpec(Record):
    """The key to generate, and how to write it into the PEM.

    ``algorithm``: "rsa", "ec" or "ed25519"; ``bits`` counts for RSA,
    ``curve`` ("P-256", "P-384", "P-521") for EC.  ``pem_format``: "pkcs8"
    is what `openssl req -nodes` writes (BEGIN PRIVATE KEY), and certtool
    for Ed25519; "pkcs1" is what `certtool --generate-privkey` writes for
    RSA (BEGIN RSA PRIVATE KEY), "sec1" what it writes for EC (BEGIN EC
    PRIVATE KEY).
    """

    FIELDS = (("algorithm", "rsa"), ("bits", 2048), ("pem_format", "pkcs8"), ("curve", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class KeyContext(Record):
    """What an extension may depend on that is only known at build time.

    ``public_key_info``: DER SubjectPublicKeyInfo of the new key;
    ``public_key_bits``: the contents of its subjectPublicKey BIT STRING;
    ``subject``: DER of the subject (= issuer: the certificate is
    self-signed); ``serial``: an int.  The two SHA-1 digests are the key
    identifiers the tools compute: ``public_key_bits_sha1`` is RFC 5280's
    method 1 (OpenSSL's ``hash``), ``public_key_info_sha1`` hashes the whole
    SubjectPublicKeyInfo (GnuTLS).  The builder computes them, so a reader
    describes a key identifier without loading a hash library.
    """

    FIELDS = (("public_key_info", REQUIRED), ("public_key_bits", REQUIRED),
              ("subject", REQUIRED), ("serial", REQUIRED),
              ("public_key_bits_sha1", REQUIRED), ("public_key_info_sha1", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


class Extension(Record):
    """An X.509 v3 extension, either fixed DER or derived from the key.

    Exactly one of ``der`` and ``derive`` is set.  ``derive`` receives a
    :class:`KeyContext` and returns the DER of the extension value, or None to
    leave the extension out (as OpenSSL does for ``subjectKeyIdentifier=none``).
    """

    FIELDS = (("oid", REQUIRED), ("critical", False), ("der", None), ("derive", None))
    __slots__ = tuple(name for name, _ in FIELDS)

    def value(self, context):
        return self.der if self.derive is None else self.derive(context)


class CertRequest(Record):
    """Everything needed to make one self-signed certificate."""

    FIELDS = (
        ("subject", REQUIRED),  # a tuple of RDNs
        ("key", KeySpec()),
        ("digest", "sha256"),  # a hashlib-style name: sha1, sha256, md5, ...
        ("days", 365),
        # Explicit dates (certtool's activation_date / expiration_date, or
        # expiration_days = -1) take precedence over ``days``; aware UTC datetimes.
        ("not_before", None),
        ("not_after", None),
        ("serial", None),  # None: a random positive serial of 159 bits
        ("extensions", ()),  # a tuple of Extension
        # "openssl" or "gnutls": which tool's file this came from.  It decides
        # the upstream extras (DH parameters in an OpenSSL esmtpd.pem).
        ("flavour", "openssl"),
        # OpenSSL's RANDFILE setting, if the config has one (honoured, never fatal).
        ("rand_file", None),
        # Things worth telling the admin that do not stop the run, each already
        # located as "file:line: text" (certtool ignores unknown template keys).
        ("warnings", ()),
        # Where the config chose the digest and the RSA size, for the
        # warnings about weak choices: {"digest"|"bits": "file:line: setting"}
        # as a tuple of pairs (absent when the value is the tool's default).
        ("origins", ()),
    )
    __slots__ = tuple(name for name, _ in FIELDS)

    def origin(self, name):
        """Where the config chose ``name`` ("digest" or "bits"), or None."""
        return dict(self.origins).get(name)

    def validity(self, now=None):
        """(notBefore, notAfter): explicit dates, else now + days.

        Checked before any file exists, so it needs no crypto library.
        """
        now = now or datetime.datetime.now(datetime.timezone.utc)
        not_before = self.not_before or now.replace(microsecond=0)
        if self.not_after is not None:
            return not_before, self.not_after
        if self.days > (LATEST - not_before).days:
            from mkcert.errors import MkcertError

            raise MkcertError(f"a validity of {self.days} days ends after the year 9999")
        return not_before, not_before + datetime.timedelta(days=self.days)
