"""Keys of every type the commands make: RSA, EC (P-256, P-384, P-521) and Ed25519.

RSA keys are :mod:`mkcert.x509.keys`'s (a prime search worth racing); an EC
or Ed25519 key takes well under a millisecond, so it is simply made.  This
module is the one door for callers: it makes a key of any
:class:`~mkcert.request.KeySpec` (or :class:`~mkcert.readers.key_type.KeyType`,
which has the same ``algorithm``, ``bits`` and ``curve``), lays out its PEM
the way the tool being replaced writes it, its SubjectPublicKeyInfo, and
signs with it as OpenSSL and certtool sign.

As in :mod:`mkcert.x509.keys`, the encodings are laid out here from the
key's numbers rather than by cryptography's serialization package, which
costs about 10 ms to import; the curve and Ed25519 modules are imported only
for a key of their type.  tests/unit/x509/test_key_types.py compares every
encoding with cryptography's own.
"""

from __future__ import annotations

from mkcert.asn1 import der, oids
from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from mkcert.readers.key_type import KeyType
    from mkcert.x509.keys import PendingKey

__all__ = ["CURVE_OIDS", "ECDSA_SIGNATURE_OIDS", "RSA_SIGNATURE_OIDS", "algorithm_of", "describe_key",
           "generate_key", "key_spec_of", "key_type_of", "private_key_pem", "public_key_info",
           "sign", "signature_algorithm", "start_key"]

# Signature algorithms for RSA PKCS#1 v1.5, by digest name.
RSA_SIGNATURE_OIDS = {
    "md5": oids.MD5_WITH_RSA,
    "sha1": oids.SHA1_WITH_RSA,
    "sha224": oids.SHA224_WITH_RSA,
    "sha256": oids.SHA256_WITH_RSA,
    "sha384": oids.SHA384_WITH_RSA,
    "sha512": oids.SHA512_WITH_RSA,
    "sha512-224": oids.SHA512_224_WITH_RSA,
    "sha512-256": oids.SHA512_256_WITH_RSA,
    "sha3-224": oids.SHA3_224_WITH_RSA,
    "sha3-256": oids.SHA3_256_WITH_RSA,
    "sha3-384": oids.SHA3_384_WITH_RSA,
    "sha3-512": oids.SHA3_512_WITH_RSA,
}

CURVE_OIDS = {"P-256": oids.PRIME256V1, "P-384": oids.SECP384R1, "P-521": oids.SECP521R1}
_CURVE_CLASSES = {"P-256": "SECP256R1", "P-384": "SECP384R1", "P-521": "SECP521R1"}
_CURVES_BY_NAME = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

# ECDSA signature algorithms by digest (RFC 5758, RFC 8692 for SHA-3); the
# parameters are absent.  OpenSSL 3.0 signs with no other digest (it
# refuses md5 and the truncated SHA-512s with an EC key).
ECDSA_SIGNATURE_OIDS = {
    "sha1": oids.ECDSA_WITH_SHA1,
    "sha224": oids.ECDSA_WITH_SHA224,
    "sha256": oids.ECDSA_WITH_SHA256,
    "sha384": oids.ECDSA_WITH_SHA384,
    "sha512": oids.ECDSA_WITH_SHA512,
    "sha3-224": oids.ECDSA_WITH_SHA3_224,
    "sha3-256": oids.ECDSA_WITH_SHA3_256,
    "sha3-384": oids.ECDSA_WITH_SHA3_384,
    "sha3-512": oids.ECDSA_WITH_SHA3_512,
}


def start_key(spec, racers: int | None = None) -> PendingKey:
    """Start a key of ``spec`` (see :func:`mkcert.x509.keys.start_key`); RSA is raced."""
    if spec.algorithm == "rsa":
        from mkcert.x509 import keys  # (and cryptography's RSA: not for an EC key)

        return keys.start_key(_rsa_spec(spec), racers)
    return _Ready(generate_key(spec))


