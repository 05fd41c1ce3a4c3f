"""Threat: bad input on every path.

Each bad input gets exit 1 (2 for a usage error, as argparse does), exactly
one line on stderr saying what is wrong and where (``file:line:`` where
there is a line), no Python traceback, and no file left behind.

Odd inputs that one oracle or both accept (an empty file, which certtool
takes and we refuse as a truncated config; an unterminated quote; bytes
that are not UTF-8 in a comment) are listed in ACCEPTED: there the promise
is a whole PEM or a clean refusal, never a crash.
"""

import os
import subprocess
import sys

import pytest

from conftest import BIN, data_path
from test_threat_helpers import (assert_one_clean_line, assert_whole_or_nothing, install_imapd)

REQ = "[ req ]\ndistinguished_name = dn\nprompt = no\ndefault_bits = 1024\n[ dn ]\nCN = x\n"
TEMPLATE = "cn = x\nexpiration_days = 30\n"


def _write(path, content):
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogateescape")
    path.write_bytes(content)


# name: (config bytes or text, line expected in "file:line:" or None, words in the message)
BAD_CONFIGS = {
    "binary-nul-first-line": (b"\0\1\2\3", 1, ["binary"]),
    "binary-nul-line-3": (b"# a\n# b\n\0x\n", 3, ["binary"]),
    "non-utf8-value": (b"[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = \xff\xfe\n",
                       5, ["UTF-8"]),
    "undefined-variable": (REQ.replace("CN = x", "CN = $nothere"), 6, ["nothere"]),
    "undefined-section-variable": (REQ.replace("CN = x", "CN = ${nosection::x}"), 6, []),
    "unclosed-section": ("[ req\n" + REQ, None, []),
    "include-self": (None, 1, ["include"]),
    "include-loop-via-other": (None, None, ["include"]),
    "default-bits-text": (REQ.replace("default_bits = 1024", "default_bits = abc"), 4, ["bits"]),
    "default-bits-small": (REQ.replace("default_bits = 1024", "default_bits = 100"), 4, ["bits"]),
    "default-bits-huge": (REQ.replace("default_bits = 1024", "default_bits = 99999999"), 4,
                          ["bits"]),
    "unknown-extension": (REQ.replace("prompt = no", "prompt = no\nx509_extensions = ext")
                          + "[ ext ]\nnoSuchExtension = 1\n", 9, []),
    "unknown-digest": (REQ.replace("prompt = no", "prompt = no\ndefault_md = nosuchmd"), 4,
                       ["nosuchmd"]),
    "template-bad-days": (TEMPLATE.replace("30", "abc"), 2, ["expiration_days"]),
    "template-bad-serial": ("cn = x\nserial = zz-not-hex\n", 2, ["serial"]),
    "template-bad-date": ("cn = x\nexpiration_date = not a date\n", 2, ["date"]),
}


def _config_for(name, layout, tmp_path):
    text, line, words = BAD_CONFIGS[name]
    config = layout.sysconfdir / "imapd.cnf"
    if name == "include-self":
        text = f".include {config}\n" + REQ
    elif name == "include-loop-via-other":
        other = tmp_path / "other.cnf"
        other.write_text(f".include {config}\n")
        text = f".include {other}\n" + REQ
    _write(config, text)
    return config, line, words


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_is_one_located_line_and_nothing_made(layout, tmp_path, name):
    config, line, words = _config_for(name, layout, tmp_path)
    result = layout.command("mkimapdcert", timeout=60)
    message = assert_one_clean_line(result, 1, contains=words)
    if line is not None:
        assert message.startswith(f"mkimapdcert: {config}:{line}: "), message
    else:
        assert "imapd.cnf" in message or "other.cnf" in message, message
    assert layout.listing() == []


@pytest.mark.parametrize("how", ["missing", "directory", "dangling-symlink", "empty-directory"])
def test_config_that_is_no_file(layout, how):
    config = layout.sysconfdir / "imapd.cnf"
    if how == "directory":
        config.mkdir()
        (config / "x.cnf").write_text(REQ)
    elif how == "empty-directory":
        config.mkdir()
    elif how == "dangling-symlink":
        config.symlink_to(layout.sysconfdir / "nowhere.cnf")
    result = layout.command("mkimapdcert")
    assert_one_clean_line(result, 1, contains=["cannot read config", str(config)])
    assert layout.listing() == []


