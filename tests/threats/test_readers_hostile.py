"""The config readers against hostile or broken input, as outside testers found it.

Every refusal is one line on stderr naming ``file:line`` where a line is at
fault, exit 1, and nothing in CERTSDIR; where the readers follow (or part
from) ``openssl req`` and ``certtool``, the oracles are run on the same
file and their behaviour is asserted next to ours.
"""

import glob
import os
import subprocess

import pytest

from conftest import ROOT, openssl
from test_threat_helpers import assert_one_clean_line, assert_whole_or_nothing

from mkcert.readers.load import load_request
from mkcert.errors import ConfigError

REQ = ("[ req ]\ndistinguished_name = dn\nprompt = no\ndefault_bits = 1024\n"
       "[ dn ]\nCN = x\n")
MEGABYTE = 1 << 20


def _load(tmp_path, text, name="imapd.cnf"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return load_request(str(path), environ={})


def _refusal(tmp_path, text, name="imapd.cnf"):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, name)
    return caught.value


# --- quoting input in messages ------------------------------------------------

HUGE = "x" * MEGABYTE
# name: (config text, line at fault); each quotes a megabyte of input.
HUGE_QUOTES = {
    "openssl-no-equals": ("[ req ]\n" + HUGE + "\n", 2),
    "openssl-section-header": ("[ req ]\n[ " + HUGE + " $\n", 2),
    "openssl-undefined-variable": ("[ req ]\na = $" + HUGE + "\n", 2),
    "openssl-pragma": (".pragma dollarid:" + HUGE + "\n", 1),
    "openssl-default-md": (REQ.replace("prompt = no", "prompt = no\ndefault_md = " + HUGE), 4),
    "openssl-dn-field": (REQ.replace("CN = x", HUGE + " = x"), 6),
    "openssl-dn-value-newline": (REQ.replace("CN = x", "CN = a\\n" + HUGE), 6),
    "openssl-extension-value": (REQ.replace("prompt = no", "prompt = no\nx509_extensions = e")
                                + "[ e ]\nsubjectAltName = " + HUGE + ":x\n", 9),
    "openssl-extension-name": (REQ.replace("prompt = no", "prompt = no\nx509_extensions = e")
                               + "[ e ]\n" + HUGE + " = 1\n", 9),
    "openssl-missing-dn-section": ("[ req ]\nprompt = no\ndistinguished_name = " + HUGE + "\n",
                                   3),
    "template-serial": ("cn = x\nserial = " + HUGE + "\n", 2),
    "template-date": ("cn = x\nexpiration_date = " + HUGE + "\n", 2),
    "template-dns-name": ("cn = x\ndns_name = \u00e9" + HUGE + "\n", 2),
    "template-key-purpose": ("cn = x\nkey_purpose_oid = " + HUGE + "\n", 2),
}


@pytest.mark.parametrize("shape", sorted(HUGE_QUOTES))
def test_a_megabyte_of_input_is_quoted_in_a_short_line(tmp_path, shape):
    text, line = HUGE_QUOTES[shape]
    problem = _refusal(tmp_path, text)
    message = str(problem)
    assert message.startswith(f"{tmp_path / 'imapd.cnf'}:{line}: "), message[:300]
    assert "\n" not in message
    assert len(message) < 600, (len(message), message[:300])
    assert "..." in message, message


def test_a_quoted_line_from_an_included_file_names_that_file(tmp_path):
    included = tmp_path / "included.cnf"
    included.write_text("[ dn ]\nCN = x\n" + HUGE + "\n")
    problem = _refusal(tmp_path, f"[ req ]\nprompt = no\ndistinguished_name = dn\n"
                                 f".include {included}\n")
    message = str(problem)
    assert message.startswith(f"{included}:3: expected 'name = value' but found 'xxx"), \
        message[:300]
    assert len(message) < 600, len(message)


def test_template_warnings_quote_a_short_name(tmp_path):
    request = _load(tmp_path, "cn = x\n" + HUGE + " = 1\n" + "tls_www_server = " + HUGE + "\r\n")
    assert request.warnings
    for warning in request.warnings:
        assert len(warning) < 600, warning[:300]
        assert "\n" not in warning


def test_a_megabyte_line_is_one_short_line_on_stderr(layout):
    (layout.sysconfdir / "imapd.cnf").write_text("[ req ]\n" + HUGE + "\n")
    result = layout.command("mkimapdcert", timeout=60)
    message = assert_one_clean_line(result, 1)
    assert message.startswith(f"mkimapdcert: {layout.sysconfdir / 'imapd.cnf'}:2: "), message
    assert len(message) < 600
    assert layout.listing() == []


