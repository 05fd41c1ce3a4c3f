"""Several domains (SNI) under hostile input: service configs, names, links and odd files.

Whatever the input, a run answers in one line (or exits cleanly), never
with a traceback, writes nothing it should not, and never writes through
a link planted at a per-domain name.
"""

import os

import pytest

from test_threat_helpers import assert_one_clean_line, install_imapd, mode


@pytest.fixture
def imapd(layout):
    install_imapd(layout)
    layout.env["COURIER_COURIERTLS"] = "/nonexistent/couriertls"
    return layout


@pytest.mark.parametrize("text", [
    "TLS_CERTFILE=`touch pwned`\n",
    "TLS_CERTFILE=$(id)\n",
    'TLS_CERTFILE="/etc/courier/x.pem"; rm -rf /\n',
    "TLS_CERTFILE=/a\x1b[31m.pem\n",
    "TLS_PRIVATE_KEYFILE=key.pem\n",
    "TLS_CERTFILE='/never/closed\n",
])
def test_hostile_service_config_values_stop_every_mode(imapd, text):
    (imapd.sysconfdir / "imapd-ssl").write_text(text)
    for args, status in (((), 1), (("--renew",), 1), (("--domain", "a.example"), 1),
                         (("--which", "a.example"), 1), (("--check",), 3)):
        result = imapd.command("mkimapdcert", *args)
        assert_one_clean_line(result, status=status)
        assert str(imapd.sysconfdir / "imapd-ssl") in result.stderr
    assert imapd.listing() == []


def test_service_config_that_never_ends_is_refused(imapd):
    os.symlink("/dev/zero", imapd.sysconfdir / "imapd-ssl")
    assert_one_clean_line(imapd.command("mkimapdcert"), status=1)
    assert imapd.listing() == []


def test_huge_service_config_is_refused(imapd):
    with open(imapd.sysconfdir / "imapd-ssl", "wb") as handle:
        handle.truncate(64 << 20)  # sparse: 64 MiB of NULs
    result = imapd.command("mkimapdcert")
    assert_one_clean_line(result, status=1, contains=("larger than",))


@pytest.mark.parametrize("name", ["a\nb.example", "\u2028.example", "x" * 100000,
                                  "..", "xn--zz.example", "a.example/../../etc/passwd"])
def test_hostile_domain_names(imapd, name):
    result = imapd.command("mkimapdcert", "--domain", name)
    assert_one_clean_line(result, status=1)
    assert imapd.listing() == []


@pytest.mark.parametrize("name", ["a\nb", "\u2028", "x" * 100000, "a/../../etc", ".", "::ffff:"])
def test_which_takes_any_name_without_a_traceback(imapd, name):
    result = imapd.command("mkimapdcert", "--which", name, "--local-ip", name)
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr


def test_symlink_at_a_domain_name_is_never_written_through(imapd, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(victim, imapd.certsdir / "imapd.pem.a.example")
    result = imapd.command("mkimapdcert", "--domain", "a.example")
    assert result.returncode == 1 and "already exists" in result.stdout
    result = imapd.command("mkimapdcert", "--renew", "--force", "--domain", "a.example")
    assert_one_clean_line(result, status=1, contains=("symbolic link",))
    assert victim.read_text() == "precious"


def test_check_of_a_sibling_that_is_a_fifo_or_directory(imapd):
    assert imapd.command("mkimapdcert", "-q").returncode == 0
    os.mkfifo(imapd.certsdir / "imapd.pem.fifo.example")  # nobody writes it
    os.mkdir(imapd.certsdir / "imapd.pem.dir.example")
    result = imapd.command("mkimapdcert", "--check", timeout=60)
    assert result.returncode == 2
    assert len(result.stdout.splitlines()) == 3
    assert "Traceback" not in result.stderr


def test_a_new_separate_key_is_private_from_its_first_instant(imapd):
    certfile, keyfile = imapd.certsdir / "chain.pem", imapd.certsdir / "key.pem"
    (imapd.sysconfdir / "imapd-ssl").write_text(
        f"TLS_CERTFILE={certfile}\nTLS_PRIVATE_KEYFILE={keyfile}\n")
    env = dict(imapd.env)
    result = imapd.command("mkimapdcert", "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert mode(keyfile) == 0o600 and mode(certfile) == 0o600
    keyfile.unlink()
    result = imapd.command("mkimapdcert")
    assert result.returncode == 1 and "already exists" in result.stdout
