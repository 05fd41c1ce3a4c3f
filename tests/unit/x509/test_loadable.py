"""The proof asked of a per-domain file before it is published (mkcert.x509.loadable)."""

import pki
from mkcert.x509.loadable import pem_load_error


def test_a_good_pair_loads():
    authority = pki.Pki(leaf_kind="rsa")
    data = pki.key_pem(authority.leaf_key) + pki.cert_pem(authority.leaf)
    assert pem_load_error(data) is None
    assert pem_load_error(pki.cert_pem(authority.leaf), pki.key_pem(authority.leaf_key)) is None


def test_what_a_server_could_not_load_is_named():
    authority = pki.Pki(leaf_kind="rsa")
    other = pki.Pki(leaf_kind="rsa", slot=1)
    assert pem_load_error(b"garbage") == "no certificate in it"
    assert pem_load_error(pki.cert_pem(authority.leaf)) == "no private key in it"
    mismatched = pki.key_pem(other.leaf_key) + pki.cert_pem(authority.leaf)
    assert pem_load_error(mismatched) == "the private key does not match the certificate"
    broken = (pki.key_pem(authority.leaf_key) + b"-----BEGIN CERTIFICATE-----\nAAAA\n"
              b"-----END CERTIFICATE-----\n")
    assert pem_load_error(broken).startswith("certificate 1 cannot be parsed")