# --- memory -------------------------------------------------------------------

# Address space for a whole run under `ulimit -v`: Python, cryptography and a
# 1024-bit key need about 45 MB here (measured: 40 MB fails, 45 MB makes the
# PEM), so 80 MB leaves room; reading a config used to ask for 64 MiB more.
ADDRESS_SPACE = 80 * 1000 * 1024


def _limited_address_space():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _run_limited(layout):
    return layout.command("mkimapdcert", "-q", timeout=120, preexec_fn=_limited_address_space)


def test_a_small_config_needs_no_64_mib_buffer(layout):
    layout.install_config("imapd", os.path.join(ROOT, "examples", "openssl", "imapd.cnf"),
                          bits=1024)
    result = _run_limited(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    assert assert_whole_or_nothing(layout.certsdir)


def _runaway(lines):
    """A value of 60,000 bytes, then ``lines`` settings that each copy it."""
    return ("[ req ]\ndistinguished_name = dn\nprompt = no\ndefault_bits = 1024\n"
            "a = " + "x" * 60000 + "\n"
            + "".join(f"b{n} = $a-\n" for n in range(lines)) + "[ dn ]\nCN = x\n")


def test_expansions_that_add_up_are_refused_at_the_line_that_passes_the_limit(tmp_path):
    from mkcert.readers.openssl.syntax import MAX_EXPANDED_BYTES

    problem = _refusal(tmp_path, _runaway(1000))
    copies = MAX_EXPANDED_BYTES // 60000 + 1  # the first copy past the limit
    assert problem.line == 5 + copies, str(problem)
    assert "expansion" in problem.message


def test_a_runaway_expansion_in_limited_memory_is_one_line(layout):
    (layout.sysconfdir / "imapd.cnf").write_text(_runaway(2000))
    result = _run_limited(layout)
    assert_one_clean_line(result, 1, contains=[f"{layout.sysconfdir / 'imapd.cnf'}:"])
    assert layout.listing() == []


def test_running_out_of_memory_while_reading_is_one_line(layout):
    config = layout.sysconfdir / "imapd.cnf"
    with open(config, "wb") as handle:  # 60 MiB of comment: under the size limit
        handle.write(REQ.encode())
        handle.write(b"#" * (60 * MEGABYTE))
    result = _run_limited(layout)
    assert_one_clean_line(result, 1, contains=[str(config), "not enough memory"])
    assert layout.listing() == []


# --- empty configs ----------------------------------------------------------------

EMPTY_CONFIGS = {
    "zero-bytes": b"",
    "blank-lines": b"\n  \n\t\n",
    "crlf-blank-lines": b"\r\n\r\n",
    "only-comments": b"# /etc/courier/imapd.cnf\n#\n# cn = localhost\n",
    "byte-order-mark-and-comment": b"\xef\xbb\xbf# nothing else\n",
}


def _certtool_subject_and_issuer(template, key, tmp_path):
    """What certtool makes of ``template``: (subject DER, issuer DER)."""
    from cryptography import x509

    out = tmp_path / "certtool.pem"
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", str(key),
                    "--template", str(template), "--outfile", str(out)],
                   capture_output=True, check=True, timeout=60)
    certificate = x509.load_pem_x509_certificate(out.read_bytes())
    return certificate.subject.public_bytes(), certificate.issuer.public_bytes()


@pytest.mark.parametrize("name", sorted(EMPTY_CONFIGS))
def test_an_empty_config_is_refused_naming_the_file(layout, certtool_key, tmp_path, name):
    config = layout.sysconfdir / "imapd.cnf"
    config.write_bytes(EMPTY_CONFIGS[name])
    # The oracles: openssl req refuses the file; certtool makes a
    # certificate whose subject and issuer are empty (DER: an empty SEQUENCE).
    assert openssl("req", "-new", "-x509", "-nodes", "-config", config, "-keyout",
                   tmp_path / "k", "-out", tmp_path / "c", check=False,
                   stdin=subprocess.DEVNULL).returncode != 0
    assert _certtool_subject_and_issuer(config, certtool_key, tmp_path) == (b"0\0", b"0\0")
    result = layout.command("mkimapdcert")
    message = assert_one_clean_line(result, 1, contains=["empty"])
    assert message.startswith(f"mkimapdcert: {config}: "), message
    assert layout.listing() == []


