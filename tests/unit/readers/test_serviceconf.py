"""TLS_CERTFILE and TLS_PRIVATE_KEYFILE from Courier's service configs (mkcert.readers.serviceconf).

The oracle is the shell that sources these files for Courier's daemons:
``sh -c '. FILE; echo "$TLS_CERTFILE"'`` says what Courier gets.
"""

import os
import subprocess

import pytest

from conftest import DEBIAN_COURIER_PACKAGES, debian_package_files
from mkcert.errors import ConfigError, MkcertError
from mkcert.readers.serviceconf import MAX_BYTES, SERVICE_FILES, parse, read_tls_files


def shell_values(path):
    out = subprocess.run(["sh", "-c", '. "$1"; printf "%s\\n%s\\n" "$TLS_CERTFILE" '
                                      '"$TLS_PRIVATE_KEYFILE"', "sh", str(path)],
                         capture_output=True, text=True, check=True, env={}).stdout
    certfile, keyfile = out.split("\n")[:2]
    return certfile or None, keyfile or None


@pytest.mark.parametrize("text", [
    "TLS_CERTFILE=/etc/courier/imapd.pem\n",
    'TLS_CERTFILE="/etc/courier/imapd.pem"\n',
    "TLS_CERTFILE='/etc/courier/my cert.pem'\n",
    "# TLS_CERTFILE=/nope\nTLS_CERTFILE=/a.pem   # the main one\n",
    "TLS_CERTFILE=/a.pem\nTLS_CERTFILE=/b.pem\nTLS_PRIVATE_KEYFILE=/k.pem\n",
    "  TLS_CERTFILE=/indented.pem\n",
    "export TLS_CERTFILE=/exported.pem\n",
    "TLS_CERTFILE=\n",
    "##NAME: TLS_CERTFILE:0\n#TLS_PRIVATE_KEYFILE=/commented.pem\nOTHER=1\n",
    "TLS_CERTFILE=/a#b.pem\n",
])
def test_values_are_what_the_shell_sees(tmp_path, text):
    path = tmp_path / "imapd-ssl"
    path.write_text(text)
    found = parse(text, str(path))
    assert (found.certfile, found.keyfile) == shell_values(path)


@pytest.mark.parametrize("text, words", [
    ("TLS_CERTFILE=$HOME/x.pem\n", "expand"),
    ('TLS_CERTFILE="${X}/x.pem"\n', "expand"),
    ("TLS_CERTFILE=`id`\n", "expand"),
    ("TLS_CERTFILE=/a.pem; rm -rf /\n", "expand"),
    ("TLS_CERTFILE=relative.pem\n", "absolute"),
    ('TLS_CERTFILE="/unterminated\n', "unterminated"),
    ("TLS_PRIVATE_KEYFILE=/a.pem /b.pem\n", "more than one word"),
    ("TLS_CERTFILE=/" + "x" * 5000 + "\n", "absolute"),
])
def test_values_we_cannot_follow_are_errors_with_the_line(text, words):
    with pytest.raises(ConfigError) as raised:
        parse("# first\n" + text, "/etc/courier/imapd-ssl")
    assert words in str(raised.value)
    assert str(raised.value).startswith("/etc/courier/imapd-ssl:2: ")
    assert "\n" not in str(raised.value)


def test_missing_config_means_upstream_behaviour(tmp_path):
    assert read_tls_files(str(tmp_path), "imapd") is None
    assert read_tls_files(str(tmp_path), "testd") is None  # no config for other names


def test_which_file_each_service_reads():
    assert SERVICE_FILES == {"imapd": "imapd-ssl", "pop3d": "pop3d-ssl", "esmtpd": "esmtpd"}


def test_hostile_files_are_refused_in_one_line(tmp_path):
    (tmp_path / "imapd-ssl").write_bytes(b"TLS_CERTFILE=/a\0\n")
    with pytest.raises(ConfigError):
        read_tls_files(str(tmp_path), "imapd")
    (tmp_path / "pop3d-ssl").write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(MkcertError, match="larger than"):
        read_tls_files(str(tmp_path), "pop3d")
    os.mkfifo(tmp_path / "esmtpd")  # nobody writes it: reading must not hang
    with pytest.raises(MkcertError, match="not a regular file"):
        read_tls_files(str(tmp_path), "esmtpd")


def test_symlink_is_followed_like_the_shell_does(tmp_path):
    (tmp_path / "real").write_text("TLS_CERTFILE=/elsewhere.pem\n")
    os.symlink("real", tmp_path / "imapd-ssl")
    assert read_tls_files(str(tmp_path), "imapd").certfile == "/elsewhere.pem"


@pytest.mark.debian
def test_debians_own_configs():
    """Debian's shipped files, read by us and by the shell, give the same answer."""
    root = debian_package_files(DEBIAN_COURIER_PACKAGES)
    etc = os.path.join(root, "etc", "courier")
    seen = {}
    for service, name in SERVICE_FILES.items():
        found = read_tls_files(etc, service)
        assert (found.certfile, found.keyfile) == shell_values(os.path.join(etc, name))
        seen[service] = found.certfile
    assert seen == {"imapd": "/etc/courier/imapd.pem", "pop3d": "/etc/courier/pop3d.pem",
                    "esmtpd": "/etc/courier/esmtpd.pem"}
    # esmtpd-ssl (SMTPS) is read by no service name; Debian's agrees with esmtpd anyway.
    ssl = parse(open(os.path.join(etc, "esmtpd-ssl"), encoding="utf-8").read(), "esmtpd-ssl")
    assert ssl.certfile == seen["esmtpd"]
