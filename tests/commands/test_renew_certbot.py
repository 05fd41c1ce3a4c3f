"""``--renew`` and the renewal timer leave certbot's PEMs to certbot.

A PEM the deploy hook fills (listed in mkcert-install.conf) is due for
renewal at about the time certbot renews it; the daily timer must not fail
in between, but must fail once such a certificate has really expired.
"""

import os

import pki
from test_install import pem_path


def write_config(layout, text):
    path = layout.sysconfdir / "mkcert-install.conf"
    path.write_text(text)
    os.chmod(path, 0o644)
    return path


def install(layout, live):
    result = layout.command("mkimapdcert", "--install", "-q", "--from-certbot", live)
    assert result.returncode == 0, result.stderr


def test_due_certbot_pem_listed_in_the_config_is_left_to_certbot(layout, tmp_path):
    authority = pki.Pki()
    live = authority.write_certbot_lineage(str(tmp_path / "le"))
    install(layout, live)
    write_config(layout, f"imapd {os.path.basename(live)}\n")
    before = pem_path(layout).read_bytes()
    result = layout.command("mkimapdcert", "--renew", "--before", "100")
    assert result.returncode == 0, result.stderr
    assert "certbot renews it (lineage mail.example.test in mkcert-install.conf)" in result.stdout
    assert pem_path(layout).read_bytes() == before
    assert layout.listing() == ["imapd.pem"]


def test_due_ca_pem_not_in_the_config_still_fails(layout, tmp_path):
    authority = pki.Pki()
    install(layout, authority.write_certbot_lineage(str(tmp_path / "le")))
    write_config(layout, "pop3d mail.example.test\n")
    result = layout.command("mkimapdcert", "--renew", "--before", "100")
    assert result.returncode == 1
    assert "not renewing: issued by" in result.stderr


def test_expired_certbot_pem_fails_even_when_listed(layout, tmp_path):
    """certbot did not renew it: the timer's failure is the alarm."""
    authority = pki.Pki(not_before=pki.NOW - 100 * pki.DAY, not_after=pki.NOW - pki.DAY)
    pem_path(layout).write_bytes(pki.key_pem(authority.leaf_key) + pki.cert_pem(authority.leaf)
                                 + pki.cert_pem(authority.intermediate))
    os.chmod(pem_path(layout), 0o600)
    write_config(layout, "imapd mail.example.test\n")
    result = layout.command("mkimapdcert", "--renew")
    assert result.returncode == 1
    assert "not renewing: issued by" in result.stderr


def test_bad_config_is_reported_by_renew(layout, tmp_path):
    install(layout, pki.Pki().write_certbot_lineage(str(tmp_path / "le")))
    config = write_config(layout, "imapd\n")
    result = layout.command("mkimapdcert", "--renew", "--before", "100")
    assert result.returncode == 1
    assert result.stderr.startswith(f"mkimapdcert: {config}:1: ")