@pytest.mark.parametrize("text, words", [
    ("serial = 1\nexpiration_days = 30\ndns_name = mail.example.com\n", []),
    ("frobnicate = 1\n", []),
    # certtool ignores CN: its option names are lower case.
    ("CN = mail.example.com\nexpiration_days = 30\n", ["'CN' on line 1", "case-sensitive"]),
])
def test_a_template_that_names_nothing_is_refused(layout, certtool_key, tmp_path, text, words):
    config = layout.sysconfdir / "imapd.cnf"
    config.write_text(text)
    assert _certtool_subject_and_issuer(config, certtool_key, tmp_path) == (b"0\0", b"0\0")
    result = layout.command("mkimapdcert")
    message = assert_one_clean_line(result, 1, contains=["RFC 5280", *words])
    assert message.startswith(f"mkimapdcert: {config}: "), message
    assert layout.listing() == []


def test_an_openssl_config_with_an_empty_name_stays_refused_like_openssl(layout, tmp_path):
    config = layout.sysconfdir / "imapd.cnf"
    config.write_text("[ req ]\nprompt = no\ndistinguished_name = dn\n[ dn ]\n")
    oracle = openssl("req", "-new", "-x509", "-nodes", "-config", config, "-keyout",
                     tmp_path / "k", "-out", tmp_path / "c", check=False)
    assert "No objects specified" in oracle.stderr
    result = layout.command("mkimapdcert")
    assert_one_clean_line(result, 1, contains=[f"{config}:3:", "empty"])
    assert layout.listing() == []


# --- req settings in the unnamed section ---------------------------------------------

# OpenSSL's test/certs/ee.cnf: no [ req ], its settings before the first section.
EE_CNF = """
prompt = no
distinguished_name = my_server
x509_extensions = my_exts
default_bits = 1024
[my_server]
commonName = test
[my_exts]
basicConstraints = CA:false
subjectKeyIdentifier=hash
authorityKeyIdentifier = keyid
"""


def test_req_settings_before_the_first_section_make_the_certificate_openssl_makes(
        layout, tmp_path):
    from cryptography import x509

    config = layout.sysconfdir / "imapd.cnf"
    config.write_text(EE_CNF)
    openssl("req", "-new", "-x509", "-nodes", "-config", config, "-keyout", tmp_path / "k",
            "-out", tmp_path / "c")
    theirs = x509.load_pem_x509_certificate((tmp_path / "c").read_bytes())
    result = layout.command("mkimapdcert", "-q")
    assert result.returncode == 0, result.stderr
    ours = x509.load_pem_x509_certificate((layout.certsdir / "imapd.pem").read_bytes())
    assert ours.subject == theirs.subject
    assert [e.oid for e in ours.extensions] == [e.oid for e in theirs.extensions]


@pytest.mark.parametrize("text, expected", [
    (EE_CNF, "openssl"),
    ("RANDFILE = /dev/null\nprompt = no\n[ dn ]\nCN = x\n", "openssl"),
    # OpenSSL words that are not req settings do not stand for a [ req ].
    ("RANDFILE = /dev/null\n[ ca ]\ndir = .\n", None),
    ("subjectAltName = DNS:x\n[ dn ]\nCN = x\n", None),
    # certtool options before a section are still a mix, req settings or not.
    ("cn = x\nprompt = no\n[ dn ]\nCN = x\n", None),
    # Without any section it is no OpenSSL config (req needs a DN section).
    ("prompt = no\ndistinguished_name = dn\n", None),
])
def test_req_settings_before_sections_count_as_a_req_section(text, expected):
    from mkcert.readers.detect import detect_format

    if expected is None:
        with pytest.raises(ConfigError):
            detect_format(text, "x.cnf")
    else:
        assert detect_format(text, "x.cnf") == expected


def _configs(*parts):
    return sorted(glob.glob(os.path.join(ROOT, *parts)))


@pytest.mark.parametrize("path", _configs("tests", "templates", "*.cnf")
                         + _configs("examples", "gnutls", "*.cnf"), ids=os.path.basename)
def test_every_template_here_is_still_a_template(path):
    from mkcert.readers.detect import detect_format

    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8", "surrogateescape")
    assert detect_format(text, path) == "gnutls"


# --- prompting ----------------------------------------------------------------------

ASKING = ("[ req ]\ndistinguished_name = dn\ndefault_bits = 1024\n"
          "[ dn ]\nC = Country Name\nCN = Common Name\n")


