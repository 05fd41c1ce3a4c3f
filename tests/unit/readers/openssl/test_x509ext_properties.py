"""Property test: generated extension sections agree with ``openssl req -x509``.

Sections are drawn from the x509v3_config grammar -- subjectAltName with
random (also malformed) IP addresses, key usages, constraints, key
identifiers, ``critical,`` and ``ASN1:`` values with modifiers -- and each
must give OpenSSL's extension DER, or be refused when OpenSSL refuses it.
"""

import os
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "openssl_corpus"))

import oracle  # noqa: E402

HEX = "0123456789abcdefABCDEF"
ipv4_part = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["+1", "007", " 9", "-1"]))
ipv4 = st.lists(ipv4_part, min_size=3, max_size=5).map(".".join)
ipv6_group = st.text(alphabet=HEX, min_size=0, max_size=5)
ipv6 = st.one_of(
    st.lists(ipv6_group, min_size=2, max_size=9).map(":".join),
    st.tuples(st.lists(ipv6_group, max_size=3).map(":".join), ipv4).map(lambda t: t[0] + ":" + t[1]))
dns = st.text(alphabet="abcxyz0-.*", min_size=1, max_size=12)
san_item = st.one_of(
    dns.map(lambda d: "DNS:" + d), ipv4.map(lambda a: "IP:" + a), ipv6.map(lambda a: "IP:" + a),
    st.sampled_from(["email:copy", "email:a@b.example", "URI:http://x/", "RID:1.2.3",
                     "RID:serverAuth", "DNS.1:x", "dirName:dir", "otherName:1.2.3;UTF8:x",
                     "otherName:1.2.3;INT:5", "HOST:x"]))
key_usages = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
              "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
              "Digital Signature", "signing"]
asn1_type = st.sampled_from(["INT:7", "INTEGER:-300", "BOOL:TRUE", "BOOLEAN:n", "NULL",
                             "UTF8:hi there", "IA5:a@b", "PRINTABLE:Ab 1", "PRINTABLE:a@b",
                             "OID:1.2.3", "OID:emailProtection", "OCT:xyz",
                             "FORMAT:HEX,OCT:00ff", "FORMAT:BITLIST,BITSTR:0,3,12",
                             "BMP:b", "NUMERIC:12 3", "SEQUENCE:seq", "SET:seq", "ENUM:2"])
asn1_modifier = st.sampled_from(["EXP:0", "EXP:3A", "IMP:1", "IMP:2P", "OCTWRAP", "SEQWRAP",
                                 "SETWRAP", "BITWRAP", "EXPLICIT:40", "IMP:5U"])


def listed(items):
    return st.lists(items, min_size=1, max_size=4).map(", ".join)


critical = st.sampled_from(["", "critical,", "critical, "])
extension_lines = st.one_of(
    st.tuples(critical, listed(san_item)).map(lambda t: f"subjectAltName = {t[0]}{t[1]}"),
    st.tuples(critical, listed(st.sampled_from(key_usages))).map(
        lambda t: f"keyUsage = {t[0]}{t[1]}"),
    st.tuples(critical, st.sampled_from(["CA:true", "CA:false", "CA:TRUE,pathlen:3",
                                          "pathlen:1", "CA:yes, pathlen:-1", "CA:x"])).map(
        lambda t: f"basicConstraints = {t[0]}{t[1]}"),
    listed(st.sampled_from(["serverAuth", "clientAuth", "1.2.3.4", "codeSigning", "OCSPSigning",
                            "msCodeInd", "nope"])).map(lambda v: "extendedKeyUsage = " + v),
    st.sampled_from(["subjectKeyIdentifier = hash", "subjectKeyIdentifier = none",
                     "subjectKeyIdentifier = 0102", "authorityKeyIdentifier = keyid",
                     "authorityKeyIdentifier = keyid:always", "authorityKeyIdentifier = issuer",
                     "authorityKeyIdentifier = keyid,issuer:always",
                     "nsCertType = server", "nsComment = hello", "tlsfeature = status_request"]),
    listed(st.sampled_from(["permitted;DNS:.example", "excluded;IP:10.0.0.0/255.0.0.0",
                            "permitted;IP:10.0.0.1", "permitted;email:x@y",
                            "excluded;IP:::/::", "allowed;DNS:x", "permitted;dirName:dir"])).map(
        lambda v: "nameConstraints = critical," + v),
    listed(st.sampled_from(["URI:http://crl/", "DNS:crl", "crldp", "IP:1.2.3.4"])).map(
        lambda v: "crlDistributionPoints = " + v),
    listed(st.sampled_from(["OCSP;URI:http://o/", "caIssuers;URI:http://c/", "OCSP:URI:x",
                            "1.2.3;DNS:x", "nope;URI:x"])).map(
        lambda v: "authorityInfoAccess = " + v),
    listed(st.sampled_from(["1.2.3", "anyPolicy", "@pol", "ia5org", "x:y"])).map(
        lambda v: "certificatePolicies = " + v),
    st.sampled_from(["policyConstraints = requireExplicitPolicy:1",
                     "policyConstraints = inhibitPolicyMapping:0x0",
                     "inhibitAnyPolicy = 0", "inhibitAnyPolicy = -1",
                     "policyMappings = 1.2.3:1.2.4", "policyMappings = 1.2.3",
                     "issuerAltName = issuer:copy", "issuerAltName = DNS:x, issuer:copy"]),
    st.tuples(critical, st.lists(asn1_modifier, max_size=3).map(",".join), asn1_type).map(
        lambda t: f"1.2.3.4.{len(t[1])} = {t[0]}ASN1:{t[1] + ',' if t[1] else ''}{t[2]}"),
)

BASE = ("[req]\nprompt = no\ndistinguished_name = dn\nx509_extensions = ext\n"
        "[dn]\nCN = mail.example\nemailAddress = pm@mail.example\n"
        "[dir]\nO = Dir\n[seq]\na = INT:1\nb = UTF8:two\n"
        "[crldp]\nfullname = URI:http://x/\nreasons = keyCompromise\n"
        "[pol]\npolicyIdentifier = 1.2.5\nCPS = http://cps/\nuserNotice = @notice\n"
        "[notice]\nexplicitText = UTF8:text\norganization = Org\nnoticeNumbers = 1, 2\n"
        "[ext]\n")


@settings(max_examples=int(os.environ.get("MKCERT_EXAMPLES", 80)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(extension_lines, min_size=1, max_size=4))
def test_generated_extensions_match_openssl(lines):
    text = BASE + "\n".join(lines) + "\n"
    problems = oracle.compare_request(oracle.Case(text, "ext.cnf"))
    assert not problems, f"{oracle.openssl_version()}:\n{text}\n" + "; ".join(problems)
