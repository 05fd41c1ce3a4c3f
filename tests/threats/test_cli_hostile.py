"""What outside testers typed: odd numbers, a diverted program name, the docs from a checkout.

Every number from the command line or the environment goes through
:func:`mkcert.readers.number.whole_number`; these tests run the real commands with
the values that used to end in a traceback or slip through ``int()``.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import BIN, ROOT

from mkcert.readers.number import NumberError, whole_number

OPENSSL_EXAMPLE = os.path.join(ROOT, "examples", "openssl", "imapd.cnf")
GNUTLS_EXAMPLE = os.path.join(ROOT, "examples", "gnutls", "imapd.cnf")
MAN_DIR = os.path.join(ROOT, "docs", "man")

LONG_DIGITS = "9" * 5000  # past Python's 4300-digit limit on int(str)
# Not a whole number in any range, each for its own reason.
NOT_NUMBERS = [
    "²",                # str.isdigit() is true, int() raises ValueError
    "١٢",               # Arabic-Indic digits: int() reads 12
    "-1", "+5", " 5", "5 ", "5x", "1_000", "0x10", "1e3", "",
    str(10 ** 30),      # digits, far out of every range
    LONG_DIGITS,
]


# --- the parser ----------------------------------------------------------------

@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_whole_number_refuses_in_one_line_naming_the_source_and_range(text):
    with pytest.raises(NumberError) as caught:
        whole_number(text, "--days", 1, 100)
    message = str(caught.value)
    assert message.startswith("--days=")
    assert "from 1 to 100" in message
    assert "\n" not in message and len(message) < 200


@pytest.mark.parametrize("text, value", [("1", 1), ("100", 100), ("0042", 42),
                                         ("0" * 5000 + "7", 7)])
def test_whole_number_takes_ascii_digits_in_range(text, value):
    assert whole_number(text, "X", 1, 100) == value


@pytest.mark.parametrize("text", ["0", "101"])
def test_whole_number_bounds_are_inclusive_and_enforced(text):
    with pytest.raises(NumberError):
        whole_number(text, "X", 1, 100)


# --- options: a usage error, the last line names the option and the range ---------

def _install(layout, source=OPENSSL_EXAMPLE, name="imapd", bits=1024):
    return layout.install_config(name, source, bits=bits)


def _assert_usage_error(result, status, option):
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.splitlines()[-1]
    assert re.match(rf"mk\w+: error: argument {option}: .* is not a whole number from \d+ to \d+",
                    last), result.stderr


@pytest.mark.parametrize("text", NOT_NUMBERS)
@pytest.mark.parametrize("mode, option, status", [
    ([], "--days", 2),
    (["--check"], "--warn", 3),
    (["--renew"], "--before", 2),
])
def test_bad_numbers_in_options_are_usage_errors(layout, mode, option, status, text):
    _install(layout)
    result = layout.command("mkimapdcert", *mode, f"{option}={text}")
    _assert_usage_error(result, status, option)
    assert layout.listing() == []


@pytest.mark.parametrize("option", ["--days", "--warn", "--before"])
def test_days_options_stop_at_the_year_9999(layout, option):
    """--renew --before 1000000000 was an OverflowError from timedelta."""
    from mkcert.cli.arguments import days_to_the_year_9999

    mode = {"--warn": ["--check"], "--before": ["--renew"]}.get(option, [])
    result = layout.command("mkimapdcert", *mode, option, str(days_to_the_year_9999() + 1))
    _assert_usage_error(result, 3 if mode == ["--check"] else 2, option)


def test_renew_before_a_billion_days_is_a_usage_error_not_an_overflow(layout):
    _install(layout)
    assert layout.command("mkimapdcert", "-q").returncode == 0
    before = (layout.certsdir / "imapd.pem").read_bytes()
    result = layout.command("mkimapdcert", "--renew", "--before", "1000000000")
    _assert_usage_error(result, 2, "--before")
    assert (layout.certsdir / "imapd.pem").read_bytes() == before
    assert layout.listing() == ["imapd.pem"]


@pytest.mark.parametrize("arguments, field, value", [
    (["--check", "--warn", "0"], "warn", 0),
    (["--renew", "--before", "0"], "before", 0),
    (["--renew", "--before", "0030"], "before", 30),
    (["--days", "1"], "days", 1),
])
def test_numbers_in_range_are_taken(arguments, field, value):
    from mkcert.cli.arguments import parse

    assert getattr(parse("mkimapdcert", False, arguments), field) == value


@pytest.mark.parametrize("text", NOT_NUMBERS + ["0", "257"])
def test_bad_jobs_is_a_usage_error(layout, text):
    result = _mkdhparams(layout, "--force", f"--jobs={text}")
    _assert_usage_error(result, 2, "--jobs")
    assert layout.listing() == []


# --- environment: exit 1, one line naming the variable and the range ----------------

def _assert_one_line(result, variable, low, high):
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f": {variable}=" in lines[0] and f"from {low} to {high}" in lines[0], lines[0]


def _mkdhparams(layout, *args, **env):
    full = dict(layout.env, TLS_DHPARAMS=str(layout.certsdir / "dhparams.pem"),
                COURIER_SSLLIB="openssl")
    full.update(env)
    return subprocess.run([sys.executable, os.path.join(BIN, "mkdhparams"), *args], env=full,
                          capture_output=True, text=True, timeout=60)


# An empty variable means "unset" (the default) and a blank DH_BITS is
# stripped, as the shell scripts' unquoted $DH_BITS was: both leave the list.
SET_NOT_NUMBERS = [text for text in NOT_NUMBERS if text.strip()] + ["0", "100000"]


@pytest.mark.parametrize("text", SET_NOT_NUMBERS)
def test_bad_bits_for_a_template_is_one_line(layout, text):
    _install(layout, GNUTLS_EXAMPLE, bits=None)
    result = layout.command("mkimapdcert", env=dict(layout.env, BITS=text))
    _assert_one_line(result, "BITS", 1024, 16384)
    assert layout.listing() == []


@pytest.mark.parametrize("text", SET_NOT_NUMBERS)
def test_bad_bits_for_openssl_esmtpd_dh_is_one_line(layout, text):
    _install(layout, name="esmtpd")
    result = layout.command("mkesmtpdcert", env=dict(layout.env, BITS=text))
    _assert_one_line(result, "BITS", 512, 10000)
    assert layout.listing() == []


@pytest.mark.parametrize("text", SET_NOT_NUMBERS)
def test_bad_dh_bits_is_one_line(layout, text):
    result = _mkdhparams(layout, "--force", DH_BITS=text)
    _assert_one_line(result, "DH_BITS", 512, 10000)
    assert layout.listing() == []


# --- the name dpkg-divert gives Courier's originals ----------------------------------

def test_service_name_from_a_diverted_program_name():
    from mkcert.cli.main import service_from_program

    assert service_from_program("/usr/lib/courier/mkimapdcert.courier") == "imapd"
    assert service_from_program("/usr/sbin/mkpop3dcert.courier") == "pop3d"
    assert service_from_program("mkcouriercert.courier") == "courier"  # multi-call


def test_diversion_names_in_the_debian_package_are_the_ones_understood():
    """preinst diverts to PATH.courier: the suffix the command strips."""
    from mkcert.cli.main import DIVERTED_SUFFIX

    with open(os.path.join(ROOT, "debian", "courier-mkcert.preinst"), encoding="utf-8") as f:
        preinst = f.read()
    assert f'--divert "$1{DIVERTED_SUFFIX}"' in preinst


def test_courier_symlink_kept_by_the_diversion_makes_its_service(layout, tmp_path):
    """Courier's /usr/lib/courier/mkimapdcert.courier -> mkcouriercert, now ours."""
    _install(layout)
    link = tmp_path / "mkimapdcert.courier"
    link.symlink_to(os.path.join(BIN, "mkcouriercert"))
    result = layout.command(str(link), "-q")
    assert result.returncode == 0, result.stderr
    assert layout.listing() == ["imapd.pem"]


