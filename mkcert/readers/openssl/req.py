"""The ``openssl req`` reader: an OpenSSL config in, a CertRequest out.

The request must describe the certificate that
``openssl req -new -x509 -nodes -config FILE`` (OpenSSL 3.0) would make, so
every setting of the ``[ req ]`` section is read the way ``req`` reads it:
which values are looked up where, which are checked, which string type each
name attribute gets, and which configs are refused.  Settings that only
matter for a certificate *request* or an encrypted key (``encrypt_key``,
``default_keyfile``, ``attributes``, ``req_extensions``, ...) are accepted
and, as with ``-x509 -nodes``, have no effect on the certificate beyond the
checks OpenSSL makes on them.
"""

from __future__ import annotations

from collections.abc import Callable

from mkcert.asn1 import oids as objects
from mkcert.readers.openssl.dn_strings import (DEFAULT_STRING_MASK, add_attribute,
                                               checked_attribute, field_type, leading_number,
                                               parse_string_mask)
from mkcert.errors import shorten
from mkcert.readers.openssl.syntax import Config
from mkcert.request import MAX_RSA_BITS, MIN_RSA_BITS, CertRequest, Extension, KeySpec

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from mkcert.readers.key_type import KeyType

__all__ = ["request_from_config", "REQ_SECTION", "DEFAULT_BITS", "DIGEST_ALIASES", "MODULES"]

REQ_SECTION = "req"
DEFAULT_BITS = 2048

# Digest names `req` accepts for default_md (case does not matter), by the
# name mkcert.x509.certificate uses.
DIGEST_ALIASES = {
    "sha1": ("sha1", "sha-1", "ssl3-sha1"),
    "md5": ("md5", "ssl3-md5"),
    "sha224": ("sha224", "sha-224", "sha2-224"),
    "sha256": ("sha256", "sha-256", "sha2-256"),
    "sha384": ("sha384", "sha-384", "sha2-384"),
    "sha512": ("sha512", "sha-512", "sha2-512"),
    "sha512-224": ("sha512-224", "sha2-512/224", "sha-512/224"),
    "sha512-256": ("sha512-256", "sha2-512/256", "sha-512/256"),
    "sha3-224": ("sha3-224",),
    "sha3-256": ("sha3-256",),
    "sha3-384": ("sha3-384",),
    "sha3-512": ("sha3-512",),
}
_DIGESTS = {alias: name for name, aliases in DIGEST_ALIASES.items() for alias in aliases}
# Digests OpenSSL signs with but the certificate builder cannot.
_UNSUPPORTED_DIGESTS = ("ripemd160", "rmd160", "ripemd", "ripemd-160")
# Digests OpenSSL 3.0 refuses to sign with ECDSA (no signature OID).
_NOT_WITH_ECDSA = ("md5", "sha512-224", "sha512-256")


def request_from_config(config: Config, prompter: Callable[[str], str | None] | None = None,
                        days: int = 365,
                        x509ext: Callable[..., tuple[Extension, ...]] | None = None,
                        key_type: "KeyType | None" = None) -> CertRequest:
    """The CertRequest that ``openssl req -new -x509 -nodes`` makes of ``config``.

    ``config`` is a parsed :class:`mkcert.readers.openssl.syntax.Config`.  ``prompter``
    answers the questions of a ``prompt = yes`` config (see
    :mod:`mkcert.readers.openssl.prompt`); without one such a config is refused, so that
    reading stays free of I/O.  ``x509ext`` replaces the extension reader
    (:func:`mkcert.readers.openssl.extensions.section.extensions_from_config`), for tests.
    ``key_type`` (a :class:`mkcert.readers.key_type.KeyType`, None for RSA as
    the config says) is `-newkey`: an EC or Ed25519 key instead, or an RSA
    size other than ``default_bits``.
    """
    reader = _RequestReader(config, prompter, key_type)
    return reader.read(days, x509ext)


