"""The object identifiers the code names, checked against ``openssl`` itself.

Each constant of :mod:`mkcert.asn1.oids` is asked of ``openssl asn1parse``,
which prints the object's OpenSSL name: the name the constant stands for,
written here from the RFCs' and OpenSSL's vocabulary.  The bundled table of
OpenSSL's objects is checked the same way, a sample at a time.
"""

import pytest

from conftest import openssl
from mkcert.asn1 import oids

# constant -> the name ``openssl asn1parse`` prints for it (short or long).
EXPECTED = {
    "COMMON_NAME": "commonName",
    "COUNTRY_NAME": "countryName",
    "EMAIL_ADDRESS": "emailAddress",
    "LOCALITY_NAME": "localityName",
    "STATE_OR_PROVINCE_NAME": "stateOrProvinceName",
    "ORGANIZATION_NAME": "organizationName",
    "ORGANIZATIONAL_UNIT_NAME": "organizationalUnitName",
    "USER_ID": "userId",
    "DOMAIN_COMPONENT": "domainComponent",
    "JURISDICTION_COUNTRY_NAME": "jurisdictionCountryName",
    "SUBJECT_KEY_IDENTIFIER": "X509v3 Subject Key Identifier",
    "KEY_USAGE": "X509v3 Key Usage",
    "SUBJECT_ALT_NAME": "X509v3 Subject Alternative Name",
    "ISSUER_ALT_NAME": "X509v3 Issuer Alternative Name",
    "BASIC_CONSTRAINTS": "X509v3 Basic Constraints",
    "ISSUING_DISTRIBUTION_POINT": "X509v3 Issuing Distribution Point",
    "NAME_CONSTRAINTS": "X509v3 Name Constraints",
    "CRL_DISTRIBUTION_POINTS": "X509v3 CRL Distribution Points",
    "CERTIFICATE_POLICIES": "X509v3 Certificate Policies",
    "POLICY_MAPPINGS": "X509v3 Policy Mappings",
    "AUTHORITY_KEY_IDENTIFIER": "X509v3 Authority Key Identifier",
    "POLICY_CONSTRAINTS": "X509v3 Policy Constraints",
    "EXTENDED_KEY_USAGE": "X509v3 Extended Key Usage",
    "FRESHEST_CRL": "X509v3 Freshest CRL",
    "INHIBIT_ANY_POLICY": "X509v3 Inhibit Any Policy",
    "AUTHORITY_INFO_ACCESS": "Authority Information Access",
    "SUBJECT_INFO_ACCESS": "Subject Information Access",
    "TLS_FEATURE": "TLS Feature",
    "NS_CERT_TYPE": "Netscape Cert Type",
    "OCSP_NO_CHECK": "OCSP No Check",
    "CT_PRECERT_POISON": "CT Precertificate Poison",
    "SUBJECT_SIGN_TOOL": "Signing Tool of Subject",
    "ISSUER_SIGN_TOOL": "Signing Tool of Issuer",
    "NS_BASE_URL": "Netscape Base Url",
    "NS_REVOCATION_URL": "Netscape Revocation Url",
    "NS_CA_REVOCATION_URL": "Netscape CA Revocation Url",
    "NS_RENEWAL_URL": "Netscape Renewal Url",
    "NS_CA_POLICY_URL": "Netscape CA Policy Url",
    "NS_SSL_SERVER_NAME": "Netscape SSL Server Name",
    "NS_COMMENT": "Netscape Comment",
    "SERVER_AUTH": "TLS Web Server Authentication",
    "CLIENT_AUTH": "TLS Web Client Authentication",
    "CODE_SIGNING": "Code Signing",
    "EMAIL_PROTECTION": "E-mail Protection",
    "IPSEC_IKE": "ipsec Internet Key Exchange",
    "TIME_STAMPING": "Time Stamping",
    "OCSP_SIGNING": "OCSP Signing",
    "CPS_QUALIFIER": "Policy Qualifier CPS",
    "USER_NOTICE_QUALIFIER": "Policy Qualifier User Notice",
    "OCSP": "OCSP",
    "CA_ISSUERS": "CA Issuers",
    "XMPP_ADDR": "XmppAddr",
    "RSA_ENCRYPTION": "rsaEncryption",
    "RSASSA_PSS": "rsassaPss",
    "MD5_WITH_RSA": "md5WithRSAEncryption",
    "SHA1_WITH_RSA": "sha1WithRSAEncryption",
    "SHA224_WITH_RSA": "sha224WithRSAEncryption",
    "SHA256_WITH_RSA": "sha256WithRSAEncryption",
    "SHA384_WITH_RSA": "sha384WithRSAEncryption",
    "SHA512_WITH_RSA": "sha512WithRSAEncryption",
    "SHA512_224_WITH_RSA": "sha512-224WithRSAEncryption",
    "SHA512_256_WITH_RSA": "sha512-256WithRSAEncryption",
    "SHA3_224_WITH_RSA": "RSA-SHA3-224",
    "SHA3_256_WITH_RSA": "RSA-SHA3-256",
    "SHA3_384_WITH_RSA": "RSA-SHA3-384",
    "SHA3_512_WITH_RSA": "RSA-SHA3-512",
    "ECDSA_WITH_SHA1": "ecdsa-with-SHA1",
    "ECDSA_WITH_SHA224": "ecdsa-with-SHA224",
    "ECDSA_WITH_SHA256": "ecdsa-with-SHA256",
    "ECDSA_WITH_SHA384": "ecdsa-with-SHA384",
    "ECDSA_WITH_SHA512": "ecdsa-with-SHA512",
    "ECDSA_WITH_SHA3_224": "ecdsa_with_SHA3-224",
    "ECDSA_WITH_SHA3_256": "ecdsa_with_SHA3-256",
    "ECDSA_WITH_SHA3_384": "ecdsa_with_SHA3-384",
    "ECDSA_WITH_SHA3_512": "ecdsa_with_SHA3-512",
    "EC_PUBLIC_KEY": "id-ecPublicKey",
    "PRIME256V1": "prime256v1",
    "SECP384R1": "secp384r1",
    "SECP521R1": "secp521r1",
    "ED25519": "ED25519",
    "ED448": "ED448",
    "SHA1": "sha1",
    "SHA224": "sha224",
    "SHA256": "sha256",
    "SHA384": "sha384",
    "SHA512": "sha512",
    # OpenSSL has no name for the PKINIT otherName type (RFC 4556): it
    # prints the number.
    "KRB5_PRINCIPAL": "1.3.6.1.5.2.2",
}