# --- --help ---------------------------------------------------------------------------

def _help_sections(text):
    sections, title = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            title = line[:-1]
            sections[title] = []
        elif title is not None:
            sections[title].append(line)
    return {title: "\n".join(lines) for title, lines in sections.items()}


def test_help_lists_install_with_the_installing_options(layout):
    result = layout.command("mkimapdcert", "--help", env=dict(layout.env, COLUMNS="100"))
    assert result.returncode == 0, result.stderr
    sections = _help_sections(result.stdout)
    assert re.search(r"^\s+--install\b", sections["installing a certificate from a CA"], re.M)
    assert not re.search(r"^\s+--install\b", sections["keeping the certificate valid"], re.M)
    assert re.search(r"^\s+--renew\b", sections["keeping the certificate valid"], re.M)


@pytest.mark.parametrize("mode", ["--check", "--renew"])
def test_install_still_excludes_check_and_renew(layout, mode):
    result = layout.command("mkimapdcert", "--install", "--from-certbot", "d", mode)
    assert result.returncode == (3 if mode == "--check" else 2), result.stderr
    assert "not allowed with argument" in result.stderr


# --- manual pages from a checkout -------------------------------------------------------

MAN_PAGES = sorted(name for name in os.listdir(MAN_DIR) if re.fullmatch(r"[\w.-]+\.[1-8]", name))
needs_man = pytest.mark.skipif(shutil.which("man") is None, reason="man-db not installed")