def generate_key(spec, racers: int | None = None):
    """A new private key of ``spec``: any object with ``algorithm``, ``bits`` and ``curve``
    (a KeySpec, or a KeyType, whose RSA without a size is 2048 bits)."""
    if spec.algorithm == "rsa":
        from mkcert.x509.keys import generate_key as generate_rsa_key

        return generate_rsa_key(_rsa_spec(spec), racers)
    if spec.algorithm == "ec":
        from cryptography.hazmat.primitives.asymmetric import ec

        if spec.curve not in _CURVE_CLASSES:
            raise MkcertError(f"unsupported curve {spec.curve!r}")
        return ec.generate_private_key(getattr(ec, _CURVE_CLASSES[spec.curve])())
    if spec.algorithm == "ed25519":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PrivateKey.generate()
    raise MkcertError(f"unsupported key algorithm {spec.algorithm!r}")


def _rsa_spec(spec):
    """An RSA spec with a size: a KeyType("rsa") without one means 2048 bits."""
    from mkcert.request import MIN_STRONG_RSA_BITS, KeySpec

    return KeySpec("rsa", spec.bits or MIN_STRONG_RSA_BITS)


class _Ready:
    """A key already made: the :class:`mkcert.x509.keys.PendingKey` interface, nothing pending."""

    def __init__(self, key):
        self._key = key

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def result(self):
        return self._key

    def close(self):
        pass


def algorithm_of(key) -> str:
    """"rsa", "ec" or "ed25519" for a private or public key of cryptography."""
    name = type(key).__name__.lstrip("_").lower()
    for algorithm, prefixes in (("rsa", ("rsa",)), ("ec", ("ellipticcurve", "ec")),
                                ("ed25519", ("ed25519",))):
        if name.startswith(prefixes):
            return algorithm
    raise MkcertError(f"unsupported key type {type(key).__name__}")


def _curve_of(key) -> str:
    name = key.curve.name
    if name not in _CURVES_BY_NAME:
        raise MkcertError(f"unsupported curve {name}")
    return _CURVES_BY_NAME[name]


def key_spec_of(key, flavour: str = "openssl"):
    """The :class:`~mkcert.request.KeySpec` of an existing key, written as ``flavour``'s tool writes it."""
    from mkcert.request import KeySpec

    algorithm = algorithm_of(key)
    if algorithm == "rsa":
        return KeySpec("rsa", key.key_size, "pkcs1" if flavour == "gnutls" else "pkcs8")
    if algorithm == "ec":
        return KeySpec("ec", None, "sec1" if flavour == "gnutls" else "pkcs8", _curve_of(key))
    return KeySpec("ed25519", None, "pkcs8")


def key_type_of(key) -> "KeyType":
    """The :class:`~mkcert.readers.key_type.KeyType` of an existing (private or public) key."""
    from mkcert.readers.key_type import KeyType

    algorithm = algorithm_of(key)
    if algorithm == "rsa":
        return KeyType("rsa", bits=key.key_size)
    if algorithm == "ec":
        return KeyType("ec", curve=_curve_of(key))
    return KeyType("ed25519")


def describe_key(key) -> str:
    """``RSA 2048``, ``EC P-256`` or ``Ed25519``: for messages."""
    algorithm = algorithm_of(key)
    if algorithm == "rsa":
        return f"RSA {key.key_size}"
    if algorithm == "ec":
        return f"EC {_curve_of(key)}"
    return "Ed25519"


# --- Encodings -------------------------------------------------------------

def private_key_pem(key, spec) -> bytes:
    """The unencrypted key as `openssl req -nodes` (PKCS#8) or certtool writes it.

    certtool writes RSA as PKCS#1, EC as SEC 1 (RFC 5915: the curve and the
    public key included) and Ed25519 as PKCS#8; OpenSSL writes PKCS#8
    throughout, with an EC key's curve in the AlgorithmIdentifier only.
    """
    algorithm = algorithm_of(key)
    if algorithm == "rsa":
        from mkcert.x509.keys import private_key_pem as rsa_private_key_pem

        return rsa_private_key_pem(key, spec)
    if algorithm == "ec":
        curve = _curve_of(key)
        if spec.pem_format == "sec1":
            return der.pem(_ec_private_key_der(key, curve, with_curve=True), "EC PRIVATE KEY")
        inner = _ec_private_key_der(key, curve, with_curve=False)
        return der.pem(der.sequence(der.integer(0), _ec_algorithm_id(curve),
                                    der.octet_string(inner)), "PRIVATE KEY")
    seed = _ed25519_private_bytes(key)
    return der.pem(der.sequence(der.integer(0), der.sequence(der.oid(oids.ED25519)),
                                der.octet_string(der.octet_string(seed))), "PRIVATE KEY")