def constants():
    return {name: value for name, value in vars(oids).items()
            if name.isupper() and not name.startswith("_")}


def openssl_names(dotted_oids, tmp_path):
    """The name ``openssl asn1parse`` prints for each dotted OID, in order."""
    config = tmp_path / "oids.cnf"
    lines = ["asn1 = SEQUENCE:list", "[list]"]
    lines += [f"o{index} = OID:{dotted}" for index, dotted in enumerate(dotted_oids)]
    config.write_text("\n".join(lines) + "\n")
    result = openssl("asn1parse", "-genconf", config)
    return [line.rsplit(":", 1)[1] for line in result.stdout.splitlines() if "OBJECT" in line]


def test_every_constant_is_listed_here():
    assert sorted(constants()) == sorted(EXPECTED)


def test_constants_are_the_objects_their_names_say(tmp_path):
    names = list(EXPECTED)
    printed = openssl_names([constants()[name] for name in names], tmp_path)
    assert dict(zip(names, printed)) == EXPECTED


def test_the_table_gives_openssl_names(tmp_path):
    """The bundled table agrees with the openssl binary for the constants it knows."""
    known = {name: value for name, value in constants().items() if oids.long_name(value)}
    printed = openssl_names(list(known.values()), tmp_path)
    assert printed == [oids.long_name(value) for value in known.values()]


@pytest.mark.parametrize("name", ["subjectAltName", "SAN-not-a-name"])
def test_resolve_reads_names_and_numbers(name):
    assert oids.resolve(name) == (oids.SUBJECT_ALT_NAME if name == "subjectAltName" else None)
    assert oids.resolve(oids.SUBJECT_ALT_NAME) == oids.SUBJECT_ALT_NAME