class _RequestReader:
    def __init__(self, config, prompter, key_type=None):
        self.config = config
        self.prompter = prompter
        self.key_type = key_type
        self.oids = {}

    def get(self, name):
        return self.config.get(REQ_SECTION, name)

    def error(self, message, name=None):
        return self.config.error(message, REQ_SECTION, name)

    def read(self, days, x509ext):
        if x509ext is None:
            from mkcert.readers.openssl.extensions.section import extensions_from_config as x509ext
        self.oids = self.read_oid_section()
        key = self.key_spec()
        digest = self.digest(key.algorithm)
        mask = self.string_mask()
        # `utf8 = yes` is not looked at: values are always read as UTF-8,
        # which is what OpenSSL does with it (without it OpenSSL would take
        # each byte of "é" as a character of its own, which no admin means).
        self.check_request_extensions(x509ext, mask)
        subject = self.subject(mask)
        extensions = x509ext(self.config, self.get("x509_extensions"), oids=self.oids,
                             string_mask=mask, subject=subject)
        return CertRequest(
            subject=subject,
            key=key,
            digest=digest,
            days=days,
            extensions=extensions,
            flavour="openssl",
            rand_file=self.get("RANDFILE"),
            warnings=tuple(self.config.warnings),
            origins=self.origins(key),
        )

    # [ req ] settings ---------------------------------------------------

    def read_oid_section(self):
        """Names the config defines for OIDs, in the order OpenSSL defines them.

        First the modules of ``openssl_conf`` (its ``oid_section`` module
        takes ``name = 1.2.3`` and ``name = long name, 1.2.3``), then req's own
        ``oid_section`` in the default section (``name = 1.2.3`` only).
        """
        defined = {}
        self.load_modules(defined)
        section_name = self.config.get(None, "oid_section")
        if section_name is None:
            return defined
        entries = self.config.section(section_name)
        if entries is None:
            raise self.config.error(
                f"oid_section names the section [ {shorten(section_name)} ],"
                " which the file does not have", "default", "oid_section")
        for entry in entries:
            _define_object(self.config, defined, entry, entry[0], entry[0], entry[1])
        return defined

    def load_modules(self, defined):
        """``openssl_conf``: the library modules OpenSSL configures from this file.

        Only ``oid_section`` changes the certificate; the other modules
        OpenSSL 3.0 knows (providers, algorithms, engines, ...) are accepted
        without effect, and any other name fails as it fails in OpenSSL.
        """
        section_name = self.config.get(None, "openssl_conf")
        if section_name is None:
            return
        entries = self.config.section(section_name)
        if entries is None:
            raise self.config.error(
                f"openssl_conf names the section [ {shorten(section_name)} ], which the file"
                " does not have", "default", "openssl_conf")
        for entry in entries:
            module = _find_module(entry[0])
            if module is None:
                raise self.config.error(
                    f"{shorten(entry[0])} is not an OpenSSL configuration module (OpenSSL 3.0"
                    " has " + ", ".join(MODULES) + ")", entry=entry)
            if module == "stbl_section":
                raise self.config.error(
                    "the stbl_section module (string table limits) is not supported",
                    entry=entry)
            if module == "oid_section":
                self.define_module_objects(entry, defined)
            else:
                self.config.warnings.append(
                    f"{entry.path}:{entry[2]}: the OpenSSL module {shorten(entry[0])} has no"
                    " effect on the certificate and is ignored")

    def define_module_objects(self, module_entry, defined):
        entries = self.config.section(module_entry[1])
        if entries is None:
            raise self.config.error(
                f"{shorten(module_entry[0])} names the section"
                f" [ {shorten(module_entry[1])} ], which the file does not have",
                entry=module_entry)
        for entry in entries:
            name, value, _ = entry
            long_name, dotted = name, value
            comma = value.rfind(",")
            if comma > 0:
                long_name = value[:comma].strip(" \t\n\v\f\r")
                dotted = value[comma + 1:].lstrip(" \t\n\v\f\r")
            elif comma == 0:
                dotted = value[1:]
            _define_object(self.config, defined, entry, name, long_name, dotted)

    def key_spec(self):
        """The key `req -newkey` makes: the key type's, else RSA of ``default_bits``."""
        key_type = self.key_type
        if key_type is None or (key_type.algorithm == "rsa" and key_type.bits is None):
            return KeySpec(algorithm="rsa", bits=self.key_bits(), pem_format="pkcs8")
        if key_type.algorithm == "rsa":
            return KeySpec(algorithm="rsa", bits=key_type.bits, pem_format="pkcs8")
        # OpenSSL writes every key of `req -nodes` as PKCS#8 (BEGIN PRIVATE KEY).
        return KeySpec(algorithm=key_type.algorithm, bits=None, curve=key_type.curve,
                       pem_format="pkcs8")

    def origins(self, key):
        """Where the digest and the RSA size were chosen, for the warnings about weak ones."""
        found = []
        bits_from_config = key.algorithm == "rsa" and (self.key_type is None
                                                       or self.key_type.bits is None)
        for field, name, counts in (("digest", "default_md", key.algorithm != "ed25519"),
                                    ("bits", "default_bits", bits_from_config)):
            entry = self.config.entry(REQ_SECTION, name) if counts else None
            if entry is not None:
                found.append((field, f"{entry.path}:{entry[2]}: {name} = {shorten(entry[1])}"))
        return tuple(found)

    def key_bits(self):
        text = self.get("default_bits")
        if text is None:
            return DEFAULT_BITS
        bits = leading_number(text)
        if bits is None:
            return DEFAULT_BITS  # OpenSSL treats an overflow as "not set"
        if bits < MIN_RSA_BITS:
            raise self.error(f"default_bits = {shorten(text)}: an RSA key of {bits} bits is"
                             f" too weak to make (at least {MIN_RSA_BITS})", "default_bits")
        if bits > MAX_RSA_BITS:
            raise self.error(f"default_bits = {shorten(text)}: keys above {MAX_RSA_BITS} bits"
                             " are not supported (OpenSSL would spend hours or days on one)",
                             "default_bits")
        return bits

    def digest(self, algorithm="rsa"):
        text = self.get("default_md")
        if text is None:
            return "sha256"
        name = _DIGESTS.get(text.lower())
        if algorithm == "ec" and name in _NOT_WITH_ECDSA:
            raise self.error(f"default_md = {shorten(text)} cannot sign with an EC key "
                             f"(OpenSSL refuses it too); use sha256", "default_md")
        if name is None:
            if text.lower() in _UNSUPPORTED_DIGESTS:
                raise self.error(f"default_md = {shorten(text)}: this digest is not supported"
                                 " here; use sha256", "default_md")
            raise self.error(f"default_md = {shorten(text)} is not a message digest OpenSSL"
                             " knows (use e.g. sha256)", "default_md")
        return name

    def string_mask(self):
        text = self.get("string_mask")
        if text is None:
            return DEFAULT_STRING_MASK
        mask = parse_string_mask(text)
        if mask is None:
            raise self.error(f"string_mask = {shorten(text)} is not valid: use utf8only,"
                             " pkix, nombstr, default or MASK:<number>", "string_mask")
        return mask

    def check_request_extensions(self, x509ext, mask):
        # `req` checks this section even when it makes a certificate.
        section = self.get("req_extensions")
        if section is not None:
            x509ext(self.config, section, oids=self.oids, for_request=True,
                    string_mask=mask)

    # The subject ----------------------------------------------------------

    def subject(self, mask):
        section_name = self.get("distinguished_name")
        dn_entries = []
        if section_name is not None:
            dn_entries = self.config.section(section_name)
            if dn_entries is None:
                raise self.error(f"distinguished_name = {shorten(section_name)}, but the"
                                 f" file has no [ {shorten(section_name)} ] section",
                                 "distinguished_name")
        attributes_name = self.get("attributes")
        if attributes_name is not None and self.config.section(attributes_name) is None:
            raise self.error(f"attributes = {shorten(attributes_name)}, but the file"
                             f" has no [ {shorten(attributes_name)} ] section", "attributes")
        if self.get("prompt") == "no":
            rdns = self.subject_from_values(dn_entries, mask)
        else:
            from mkcert.readers.openssl.prompt import subject_from_answers
            rdns = subject_from_answers(self.config, section_name, dn_entries, mask,
                                        self.prompter, self.oids, REQ_SECTION)
        if not rdns:
            if not dn_entries:
                reason = (f"[ {shorten(section_name)} ] has no fields" if section_name
                          else "no distinguished_name section is set")
            else:
                reason = "every field was left out"
            raise self.error("the distinguished name is empty: " + reason,
                             "distinguished_name" if section_name else None)
        return rdns

    def subject_from_values(self, entries, mask):
        rdns = []
        for entry in entries:
            type_name, joins_previous = field_type(entry[0])
            oid = self.resolve(type_name)
            if oid is None:
                raise self.config.error(
                    f"{shorten(entry[0])}: '{shorten(type_name)}' is not a distinguished"
                    " name field OpenSSL knows (use e.g. CN, O, OU, C, emailAddress or a"
                    " numeric OID)", entry=entry)
            attribute = checked_attribute(self.config, entry, oid, entry[1], mask)
            add_attribute(rdns, attribute, joins_previous)
        return tuple(tuple(rdn) for rdn in rdns)

    def resolve(self, name):
        return self.oids.get(name) or objects.resolve(name)