ACCEPTED = {
    "empty": b"",
    "only-comments": b"# nothing\n# here\n",
    "non-utf8-in-comment": b"# \xff\xfe\n" + REQ.encode(),
    "unterminated-quote": REQ.replace("CN = x", 'CN = "abc').encode(),
    "template-unterminated-quote": b'cn = "abc\n',
    "template-control-bytes": b"cn = \x01\x02\n",
    "crlf-line-ends": REQ.replace("\n", "\r\n").encode(),
    "no-trailing-newline": REQ.rstrip("\n").encode(),
    # OpenSSL skips an include target it cannot read; we warn (file:line) and go on.
    "include-missing": (".include /nonexistent/mkcert.cnf\n" + REQ).encode(),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_odd_but_accepted_configs_make_a_whole_pem_or_refuse_cleanly(layout, name):
    _write(layout.sysconfdir / "imapd.cnf", ACCEPTED[name])
    result = layout.command("mkimapdcert", "-q", env=dict(layout.env, BITS="low"), timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 0:
        assert assert_whole_or_nothing(layout.certsdir)
    else:
        assert_one_clean_line(result, 1)
        assert layout.listing() == []


# --- huge -------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024
# A hang guard, not a timing assertion: the linear readers need a few seconds
# on a CI core, a quadratic one hours at these sizes, and a loaded machine
# (parallel suites, other jobs) must not turn the margin into a failure.
LIMIT = 180


@pytest.mark.parametrize("shape", ["openssl-comments", "openssl-many-keys", "openssl-long-value",
                                   "template-many-lines",
                                   "template-long-value"])
def test_huge_config_is_handled_in_bounded_time(layout, shape):
    """10 MB files; the per-character shapes at 1-2 MB to keep CI quick."""
    if shape == "openssl-comments":
        data = REQ.encode() + b"# padding padding padding padding padding\n" * (TEN_MB // 42)
    elif shape == "openssl-long-value":
        data = REQ.replace("CN = x", "CN = " + "a" * (TEN_MB // 10)).encode()
    elif shape == "openssl-many-keys":
        data = REQ.encode() + b"[ other ]\n" + b"key = value\n" * (TEN_MB // 5 // 12)
    elif shape == "template-many-lines":
        data = b"cn = x\n" * (TEN_MB // 5 // 7)  # 2 MB, 300,000 options: 2 s (10 MB: 8 s)
    else:
        data = b"cn = " + b"a" * TEN_MB + b"\n"
    _write(layout.sysconfdir / "imapd.cnf", data)
    try:
        result = layout.command("mkimapdcert", "-q", env=dict(layout.env, BITS="low"),
                                timeout=LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"a huge config ({shape}) took too long")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode == 0:
        assert assert_whole_or_nothing(layout.certsdir)
    else:
        assert_one_clean_line(result, 1)
        assert layout.listing() == []


# --- command line and environment ---------------------------------------------

@pytest.fixture
def imapd(layout):
    install_imapd(layout)
    return layout


@pytest.mark.parametrize("args", [
    ["--days="], ["--days", "1e3"], ["--days", "0x10"], ["--days", "99999999999999999999999"],
    ["--days", "-0"], ["--no-such-option"], ["-x"], ["--days"], ["a", "b"],
    ["--user"], ["--config"],
])
def test_usage_errors_exit_2_with_nothing_made(imapd, args):
    result = imapd.command("mkimapdcert", *args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("mkimapdcert: error: "), result.stderr
    assert imapd.listing() == []


def test_days_up_to_the_year_9999_and_not_one_more(imapd):
    import datetime
    from mkcert.cli.arguments import days_argument

    now = datetime.datetime.now(datetime.timezone.utc)
    last = (datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc) - now).days
    too_many = imapd.command("mkimapdcert", "--days", str(last + 1))
    assert too_many.returncode == 2 and "9999" in too_many.stderr
    assert imapd.listing() == []
    assert days_argument(str(last)) == last
    result = imapd.command("mkimapdcert", "-q", "--days", str(last - 1))
    assert result.returncode == 0, result.stderr
    _, _, certificate = __import__("test_threat_helpers").load_whole_pem(
        imapd.certsdir / "imapd.pem")
    from mkcert.x509.compat import not_valid_after
    assert not_valid_after(certificate).year == 9999


@pytest.mark.parametrize("name", ["", "../etc", "a/b", "-x", ".hidden/x", "x" * 5000])
def test_mkcouriercert_bad_service_names(imapd, name):
    result = imapd.command("mkcouriercert", "--", name)
    assert result.returncode in (1, 2), result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) >= 1
    assert imapd.listing() == []


def test_pemfile_name_too_long(imapd, tmp_path):
    result = imapd.command("mkimapdcert", tmp_path / ("x" * 300))
    assert_one_clean_line(result, 1, contains=["File name too long"])
    assert imapd.listing() == [] and sorted(os.listdir(tmp_path)) == ["certs", "etc"]


@pytest.mark.parametrize("bits", ["abc", "0", "100", "99999", "-1", "1e3", " "])
def test_bad_bits_for_a_template(layout, bits):
    _write(layout.sysconfdir / "imapd.cnf", TEMPLATE)
    result = layout.command("mkimapdcert", env=dict(layout.env, BITS=bits))
    if bits == " ":  # blank: the default level, as an unset BITS
        assert result.returncode == 0 or "BITS" in result.stderr
        return
    assert_one_clean_line(result, 1, contains=["BITS"])
    assert layout.listing() == []


@pytest.mark.parametrize("bits", ["abc", "0", "100", "20000", "-5", "2048.5"])
def test_bad_bits_for_openssl_esmtpd_dh(layout, bits):
    install_imapd(layout, name="esmtpd")
    result = layout.command("mkesmtpdcert", env=dict(layout.env, BITS=bits))
    assert_one_clean_line(result, 1, contains=["BITS"])
    assert layout.listing() == []


def _dh(layout, *args, **env):
    full = dict(layout.env, TLS_DHPARAMS=str(layout.certsdir / "dhparams.pem"),
                COURIER_SSLLIB="openssl")
    full.update(env)
    return subprocess.run([sys.executable, os.path.join(BIN, "mkdhparams"), *args], env=full,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("env", [{"DH_BITS": "abc"}, {"DH_BITS": "100"}, {"DH_BITS": "20000"},
                                 {"DH_BITS": "-1"},
                                 {"DH_GROUP": "ffdhe1"},
                                 {"COURIER_SSLLIB": "wolfssl"}, {"COURIER_MAILUSER": "nobody-x"}])
def test_mkdhparams_bad_environment(layout, env):
    result = _dh(layout, "--force", **env)
    assert_one_clean_line(result, 1, contains=[list(env)[0]] if "MAILUSER" not in list(env)[0]
                          else ["mail user"])
    assert layout.listing() == []


@pytest.mark.parametrize("args", [["--named-group", "ffdhe1"], ["--named-group"],
                                  ["--jobs", "0"], ["--jobs", "x"], ["--bogus"], ["extra"]])
def test_mkdhparams_usage_errors(layout, args):
    result = _dh(layout, "--force", *args)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("mkdhparams: error: "), result.stderr
    assert layout.listing() == []


@pytest.mark.parametrize("pem", ["empty", "binary", "directory", "dangling", "huge", "half",
                                 "key-only", "fifo"])
def test_check_on_a_bad_pem_is_one_line_and_changes_nothing(imapd, tmp_path, pem):
    """--check reads whatever is there (a monitoring plugin): one line, status 0-3."""
    path = imapd.certsdir / "imapd.pem"
    if pem != "empty" and pem != "fifo" and pem not in ("directory", "dangling"):
        assert imapd.command("mkimapdcert", "-q").returncode == 0
        whole = path.read_bytes()
        path.unlink()
    if pem == "empty":
        path.touch()
    elif pem == "binary":
        path.write_bytes(os.urandom(4096))
    elif pem == "directory":
        path.mkdir()
    elif pem == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    elif pem == "huge":
        path.write_bytes(whole + b"x" * TEN_MB)
    elif pem == "half":
        path.write_bytes(whole[:len(whole) // 2])
    elif pem == "key-only":
        path.write_bytes(whole[:whole.index(b"-----BEGIN CERTIFICATE-----")])
    else:
        os.mkfifo(path)
    before = sorted(imapd.listing())
    result = imapd.command("mkimapdcert", "--check", timeout=30)
    assert result.returncode in (1, 2, 3), result
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stdout.splitlines()) == 1, result.stdout
    assert sorted(imapd.listing()) == before
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_config_that_is_no_regular_file_is_refused_at_once(layout, tmp_path, source):
    if source == "fifo":
        source = tmp_path / "config.fifo"
        os.mkfifo(source)  # nobody writes: reading it would block forever
    result = layout.command("mkimapdcert", "--config", source, timeout=20)
    assert_one_clean_line(result, 1, contains=["not a regular file", str(source)])
    assert layout.listing() == []


@pytest.mark.parametrize("args, status", [(["--check"], 2), ([], 1), (["--version"], 0)])
def test_unwritable_stdout_is_one_line_on_every_path(layout, args, status):
    """The status is what it is with a writable stdout (CRITICAL 2, "already
    exists" 1, 0); the lost output is one warning line."""
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"))
    (layout.certsdir / "imapd.pem").write_text("not a pem")  # "already exists" / CRITICAL
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, os.path.join(BIN, "mkimapdcert"), *args],
                                env=layout.env, stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=60)
    assert "Traceback" not in result.stderr
    assert result.stderr == ("mkimapdcert: warning: cannot write to standard output: "
                             "No space left on device\n")
    assert result.returncode == status