@needs_man
@pytest.mark.parametrize("page", MAN_PAGES)
def test_every_man_page_reads_from_a_checkout_without_warnings(page):
    """As lintian runs man on a page, and as `man -l docs/man/PAGE` does."""
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    result = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                             os.path.join("docs", "man", page)],
                            cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    shown = subprocess.run(["man", "-l", os.path.join("docs", "man", page)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    command = page.rsplit(".", 1)[0]
    assert shown.stderr == "", shown.stderr
    assert re.search(rf"^NAME\n\s+{re.escape(command)}\b.* - ", shown.stdout, re.M), shown.stdout
    assert "SEE ALSO" in shown.stdout


@pytest.mark.skipif(shutil.which("lexgrog") is None, reason="man-db's lexgrog not installed")
@pytest.mark.parametrize("page", MAN_PAGES)
def test_every_man_page_has_a_whatis_entry(page):
    """What mandb (and lintian's bad-whatis-entry) reads from the NAME section."""
    result = subprocess.run(["lexgrog", os.path.join(MAN_DIR, page)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{page.rsplit('.', 1)[0]} - " in result.stdout


def test_the_debian_package_installs_every_man_page():
    with open(os.path.join(ROOT, "debian", "courier-mkcert.manpages"), encoding="utf-8") as f:
        listed = sorted(os.path.basename(line.strip()) for line in f if line.strip())
    assert listed == MAN_PAGES


# --- the README's "Try it" leaves nothing for git to show ----------------------------------

def test_try_it_output_directory_is_ignored_by_git(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    try_it = readme.split("## Try it", 1)[1].split("\n## ", 1)[0]
    certsdir = re.search(r"COURIER_CERTSDIR=(\S+)", try_it).group(1)
    assert not os.path.isabs(certsdir)
    shutil.copy(os.path.join(ROOT, ".gitignore"), tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "-q", "--no-index",
                             f"{certsdir}/imapd.pem"], timeout=60)
    assert result.returncode == 0, f"{certsdir}/ is not in .gitignore"


def test_a_line_breaking_character_in_a_path_stays_in_one_message_line(layout, capsys, monkeypatch):
    """U+0085 (NEL) ends a line for str.splitlines(); a quoted path must not break the message."""
    from mkcert.cli.main import main

    for name, value in layout.env.items():
        if name.startswith("COURIER_"):
            monkeypatch.setenv(name, value)
    status = main(["-c", str(layout.sysconfdir / "no\x85such.cnf")], program="mkimapdcert")
    err = capsys.readouterr().err
    assert status == 1
    assert len(err.splitlines()) == 1 and "no\\x85such.cnf" in err, err