# The configuration modules OpenSSL 3.0 has built in, in its search order.
MODULES = ("oid_section", "stbl_section", "engines", "alg_section", "ssl_conf",
           "providers", "random")


def _find_module(name):
    """OpenSSL's module lookup: the name up to its last '.' as a prefix of a module."""
    dot = name.rfind(".")
    prefix = name[:dot] if dot >= 0 else name
    return next((module for module in MODULES if module.startswith(prefix)), None)


def _define_object(config, defined, entry, short, long_name, dotted):
    """OBJ_create: a new object, refused if its names or OID exist already."""
    oid = objects.parse_oid(dotted)
    problem = None
    if oid is None:
        problem = "the value must be a numeric OID such as 1.3.6.1.4.1.99999.1"
    elif not long_name:
        problem = "the long name is empty"
    elif any(objects.resolve(n) is not None or n in defined for n in {short, long_name}):
        problem = (f"OpenSSL already has an object called '{shorten(short)}'"
                   f" or '{shorten(long_name)}'")
    elif objects.short_name(oid) is not None or oid in defined.values():
        problem = f"OpenSSL already has an object with the OID {oid}"
    if problem:
        raise config.error(f"cannot define the object {shorten(entry[0])} ="
                           f" {shorten(entry[1])}: {problem}", entry=entry)
    defined[short] = oid
    defined[long_name] = oid