def _ec_private_key_der(key, curve, with_curve):
    """ECPrivateKey (RFC 5915): version 1, the scalar, [0] curve, [1] public point."""
    numbers = key.private_numbers()
    size = (key.curve.key_size + 7) // 8
    fields = [der.integer(1), der.octet_string(numbers.private_value.to_bytes(size, "big"))]
    if with_curve:
        fields.append(der.context(0, der.oid(CURVE_OIDS[curve])))
    fields.append(der.context(1, der.bit_string(_ec_point(numbers.public_numbers, size))))
    return der.sequence(*fields)


def _ec_point(public_numbers, size):
    """The uncompressed point (SEC 1, 2.3.3), as OpenSSL writes it."""
    return b"\x04" + public_numbers.x.to_bytes(size, "big") + public_numbers.y.to_bytes(size, "big")


def _ec_algorithm_id(curve):
    return der.sequence(der.oid(oids.EC_PUBLIC_KEY), der.oid(CURVE_OIDS[curve]))


def _ed25519_private_bytes(key):
    try:
        return key.private_bytes_raw()
    except AttributeError:  # cryptography < 40
        from cryptography.hazmat.primitives import serialization

        return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())


def _ed25519_public_bytes(public_key):
    try:
        return public_key.public_bytes_raw()
    except AttributeError:  # cryptography < 40
        from cryptography.hazmat.primitives import serialization

        return public_key.public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)


def public_key_info(public_key) -> bytes:
    """DER SubjectPublicKeyInfo of a public key, as OpenSSL encodes it."""
    algorithm = algorithm_of(public_key)
    if algorithm == "rsa":
        from mkcert.x509.keys import public_key_info as rsa_public_key_info

        return rsa_public_key_info(public_key.public_numbers())
    if algorithm == "ec":
        curve = _curve_of(public_key)
        size = (public_key.curve.key_size + 7) // 8
        point = _ec_point(public_key.public_numbers(), size)
        return der.sequence(_ec_algorithm_id(curve), der.bit_string(point))
    return der.sequence(der.sequence(der.oid(oids.ED25519)),
                        der.bit_string(_ed25519_public_bytes(public_key)))


# --- Signatures --------------------------------------------------------------

def signature_algorithm(key, digest: str) -> bytes:
    """The AlgorithmIdentifier a signature by ``key`` with ``digest`` carries.

    RSA PKCS#1 v1.5 has NULL parameters; ECDSA and Ed25519 none (RFC 5758,
    RFC 8410).  Ed25519 hashes with SHA-512 internally: ``digest`` is not used.
    """
    algorithm = algorithm_of(key)
    if algorithm == "rsa":
        if digest not in RSA_SIGNATURE_OIDS:
            raise MkcertError(f"unsupported signature digest {digest!r}")
        return der.sequence(der.oid(RSA_SIGNATURE_OIDS[digest]), der.null())
    if algorithm == "ec":
        if digest not in ECDSA_SIGNATURE_OIDS:
            raise MkcertError(f"an EC key cannot sign with {digest} (use sha256)")
        return der.sequence(der.oid(ECDSA_SIGNATURE_OIDS[digest]))
    return der.sequence(der.oid(oids.ED25519))


def sign(key, data: bytes, digest: str) -> bytes:
    """The signature of ``data``, as OpenSSL makes it (ECDSA's is DER (r, s))."""
    algorithm = algorithm_of(key)
    if algorithm == "ed25519":
        return key.sign(data)
    from mkcert.x509.digests import hash_algorithm

    if algorithm == "ec":
        from cryptography.hazmat.primitives.asymmetric import ec

        return key.sign(data, ec.ECDSA(hash_algorithm(digest)))
    from cryptography.hazmat.primitives.asymmetric import padding

    return key.sign(data, padding.PKCS1v15(), hash_algorithm(digest))
