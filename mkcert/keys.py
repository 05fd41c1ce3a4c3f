"""Private keys: generate one to the request's spec and write it as PEM."""

import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import MkcertError

# RSA sizes below this are refused by OpenSSL 3 (`req` fails) and by certtool.
MIN_RSA_BITS = 512
MAX_RSA_BITS = 16384


def generate_key(spec):
    """Generate the private key described by a :class:`~mkcert.request.KeySpec`.

    Generation runs in a worker thread while the main thread waits: OpenSSL
    releases the GIL while it searches for primes, so the main thread stays
    free to run our signal handlers at once (a SIGTERM during a 4096-bit key
    must not wait for the primes).
    """
    if spec.algorithm != "rsa":
        raise MkcertError(f"unsupported key algorithm {spec.algorithm!r}")
    if not MIN_RSA_BITS <= spec.bits <= MAX_RSA_BITS:
        raise MkcertError(
            f"RSA key size {spec.bits} is out of range "
            f"({MIN_RSA_BITS} to {MAX_RSA_BITS} bits)")
    result = {}

    def work():
        try:
            result["key"] = rsa.generate_private_key(65537, spec.bits)
        except BaseException as exc:  # handed to the main thread below
            result["error"] = exc

    worker = threading.Thread(target=work, name="keygen", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    if "error" in result:
        raise MkcertError(f"key generation failed: {result['error']}")
    return result["key"]


def private_key_pem(key, spec):
    """The unencrypted key as `openssl req -nodes` or certtool writes it."""
    fmt = (serialization.PrivateFormat.TraditionalOpenSSL
           if spec.pem_format == "pkcs1" else serialization.PrivateFormat.PKCS8)
    return key.private_bytes(serialization.Encoding.PEM, fmt,
                             serialization.NoEncryption())