@pytest.mark.parametrize("section, hint", [
    ("", False),  # the section exists but is empty
    ("CN_default = mail.example.com\nfoo = bar\n", False),  # nothing req would ask
    (None, True),  # distinguished_name is not set at all
])
def test_a_distinguished_name_section_with_nothing_to_ask(layout, tmp_path, section, hint):
    config = layout.sysconfdir / "imapd.cnf"
    if section is None:
        config.write_text("[ req ]\ndefault_bits = 1024\n")
    else:
        config.write_text("[ req ]\ndistinguished_name = dn\n[ dn ]\n" + section)
    oracle = openssl("req", "-new", "-x509", "-nodes", "-config", config, "-keyout",
                     tmp_path / "k", "-out", tmp_path / "c", check=False,
                     stdin=subprocess.DEVNULL)
    assert oracle.returncode != 0
    result = layout.command("mkimapdcert", stdin=subprocess.DEVNULL)
    message = assert_one_clean_line(result, 1)
    assert ("(set distinguished_name)" in message) == hint, message
    if section is not None:
        assert message.startswith(f"mkimapdcert: {config}:2: "), message
        assert "[ dn ]" in message, message
    assert layout.listing() == []


def _last_line_of_a_failed_run(result):
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    # The questions go to stderr as openssl req puts them; the error is last.
    return result.stderr.splitlines()[-1]


def test_answers_from_dev_zero_fail_at_once_like_openssl(layout, tmp_path):
    config = layout.sysconfdir / "imapd.cnf"
    config.write_text(ASKING)
    with open("/dev/zero", "rb") as zeros:
        oracle = openssl("req", "-new", "-x509", "-nodes", "-config", config, "-keyout",
                         tmp_path / "k", "-out", tmp_path / "c", check=False, stdin=zeros,
                         timeout=60)
        assert oracle.returncode != 0
        result = layout.command("mkimapdcert", stdin=zeros, timeout=60)
    line = _last_line_of_a_failed_run(result)
    assert f"{config}:5: " in line and "NUL" in line, line
    assert layout.listing() == []


def test_an_answer_with_a_nul_byte_is_refused(layout):
    config = layout.sysconfdir / "imapd.cnf"
    config.write_text(ASKING)
    result = layout.command("mkimapdcert", input="U\0S\nmail\n", timeout=60)
    line = _last_line_of_a_failed_run(result)
    assert f"{config}:5: " in line and "NUL" in line, line
    assert layout.listing() == []


def test_a_pipe_without_newlines_is_read_in_answers_of_at_most_1023_bytes():
    import io

    from mkcert.readers.openssl.prompt import MAX_ANSWER, StdioPrompter

    read_end, write_end = os.pipe()
    os.write(write_end, b"a" * 5000)
    os.close(write_end)
    with os.fdopen(read_end, "r") as stdin:
        prompter = StdioPrompter(stdin, io.StringIO())
        pieces = [prompter("q:") for _ in range(6)]
    sizes = [len(piece or "") for piece in pieces]
    assert sizes == [MAX_ANSWER] * 4 + [5000 - 4 * MAX_ANSWER, 0]


# --- validity in the past --------------------------------------------------------------

PAST_TEMPLATES = {
    # line of the option at fault, words of the message
    "expiration-only": ('cn = x\nexpiration_date = "2020-01-01 UTC"\n', 2, "has passed"),
    "both-in-the-past": ('cn = x\nactivation_date = "2019-01-01 UTC"\n'
                         'expiration_date = "2020-01-01 UTC"\n', 3, "has passed"),
    "epoch-seconds": ("cn = x\nexpiration_date = @1000000000\n", 2, "has passed"),
    "end-before-start": ('cn = x\nactivation_date = "2091-01-01 UTC"\n'
                         'expiration_date = "2090-01-01 UTC"\n', 3, "before it starts"),
}


@pytest.mark.parametrize("name", sorted(PAST_TEMPLATES))
def test_an_expiration_date_that_has_passed_is_refused(layout, certtool_key, tmp_path, name):
    text, line, words = PAST_TEMPLATES[name]
    config = layout.sysconfdir / "imapd.cnf"
    config.write_text(text)
    if name != "end-before-start":
        # certtool makes a certificate that has already expired, with exit 0.
        out = tmp_path / "certtool.pem"
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey",
                        str(certtool_key), "--template", str(config), "--outfile", str(out)],
                       capture_output=True, check=True, timeout=60)
        assert openssl("x509", "-in", out, "-noout", "-checkend", "0",
                       check=False).returncode == 1
    result = layout.command("mkimapdcert", env=dict(layout.env, BITS="low"))
    message = assert_one_clean_line(result, 1, contains=[words])
    assert message.startswith(f"mkimapdcert: {config}:{line}: "), message
    assert layout.listing() == []


