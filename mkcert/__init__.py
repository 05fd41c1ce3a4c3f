"""courier-mkcert: the Courier mail server's certificate scripts, made safe.

The package reads Courier's ``.cnf`` files (OpenSSL ``req`` configs or GnuTLS
``certtool`` templates), builds a self-signed key and certificate with
cryptography and publishes the PEM without ever exposing a half-written or
world-readable private key.  Nothing here imports a crypto library at import
time: ``--help`` and the "already exists" path must stay fast.
"""

__version__ = "0.1.0"
