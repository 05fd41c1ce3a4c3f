"""Property test: generated distinguished names agree with ``openssl req``.

Field names (short, long, numeric, with ``N.`` labels and ``+``), values
with any Unicode, and every string_mask: the subject DER and the printed
``subject=`` line must equal OpenSSL's, and what OpenSSL refuses must raise
ConfigError (see tests/openssl_corpus/oracle.py).
"""

import os
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "openssl_corpus"))

import oracle  # noqa: E402

FIELDS = ["C", "ST", "L", "O", "OU", "CN", "emailAddress", "DC", "UID", "title",
          "serialNumber", "description", "GN", "SN", "commonName", "organizationName",
          "2.5.4.3", "1.3.6.1.4.1.99999.7", "dnQualifier", "name", "street",
          "jurisdictionC", "unstructuredName", "postalCode"]
MASKS = ["utf8only", "pkix", "nombstr", "default", "MASK:0x2002", "MASK:0x800",
         "MASK:0x4"]
# Values are any Unicode (no NUL, CR or LF, which a config line cannot
# hold inside quotes), written quoted so '#', '$' and quotes are literal,
# sometimes with an unquoted escape such as \t after them.
VALUE_BODY = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                            blacklist_characters="\0\n\r"),
                     min_size=0, max_size=12)


def quoted(body):
    return '"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"'


VALUE_TEXT = st.tuples(VALUE_BODY, st.sampled_from(["", "\\t", "\\n", "\\b", "x"])).map(
    lambda parts: quoted(parts[0]) + parts[1])


@st.composite
def distinguished_names(draw):
    lines = []
    for index in range(draw(st.integers(1, 5))):
        field = draw(st.sampled_from(FIELDS))
        if field[0].isdigit() or draw(st.booleans()):
            field = f"{index}." + field  # a label, needed for a numeric OID
        if index and draw(st.integers(0, 4)) == 0:
            field = field.replace(".", ".+", 1) if "." in field else "+" + field
        lines.append(f"{field} = {draw(VALUE_TEXT)}")
    mask = draw(st.sampled_from(MASKS))
    return ("[req]\nprompt = no\nstring_mask = " + mask
            + "\ndistinguished_name = dn\n[dn]\n" + "\n".join(lines) + "\n")


@settings(max_examples=int(os.environ.get("MKCERT_EXAMPLES", 80)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(distinguished_names())
def test_generated_names_match_openssl(text):
    problems = oracle.compare_request(oracle.Case(text, "dn.cnf"))
    assert not problems, f"{oracle.openssl_version()}:\n{text}\n" + "; ".join(problems)
