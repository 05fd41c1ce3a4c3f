"""Property tests of the config parser.

* Any bytes at all: parsing (and reading a request from the result) ends in
  a Config/CertRequest or a ConfigError -- never another exception, never a
  hang.
* Configs generated from the config grammar (quotes, escapes, comments,
  variables, continuations, section spellings) give the same subject as
  ``openssl req`` (OpenSSL is the oracle; its version is in every failure).
"""

import os
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "openssl_corpus"))

import oracle  # noqa: E402

from mkcert.errors import ConfigError  # noqa: E402
from mkcert.readers.openssl.syntax import parse  # noqa: E402
from mkcert.readers.openssl.req import request_from_config  # noqa: E402
from mkcert.readers.openssl.prompt import answers_prompter  # noqa: E402

FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
ORACLE = settings(max_examples=60, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])

# Bytes that mean something to the parser, to make random input interesting.
INTERESTING = [b"[", b"]", b"=", b"#", b"\"", b"'", b"`", b"\\", b"$", b"{", b"}",
               b"(", b")", b":", b"::", b"\n", b"\r\n", b"\0", b" ", b"\t",
               b".include ", b".pragma ", b"dollarid:on", b"abspath:true",
               b"[req]\n", b"prompt=no\n", b"distinguished_name=dn\n", b"[dn]\n",
               b"CN=", b"x509_extensions=e\n", b"[e]\n", b"subjectAltName=",
               b"ASN1:SEQUENCE:e", b"DER:", b"$ENV::", b"\xff", b"\xc3\xa9",
               b"a", b"1", b"@e", b"critical,", b"DNS:", b"IP:", b"openssl_conf=e\n",
               b"oid_section=e\n", b"x=1.2.3.4\n", b"y=long, 1.2.9\n"]

chunks = st.one_of(st.sampled_from(INTERESTING), st.binary(max_size=8))
fuzz_bytes = st.lists(chunks, max_size=60).map(b"".join)


def fake_include(path):
    # A file system of one self-including file: loops must be caught.
    return [(path, ".include " + path + "\nCN = included\n")] if path.endswith("loop") else []


@FUZZ
@given(fuzz_bytes)
def test_random_bytes_only_ever_raise_config_error(data):
    text = data.decode("utf-8", "surrogateescape")
    try:
        config = parse(text, "fuzz.cnf", environ={"HOME": "/h"}, read_include=fake_include)
        request_from_config(config, prompter=answers_prompter(["x\n"] * 3))
    except ConfigError as problem:
        assert problem.path  # every error names a file


# Grammar-generated configs ---------------------------------------------------------

PLAIN = st.text(alphabet="abcXYZ019 -_.,;:/=@+<>!%&*?|~^", min_size=1, max_size=6)
QUOTED_BODY = st.text(alphabet="ab #$;,=\\\"'", max_size=6)
VARIABLES = ["$v1", "${v1}", "$(v2)", "$s::v3", "${s::v3}", "$default::v1",
             "$ENV::MKCERT_T"]


@st.composite
def value_tokens(draw):
    kind = draw(st.sampled_from(["plain", "dq", "sq", "bq", "escape", "var"]))
    if kind == "plain":
        return draw(PLAIN)
    if kind == "escape":
        return "\\" + draw(st.sampled_from(list("ntrb\\#\"'$x ")))
    if kind == "var":
        return draw(st.sampled_from(VARIABLES))
    quote = {"dq": '"', "sq": "'", "bq": "`"}[kind]
    body = draw(QUOTED_BODY).replace(quote, "\\" + quote)
    if body.endswith("\\") and not body.endswith("\\\\"):
        body += "x"
    return quote + body + quote


@st.composite
def grammar_configs(draw):
    values = [draw(st.lists(value_tokens(), min_size=1, max_size=5)).__iter__()
              for _ in range(3)]
    section = draw(st.sampled_from(["dn", "d.n", "dn-1"]))
    lines = ["v1 = " + draw(PLAIN), "[ s ]", "v3 = three", "[req]",
             draw(st.sampled_from(["prompt = no", "prompt=no", "  prompt\t=  no  "])),
             "distinguished_name = " + section,
             "v2 = " + draw(PLAIN),
             draw(st.sampled_from(["[{}]", "[ {} ]", "[\t{}  ]"])).format(section)]
    fields = ["CN", "O", "description"]
    for field, tokens in zip(fields, values):
        value = "".join(tokens)
        comment = draw(st.sampled_from(["", " # trailing comment", "#x"]))
        split = draw(st.booleans()) and len(value) > 2
        if split:
            cut = len(value) // 2
            # A continuation must not split an escape or leave a lone backslash.
            if value[:cut].endswith("\\"):
                cut -= 1
            value = value[:cut] + "\\\n" + value[cut:]
        lines.append(f"{field} = {value}{comment}")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline


@ORACLE
@given(grammar_configs())
def test_grammar_configs_match_openssl(text):
    case = oracle.Case(text, "grammar.cnf", env={"MKCERT_T": "from env"})
    problems = oracle.compare_request(case)
    assert not problems, f"{oracle.openssl_version()}:\n{text}\n" + "; ".join(problems)


# Line soup: fragments of the syntax thrown together, valid or not ------------------

FRAGMENTS = st.sampled_from([
    "a", "b", "CN", "O", "=", " = ", " ", "\t", '"', "'", "`", "\\", "#", "$", "${", "}",
    "$(", ")", "::", ":", "x", "$a", "$b", "$dn::a", "${dn::b}", ".", ",", ";", "+", "[",
    "]", "[dn]", "[ dn ]", "\\\n", "\r", "\0", "\u00e9", "\\n", "$ENV::T",
    ".pragma dollarid:on", "1", "dn", "@"])
SOUP_LINE = st.lists(FRAGMENTS, max_size=8).map("".join)


@ORACLE
@given(st.lists(SOUP_LINE, max_size=8), st.lists(SOUP_LINE, max_size=4))
def test_line_soup_matches_openssl(before, values):
    """Whatever OpenSSL makes of these lines -- a subject or an error -- so do we."""
    text = ("a = 1\nb = two\n" + "\n".join(before)
            + "\n[req]\nprompt=no\ndistinguished_name=dn\n[dn]\nCN = x\n"
            + "".join(f"O = {value}\n" for value in values))
    problems = oracle.compare_request(oracle.Case(text, "soup.cnf", env={"T": "env"}))
    assert not problems, f"{oracle.openssl_version()}:\n{text!r}\n" + "; ".join(problems)
