"""The req reader's interface: what a CertRequest holds and how errors read.

OpenSSL fidelity is checked config by config in test_openssl_corpus.py;
this file pins what other modules rely on (field values, the prompter
contract, error locations) and configs in the shapes Courier installs.
"""

import io

import pytest

from conftest import data_path

from mkcert.readers.openssl.dn_strings import (DEFAULT_STRING_MASK, field_type, leading_number,
                                               parse_string_mask)
from mkcert.errors import ConfigError
from mkcert.readers.openssl.syntax import parse
from mkcert.readers.openssl.prompt import StdioPrompter, answers_prompter, subject_from_answers
from mkcert.readers.openssl.req import request_from_config
from mkcert.request import IA5_STRING, PRINTABLE_STRING, UTF8_STRING

def read(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return parse(handle.read(), path)


@pytest.mark.parametrize("name,digest", [("imapd", "sha1"), ("pop3d", "sha1"),
                                         ("esmtpd", "sha256")])
def test_upstream_configs(name, digest):
    request = request_from_config(read(data_path("openssl", name + ".cnf")))
    assert request.flavour == "openssl"
    assert request.digest == digest
    assert request.key.bits == 4096
    assert request.key.pem_format == "pkcs8"
    assert request.rand_file == f"/etc/courier/{name}.rand"
    assert [rdn[0].oid for rdn in request.subject] == [
        "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.10", "2.5.4.11", "2.5.4.3",
        "1.2.840.113549.1.9.1"]
    assert [rdn[0].tag for rdn in request.subject] == [
        PRINTABLE_STRING] + [UTF8_STRING] * 5 + [IA5_STRING]
    assert [e.oid for e in request.extensions] == ["2.16.840.1.113730.1.1", "2.5.29.14"]
    assert request.extensions[0].der == bytes.fromhex("03020640")
    assert request.extensions[1].derive is not None


def test_howto_config_with_inline_comment():
    request = request_from_config(read(data_path("howto", "pop3d.cnf")))
    assert request.key.bits == 1024
    assert request.digest == "sha256"
    assert request.rand_file == "/usr/lib/courier/pop3d.rand"
    assert request.subject[-1][0].value == "admin@example.net"


def test_days_are_passed_through():
    request = request_from_config(read(data_path("openssl", "imapd.cnf")), days=730)
    assert request.days == 730


def test_errors_name_file_and_line():
    text = "[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = x\nC = USA\n"
    with pytest.raises(ConfigError) as caught:
        request_from_config(parse(text, "/etc/courier/imapd.cnf"))
    assert (caught.value.path, caught.value.line) == ("/etc/courier/imapd.cnf", 6)
    assert "too long" in str(caught.value)


def test_bad_digest_names_its_line():
    text = "[req]\nprompt = no\ndefault_md = sha999\ndistinguished_name = dn\n[dn]\nCN=x\n"
    with pytest.raises(ConfigError) as caught:
        request_from_config(parse(text, "x.cnf"))
    assert caught.value.line == 3
    assert "sha999" in str(caught.value)


def test_extension_error_names_its_line():
    text = ("[req]\nprompt=no\ndistinguished_name=dn\nx509_extensions=e\n[dn]\nCN=x\n"
            "[e]\nbasicConstraints = CA:true\nkeyUsage = flying\n")
    with pytest.raises(ConfigError) as caught:
        request_from_config(parse(text, "x.cnf"))
    assert caught.value.line == 9
    assert "flying" in str(caught.value)


def test_prompt_without_prompter_is_refused_without_io():
    text = "[req]\ndistinguished_name = dn\n[dn]\nCN = Common Name\n"
    with pytest.raises(ConfigError) as caught:
        request_from_config(parse(text, "x.cnf"))
    assert "prompt = no" in str(caught.value)


def test_prompter_sees_openssl_style_questions():
    text = ("[req]\ndistinguished_name = dn\n[dn]\nC = Country Name\nC_default = DE\n"
            "CN = Common Name\n")
    prompter = answers_prompter(["\n", "mail.example.com\n"])
    request = request_from_config(parse(text, "x.cnf"), prompter=prompter)
    assert prompter.asked == ["Country Name [DE]:", "Common Name []:"]
    assert [(rdn[0].oid, rdn[0].value) for rdn in request.subject] == [
        ("2.5.4.6", "DE"), ("2.5.4.3", "mail.example.com")]


def test_prompt_retries_when_too_long():
    text = "[req]\ndistinguished_name = dn\n[dn]\nC = Country\nC_max = 2\n"
    prompter = answers_prompter(["USA\n", "US\n"])
    request = request_from_config(parse(text, "x.cnf"), prompter=prompter)
    assert request.subject[0][0].value == "US"
    assert prompter.asked[1].startswith("String too long")


def test_the_questionnaire_needs_no_request_reader():
    """subject_from_answers takes the config and plain values, not req's reader."""
    text = ("[dn]\nC = Country\nC_default = DE\nmyName = Mine\n"
            "[req]\nprompt = yes\n")
    config = parse(text, "x.cnf")
    prompter = answers_prompter(["\n", "caf\u00e9\n"])
    rdns = subject_from_answers(config, "dn", config.section("dn"), DEFAULT_STRING_MASK, prompter,
                                {"myName": "1.3.6.1.4.1.99999.1"}, "req")
    assert [(rdn[0].oid, rdn[0].value, rdn[0].tag) for rdn in rdns] == [
        ("2.5.4.6", "DE", PRINTABLE_STRING), ("1.3.6.1.4.1.99999.1", "caf\u00e9", UTF8_STRING)]
    with pytest.raises(ConfigError) as caught:
        subject_from_answers(config, "dn", config.section("dn"), DEFAULT_STRING_MASK, None, {},
                             "req")
    assert (caught.value.line, "set 'prompt = no'" in str(caught.value)) == (6, True)


def test_stdio_prompter_reads_a_pipe_and_ends_at_eof():
    stdin = io.TextIOWrapper(io.BytesIO("J\u00f6rg\n".encode()), encoding="utf-8")
    stderr = io.StringIO()
    prompter = StdioPrompter(stdin, stderr)
    assert prompter("Name []:") == "J\u00f6rg\n"
    assert prompter("Next []:") is None  # end of input: no waiting
    assert "Name []:" in stderr.getvalue()


def test_field_type_prefixes():
    assert field_type("CN") == ("CN", False)
    assert field_type("0.OU") == ("OU", False)
    assert field_type("x,+CN") == ("CN", True)
    assert field_type("1.2.3.4") == ("2.3.4", False)
    assert field_type("CN.") == ("CN.", False)


def test_numbers_and_masks_parse_like_openssl():
    assert leading_number("1024 bits") == 1024
    assert leading_number("abc") == 0
    assert leading_number("9" * 30) is None
    assert parse_string_mask("MASK:0x2002") == 0x2002
    assert parse_string_mask("MASK:") is None
    assert parse_string_mask("utf8only") == 0x2000
    assert parse_string_mask("UTF8ONLY") is None


def test_stdio_prompter_on_a_pipe_reads_lines_one_by_one():
    import os
    read_end, write_end = os.pipe()
    os.write(write_end, "US\n\nJ\u00f6rg\n".encode())
    os.close(write_end)
    with os.fdopen(read_end, "r") as stdin:
        prompter = StdioPrompter(stdin, io.StringIO())
        assert [prompter("q:") for _ in range(4)] == ["US\n", "\n", "J\u00f6rg\n", None]


def test_stdio_prompter_gives_up_on_a_silent_pipe():
    import os
    import time
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "r") as stdin:
            prompter = StdioPrompter(stdin, io.StringIO(), wait_seconds=0.2)
            started = time.monotonic()
            assert prompter("q:") is None  # nobody writes, but the pipe stays open
            assert time.monotonic() - started < 5
    finally:
        os.close(write_end)
