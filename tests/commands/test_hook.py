"""The certbot deploy hook, run as certbot runs it.

certbot runs ``contrib/certbot-deploy-hook`` with ``RENEWED_LINEAGE`` and
``RENEWED_DOMAINS`` set; the hook reads ``SYSCONFDIR/mkcert-install.conf``
and installs the lineage into every PEM listed for it.  The lineages come
from a throw-away CA (tests/support/pki.py) in certbot's live/archive layout, and
what each PEM holds is judged by the ``openssl`` binary.
"""

import os
import pwd
import shutil
import stat
import subprocess
import sys
import syslog

import pytest

import pki
from conftest import ROOT, openssl
from test_install import certificates_in_order
from test_threat_helpers import assert_one_clean_line

HOOK = os.path.join(ROOT, "contrib", "certbot-deploy-hook")
LEAF = "O = mkcert tests, CN = mail.example.test"
INTERMEDIATE = "O = mkcert tests, CN = mkcert test intermediate"
DOMAINS = "mail.example.test imap.example.test"


class Certbot:
    """A certbot config directory with lineages, and the hook run as certbot would."""

    def __init__(self, layout, tmp_path):
        self.layout = layout
        self.directory = str(tmp_path / "letsencrypt")
        self.config = layout.sysconfdir / "mkcert-install.conf"

    def lineage(self, authority, name=None, version=1):
        return authority.write_certbot_lineage(self.directory, lineage=name, version=version)

    def configure(self, text, mode=0o644):
        self.config.write_text(text, encoding="utf-8")
        os.chmod(self.config, mode)

    def deploy(self, live, domains=DOMAINS, env=None):
        env = dict(env or self.layout.env)
        env.pop("RENEWED_LINEAGE", None)
        env.pop("RENEWED_DOMAINS", None)
        if live is not None:
            env["RENEWED_LINEAGE"] = live
        if domains is not None:
            env["RENEWED_DOMAINS"] = domains
        return subprocess.run([sys.executable, HOOK], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    def pem(self, name):
        return self.layout.certsdir / f"{name}.pem"


@pytest.fixture
def certbot(layout, tmp_path):
    return Certbot(layout, tmp_path)


def renewed(authority, slot):
    """The same CA issuing a new leaf for a new key, as a certbot renewal does."""
    authority.leaf_key = pki.key("ec", slot=slot)
    authority.leaf = pki.certificate(authority.leaf_key, authority.domain,
                                     issuer=authority.intermediate,
                                     issuer_key=authority.intermediate_key)
    return authority


def assert_holds(path, authority):
    """openssl reads the key first, it matches the leaf, and leaf then intermediate follow."""
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    key_public = openssl("pkey", "-in", path, "-pubout").stdout
    leaf_public = openssl("x509", "-in", path, "-pubkey", "-noout").stdout
    assert key_public == leaf_public
    expected = authority.leaf.public_key().public_bytes(
        pki.serialization.Encoding.PEM,
        pki.serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert leaf_public == expected
    assert certificates_in_order(path) == [LEAF, INTERMEDIATE]


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def stdout_lines(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout.splitlines()


# --- installing -------------------------------------------------------------


def test_two_pems_take_one_lineage(certbot, layout):
    authority = pki.Pki()
    live = certbot.lineage(authority)
    certbot.configure(f"# PEM  LINEAGE\nimapd  {authority.domain}\npop3d  {live}\n")
    lines = stdout_lines(certbot.deploy(live))
    assert len(lines) == 2
    for line, name in zip(lines, ["imapd", "pop3d"]):
        assert line.startswith(f"{certbot.pem(name)}: installed {LEAF} ")
        assert line.endswith(f"; certbot renewed {DOMAINS}")
        assert_holds(certbot.pem(name), authority)
        assert mode(certbot.pem(name)) == 0o600
    assert layout.listing() == ["imapd.pem", "pop3d.pem"]


def test_new_pem_belongs_to_the_mail_user_and_only_it_can_read(certbot, layout):
    user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    authority = pki.Pki()
    live = certbot.lineage(authority)
    certbot.configure(f"imapd {authority.domain}\n")
    result = certbot.deploy(live, env=dict(layout.env, COURIER_MAILUSER=user))
    stdout_lines(result)
    st = os.lstat(certbot.pem("imapd"))
    assert (st.st_uid, mode(certbot.pem("imapd"))) == (pwd.getpwnam(user).pw_uid, 0o600)


def test_another_lineage_leaves_them_alone(certbot, layout):
    first = pki.Pki()
    second = pki.Pki(domain="other.example.test", slot=1)
    live_first = certbot.lineage(first)
    live_second = certbot.lineage(second)
    certbot.configure(f"imapd {first.domain}\npop3d {first.domain}\n"
                      f"esmtpd {second.domain}\n")
    stdout_lines(certbot.deploy(live_first))
    before = {name: certbot.pem(name).read_bytes() for name in ("imapd", "pop3d")}
    (line,) = stdout_lines(certbot.deploy(live_second, domains=second.domain))
    assert line.startswith(f"{certbot.pem('esmtpd')}: installed ")
    assert line.endswith(f"; certbot renewed {second.domain}")
    assert {name: certbot.pem(name).read_bytes() for name in ("imapd", "pop3d")} == before
    assert layout.listing() == ["esmtpd.pem", "imapd.pem", "pop3d.pem"]
    subjects = certificates_in_order(certbot.pem("esmtpd"))
    assert subjects[0] == "O = mkcert tests, CN = other.example.test"


def test_lineage_without_an_entry_is_not_an_error(certbot, layout):
    authority = pki.Pki()
    live = certbot.lineage(authority)
    certbot.configure("imapd some.other.example\n")
    lines = stdout_lines(certbot.deploy(live))
    assert lines == [f"no PEM in {certbot.config} takes the certificate {authority.domain} "
                     f"({live}); nothing to install"]
    assert layout.listing() == []


def test_lineage_path_matches_through_symlinks(certbot, tmp_path):
    authority = pki.Pki()
    live = certbot.lineage(authority)
    os.symlink(certbot.directory, tmp_path / "le-link")
    certbot.configure(f"imapd {tmp_path}/le-link/live/{authority.domain}/\n")
    (line,) = stdout_lines(certbot.deploy(live))
    assert line.startswith(f"{certbot.pem('imapd')}: installed ")
    assert_holds(certbot.pem("imapd"), authority)


def test_renewal_replaces_keeping_mode_owner_group_and_old(certbot, layout):
    authority = pki.Pki()
    live = certbot.lineage(authority)
    certbot.configure(f"imapd {authority.domain}\n")
    stdout_lines(certbot.deploy(live))
    pem = certbot.pem("imapd")
    first = pem.read_bytes()
    # Debian's postinst makes Courier's PEMs 0640 root:courier.
    owner = (pwd.getpwnam("nobody").pw_uid, 65534) if os.geteuid() == 0 else (
        os.geteuid(), os.getegid())
    os.chown(pem, *owner)
    os.chmod(pem, 0o640)

    live = certbot.lineage(renewed(authority, slot=7), version=2)
    (line,) = stdout_lines(certbot.deploy(live))
    assert line.startswith(f"{pem}: installed {LEAF} ")
    assert f"the previous one is {pem}.old" in line
    assert_holds(pem, authority)
    assert pem.read_bytes() != first
    st = os.lstat(pem)
    assert (st.st_uid, st.st_gid, mode(pem)) == (*owner, 0o640)
    assert (layout.certsdir / "imapd.pem.old").read_bytes() == first
    assert layout.listing() == ["imapd.pem", "imapd.pem.old"]


def test_running_again_changes_nothing(certbot, layout):
    authority = pki.Pki()
    live = certbot.lineage(authority)
    certbot.configure(f"imapd {authority.domain}\n")
    stdout_lines(certbot.deploy(live))
    pem = certbot.pem("imapd")
    before = (pem.read_bytes(), os.lstat(pem).st_ino)
    (line,) = stdout_lines(certbot.deploy(live))
    assert line.startswith(f"{pem}: unchanged, it already holds {LEAF} ")
    assert (pem.read_bytes(), os.lstat(pem).st_ino) == before
    assert layout.listing() == ["imapd.pem"]


# --- refusing ---------------------------------------------------------------


def _mismatched_key(authority, certbot):
    live = certbot.lineage(authority)
    other = pki.key_pem(pki.key("ec", slot=9))
    with open(os.path.realpath(os.path.join(live, "privkey.pem")), "wb") as handle:
        handle.write(other)
    return live


def _expired_leaf(authority, certbot):
    authority.leaf = pki.certificate(authority.leaf_key, authority.domain,
                                     issuer=authority.intermediate,
                                     issuer_key=authority.intermediate_key,
                                     not_before=pki.NOW - 100 * pki.DAY,
                                     not_after=pki.NOW - pki.DAY)
    return certbot.lineage(authority)


def _foreign_intermediate(authority, certbot):
    stranger = pki.Pki(slot=5)
    authority.intermediate = stranger.intermediate
    return certbot.lineage(authority)


def _key_writable_by_others(authority, certbot):
    live = certbot.lineage(authority)
    os.chmod(os.path.realpath(os.path.join(live, "privkey.pem")), 0o666)
    return live


def _no_lineage_directory(authority, certbot):
    live = os.path.join(certbot.directory, "live", authority.domain)
    shutil.rmtree(live)
    return live


@pytest.mark.parametrize("spoil, words", [
    (_mismatched_key, "does not belong to the certificate"),
    (_expired_leaf, "the certificate expired"),
    (_foreign_intermediate, "the chain does not hold"),
    (_key_writable_by_others, "writable by others"),
    (_no_lineage_directory, "not a directory"),
])
def test_bad_sets_are_refused_and_the_pems_kept(certbot, layout, spoil, words):
    good = pki.Pki()
    certbot.configure(f"imapd {good.domain}\npop3d {good.domain}\n")
    stdout_lines(certbot.deploy(certbot.lineage(good)))
    before = {name: certbot.pem(name).read_bytes() for name in ("imapd", "pop3d")}

    bad = renewed(pki.Pki(), slot=8)
    live = spoil(bad, certbot)
    result = certbot.deploy(live)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    for line, name in zip(lines, ["imapd", "pop3d"]):
        assert line.startswith(f"{certbot.pem(name)}: not installed: ")
        assert words in line and line.endswith(f"; certbot renewed {DOMAINS}")
    assert {name: certbot.pem(name).read_bytes() for name in ("imapd", "pop3d")} == before
    assert layout.listing() == ["imapd.pem", "pop3d.pem"]


def test_one_refused_pem_does_not_stop_the_others(certbot, layout, tmp_path):
    authority = pki.Pki()
    live = certbot.lineage(authority)
    target = tmp_path / "elsewhere.pem"
    target.write_bytes(b"not ours\n")
    os.symlink(target, certbot.pem("imapd"))
    missing_dir = tmp_path / "no-such-dir" / "esmtpd.pem"
    certbot.configure(f"imapd {authority.domain}\n{missing_dir} {authority.domain}\n"
                      f"pop3d {authority.domain}\n")
    result = certbot.deploy(live)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"{certbot.pem('imapd')}: not installed: ")
    assert "symbolic link" in errors[0]
    assert errors[1].startswith(f"{missing_dir}: not installed: ")
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{certbot.pem('pop3d')}: installed ")
    assert_holds(certbot.pem("pop3d"), authority)
    assert target.read_bytes() == b"not ours\n"
    assert layout.listing() == ["imapd.pem", "pop3d.pem"]
    assert not missing_dir.parent.exists()


def test_without_renewed_lineage(certbot, layout):
    certbot.configure("imapd a.example\n")
    result = certbot.deploy(None)
    line = assert_one_clean_line(result)
    assert line == "not run by certbot: RENEWED_LINEAGE is not set"
    assert result.stdout == "" and layout.listing() == []


def test_relative_renewed_lineage(certbot, layout):
    certbot.configure("imapd a.example\n")
    line = assert_one_clean_line(certbot.deploy("live/a.example"))
    assert line.startswith("RENEWED_LINEAGE=live/a.example is not an absolute path")
    assert layout.listing() == []


def test_without_config(certbot, layout):
    live = certbot.lineage(pki.Pki())
    line = assert_one_clean_line(certbot.deploy(live))
    assert line.startswith(f"{certbot.config} does not exist: ")
    assert "'imapd mail.example.org'" in line
    assert layout.listing() == []


@pytest.mark.parametrize("text, number, words", [
    ("imapd mail.example.test\npop3d\n", 2, "expected two fields"),
    ("imapd mail.example.test\nimapd.pem mail.example.test\n", 2, "relative path"),
    ("imapd mail.example.test\n\n# x\nimapd other.example\n", 4, "listed twice"),
    ("imapd mail.example.test\nimapd live/mail.example.test\n", 2, "relative path"),
    ("imapd mail.example.test\nim/apd mail.example.test\n", 2, "relative path"),
])
def test_bad_config_names_file_and_line_and_installs_nothing(certbot, layout, text, number,
                                                             words):
    live = certbot.lineage(pki.Pki())
    certbot.configure(text)
    result = certbot.deploy(live)
    line = assert_one_clean_line(result)
    assert line.startswith(f"{certbot.config}:{number}: ") and words in line
    assert result.stdout == "" and layout.listing() == []


def test_config_others_may_change_is_refused(certbot, layout):
    live = certbot.lineage(pki.Pki())
    certbot.configure("imapd mail.example.test\n", mode=0o666)
    line = assert_one_clean_line(certbot.deploy(live))
    assert line.startswith(f"{certbot.config} is writable by others")
    assert layout.listing() == []


def test_config_that_is_a_directory(certbot, layout):
    live = certbot.lineage(pki.Pki())
    certbot.config.mkdir()
    line = assert_one_clean_line(certbot.deploy(live))
    assert str(certbot.config) in line and "directory" in line
    assert layout.listing() == []


# --- logging ----------------------------------------------------------------


def test_main_logs_one_line_per_pem_with_its_priority(certbot, layout, tmp_path):
    from mkcert.cli import hook

    authority = pki.Pki()
    live = certbot.lineage(authority)
    os.symlink(tmp_path / "nowhere.pem", certbot.pem("pop3d"))
    certbot.configure(f"imapd {authority.domain}\npop3d {authority.domain}\n")
    logged = []
    environ = dict(layout.env, RENEWED_LINEAGE=live, RENEWED_DOMAINS=DOMAINS)
    status = hook.main(environ, lambda priority, line: logged.append((priority, line)))
    assert status == 1
    assert [priority for priority, _ in logged] == [syslog.LOG_INFO, syslog.LOG_ERR]
    assert logged[0][1].startswith(f"{certbot.pem('imapd')}: installed {LEAF} ")
    assert logged[1][1].startswith(f"{certbot.pem('pop3d')}: not installed: ")
    assert all(line.endswith(f"; certbot renewed {DOMAINS}") for _, line in logged)


def test_main_logs_a_missing_lineage_as_an_error(layout):
    from mkcert.cli import hook

    logged = []
    assert hook.main(dict(layout.env), lambda *entry: logged.append(entry)) == 1
    assert logged == [(syslog.LOG_ERR, "not run by certbot: RENEWED_LINEAGE is not set")]


@pytest.fixture
def fake_syslog(monkeypatch):
    calls = []
    monkeypatch.setattr(syslog, "openlog", lambda *args: calls.append(("openlog", *args)))
    monkeypatch.setattr(syslog, "syslog", lambda *args: calls.append(("syslog", *args)))
    return calls


def test_lines_go_to_syslog_as_mail_and_to_the_console(fake_syslog, capsys):
    from mkcert.cli import hook

    log = hook.ConsoleAndSyslog()
    log(syslog.LOG_INFO, "/etc/courier/imapd.pem: installed it")
    log(syslog.LOG_ERR, "/etc/courier/pop3d.pem: not installed: no")
    assert fake_syslog == [
        ("openlog", "courier-mkcert", 0, syslog.LOG_MAIL),
        ("syslog", syslog.LOG_INFO, "/etc/courier/imapd.pem: installed it"),
        ("syslog", syslog.LOG_ERR, "/etc/courier/pop3d.pem: not installed: no")]
    out, err = capsys.readouterr()
    assert out == "/etc/courier/imapd.pem: installed it\n"
    assert err == "/etc/courier/pop3d.pem: not installed: no\n"


def test_a_bug_is_one_line_too(fake_syslog, capsys, monkeypatch):
    from mkcert.cli import hook

    def broken(environ, log):
        raise RuntimeError("boom")

    monkeypatch.setattr(hook, "main", broken)
    with pytest.raises(SystemExit) as caught:
        hook.run()
    assert caught.value.code == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "failed: RuntimeError: boom (this is a bug)\n"
    assert fake_syslog[-1] == ("syslog", syslog.LOG_ERR, err.strip())


# --- per-domain targets (SNI) ----------------------------------------------------

def test_per_domain_targets_take_the_lineage_naming_them(certbot):
    authority = pki.Pki(domain="mail.example.test")
    live = certbot.lineage(authority)
    other = certbot.layout.certsdir / "pop3d.pem.example.test"
    certbot.configure("imapd@Mail.Example.Test\n"            # by RENEWED_DOMAINS
                      f"{other} mail.example.test\n"          # an absolute TLS_CERTFILE.NAME
                      "esmtpd@elsewhere.example.test\n")      # not renewed now
    result = certbot.deploy(live, domains="mail.example.test imap.example.test")
    assert result.returncode == 0, result.stderr
    assert_holds(certbot.layout.certsdir / "imapd.pem.mail.example.test", authority)
    assert_holds(other, authority)
    assert sorted(os.listdir(certbot.layout.certsdir)) == [
        "imapd.pem.mail.example.test", "pop3d.pem.example.test"]


def test_a_wildcard_lineage_covers_a_per_domain_target(certbot):
    authority = pki.Pki(domain="mail.example.test")
    live = certbot.lineage(authority, name="example.test")
    certbot.configure("imapd@imap.example.test\n")
    assert certbot.deploy(live, domains="*.example.test example.test").returncode == 0
    assert_holds(certbot.layout.certsdir / "imapd.pem.imap.example.test", authority)
    assert certbot.deploy(live, domains="example.test").returncode == 0  # nothing more


def test_per_domain_target_follows_the_service_config(certbot, tmp_path):
    authority = pki.Pki(domain="mail.example.test")
    live = certbot.lineage(authority)
    tls = tmp_path / "tls"
    tls.mkdir()
    (certbot.layout.sysconfdir / "imapd-ssl").write_text(
        f"TLS_CERTFILE={tls}/chain.pem\nTLS_PRIVATE_KEYFILE={tls}/key.pem\n")
    certbot.configure("imapd@mail.example.test\n")
    result = certbot.deploy(live, domains="mail.example.test")
    assert result.returncode == 0, result.stderr
    key_public = openssl("pkey", "-in", tls / "key.pem.mail.example.test", "-pubout").stdout
    leaf_public = openssl("x509", "-in", tls / "chain.pem.mail.example.test", "-pubkey",
                          "-noout").stdout
    assert key_public == leaf_public


def test_bad_per_domain_target_is_file_and_line(certbot):
    authority = pki.Pki(domain="mail.example.test")
    live = certbot.lineage(authority)
    certbot.configure("# targets\nimapd@a..example.test\n")
    result = certbot.deploy(live)
    assert result.returncode == 1
    assert f"{certbot.config}:2: " in result.stderr
    assert os.listdir(certbot.layout.certsdir) == []