def test_renewing_from_a_template_whose_end_has_passed_fails_visibly(layout):
    config = layout.install_config("imapd", os.path.join(ROOT, "examples", "gnutls", "imapd.cnf"))
    env = dict(layout.env, BITS="low")
    made = layout.command("mkimapdcert", "-q", env=env)
    assert made.returncode == 0, made.stderr
    pem = layout.certsdir / "imapd.pem"
    before = pem.read_bytes()
    config.write_text(config.read_text() + 'expiration_date = "2020-01-01 UTC"\n')
    result = layout.command("mkimapdcert", "--renew", "--force", "-q", env=env)
    assert_one_clean_line(result, 1, contains=[f"{config}:", "has passed"])
    assert pem.read_bytes() == before


def test_the_end_may_be_a_second_away_but_not_now():
    import datetime

    from mkcert.readers.certtool.template import read_template

    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    text = 'cn = x\nexpiration_date = "2030-01-01 00:00:{:02d} UTC"\n'
    assert read_template(text.format(1), "t.cnf", now=now).not_after == \
        now + datetime.timedelta(seconds=1)
    with pytest.raises(ConfigError) as caught:
        read_template(text.format(0), "t.cnf", now=now)
    assert caught.value.line == 2


# --- a CN over RFC 5280's 64 characters ---------------------------------------------------

# A host name of 109 characters (labels under 64): valid in DNS, too long for
# RFC 5280's ub-common-name.
LONG_NAME = "h" * 40 + "." + "b" * 60 + ".example"
LONG_CN_TEMPLATE = (f"cn = {LONG_NAME}\ntls_www_server\nencryption_key\nsigning_key\n"
                    "expiration_days = 30\n")


def _serve_once(pem, ready):
    """A TLS server on a loopback port, as Courier's couriertls loads its PEM:
    key and certificate from one file into an OpenSSL context (pyOpenSSL)."""
    import socket
    import threading

    from OpenSSL import SSL

    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.use_certificate_file(str(pem))
    context.use_privatekey_file(str(pem))
    context.check_privatekey()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)

    def serve():
        try:
            connection, _ = listener.accept()
            connection.setblocking(True)  # pyOpenSSL wants a blocking socket
            tls = SSL.Connection(context, connection)
            tls.set_accept_state()
            tls.do_handshake()
            tls.sendall(b"* OK\r\n")
            tls.shutdown()
            connection.close()
        except (OSError, SSL.Error) as problem:
            ready.append(problem)
        finally:
            listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


# cryptography reads the name, but says the CN is longer than RFC 5280 allows.
@pytest.mark.filterwarnings("ignore:Attribute's length must be")
def test_a_cn_over_64_characters_is_made_as_certtool_makes_it_and_clients_take_it(
        layout, certtool_key, tmp_path):
    import socket
    import ssl

    from cryptography import x509

    config = layout.sysconfdir / "imapd.cnf"
    config.write_text(LONG_CN_TEMPLATE)
    result = layout.command("mkimapdcert", env=dict(layout.env, BITS="2048"))
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and f"{config}:1: " in warnings[0], result.stderr
    assert "RFC 5280" in warnings[0] and "64" in warnings[0], warnings[0]
    pem = layout.certsdir / "imapd.pem"
    ours = x509.load_pem_x509_certificate(pem.read_bytes())
    assert ours.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == LONG_NAME
    # certtool makes the same name.
    subject, _ = _certtool_subject_and_issuer(config, certtool_key, tmp_path)
    assert ours.subject.public_bytes() == subject
    # OpenSSL verifies it, matching the host name against the long CN.
    verified = openssl("verify", "-CAfile", pem, "-verify_hostname", LONG_NAME, pem,
                       check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # A TLS server loads it, and a verifying client completes a handshake.
    problems = []
    port, server = _serve_once(pem, problems)
    client = ssl.create_default_context(cafile=str(pem))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with client.wrap_socket(raw, server_hostname=LONG_NAME) as tls:
            peer = dict(pair[0] for pair in tls.getpeercert()["subject"])
            greeting = tls.recv(16)
    server.join(60)
    assert problems == []
    assert peer["commonName"] == LONG_NAME and greeting == b"* OK\r\n"


def test_openssl_req_is_what_refuses_a_long_cn(tmp_path):
    """The other side of the evidence: `openssl req` keeps RFC 5280's bound
    (and so does our OpenSSL reader, which follows it)."""
    text = REQ.replace("CN = x", f"CN = {LONG_NAME}")
    config = tmp_path / "req.cnf"
    config.write_text(text)
    oracle = openssl("req", "-new", "-x509", "-nodes", "-config", config, "-keyout",
                     tmp_path / "k", "-out", tmp_path / "c", check=False)
    assert oracle.returncode != 0 and "too long" in oracle.stderr
    assert _refusal(tmp_path, text).line == 6
