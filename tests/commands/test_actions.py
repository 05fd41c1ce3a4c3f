"""The actions called directly: each takes a plan and returns what the command prints.

The commands' own tests (test_cli.py, test_check.py, test_install.py,
test_hook.py, test_mkdhparams.py...) run the whole thing; here the seam
between the two layers is checked: an action prints nothing itself (its
warnings go, as they come, to the ``warn`` or ``log`` it is given), and the
command line prints the outcome it gets back, word for word.
"""

import hashlib
import json
import os
import stat
import syslog

import pytest

import pki
from dane_oracle import strip_fingerprints
from conftest import current_user, data_path
from mkcert.errors import AlreadyExists

LEAF = "O = mkcert tests, CN = mail.example.test"  # tests/support/pki.py's leaf, as openssl names it


def make_plan(layout, name="imapd", **changes):
    from mkcert.actions.make import Plan

    base = str(layout.certsdir / name)
    return Plan(name, base + ".pem", base + ".rand", str(layout.sysconfdir / f"{name}.cnf"),
                current_user(), dict(layout.env, BITS="1024"), **changes)


def certificate_der_in(path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read()).public_bytes(Encoding.DER)


@pytest.fixture
def events(monkeypatch):
    """What happened, in order: each warning told, and the start of each key search."""
    from mkcert.x509 import keys

    happened = []
    real = keys.start_key

    def start_key(*args, **kwargs):
        happened.append("key search")
        return real(*args, **kwargs)

    monkeypatch.setattr(keys, "start_key", start_key)
    return happened


# --- make ------------------------------------------------------------------


def test_make_returns_the_certificate_it_published_and_prints_nothing(layout, capsys, events):
    from mkcert.actions.make import make

    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
    plan = make_plan(layout)
    outcome = make(plan, events.append)
    assert capsys.readouterr() == ("", "")
    assert events == ["key search"]  # the upstream imapd.cnf has nothing to warn about
    assert outcome.message is None
    assert outcome.certificate == certificate_der_in(plan.pem)
    assert not os.path.exists(plan.rand)


def test_make_tells_each_warning_before_the_key_search(layout, capsys, events):
    from mkcert.actions.make import make

    with open(data_path("gnutls", "imapd.cnf"), encoding="utf-8") as handle:
        layout.install_config("imapd", None, text=handle.read() + "!\n")
    make(make_plan(layout), events.append)
    config = layout.sysconfdir / "imapd.cnf"
    assert len(events) == 2 and events[1] == "key search"
    assert events[0].startswith(f"{config}:") and "certtool stops reading the template at '!'" \
        in events[0]
    assert capsys.readouterr() == ("", "")


def test_make_refuses_an_existing_pem_before_reading_the_config(layout, events):
    from mkcert.actions.make import make

    plan = make_plan(layout)  # no imapd.cnf at all: it is never read
    open(plan.pem, "w").close()
    with pytest.raises(AlreadyExists) as raised:
        make(plan, events.append)
    assert str(raised.value) == f"{plan.pem} already exists."
    assert events == []


def der(certificate):
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.public_bytes(Encoding.DER)


def fingerprint_line(certificate_der):
    digest = hashlib.sha1(certificate_der).hexdigest().upper()
    return "SHA1 Fingerprint=" + ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def test_the_command_prints_the_outcome_of_make(layout, capsys, monkeypatch):
    """The warnings at once on stderr, then the message and the certificate's summary."""
    from mkcert.actions import make
    from mkcert.cli import main as cli

    certificate = der(pki.Pki().leaf)
    plans = []

    def fake_make(plan, warn):
        plans.append(plan)
        warn("a warning the config gave")
        return make.Outcome("a line of the action", certificate)

    monkeypatch.setattr(make, "make", fake_make)
    assert cli.main(["--days", "10"], program="mkimapdcert", environ=layout.env) == 0
    out, err = capsys.readouterr()
    assert err == "mkimapdcert: warning: a warning the config gave\n"
    lines = out.splitlines()
    assert lines[:2] == ["a line of the action", f"subject={LEAF}"]
    assert [line.split("=")[0] for line in lines[2:4]] == ["notBefore", "notAfter"]
    assert lines[4:] == [fingerprint_line(certificate)]
    base = str(layout.certsdir / "imapd")
    assert plans == [make.Plan("imapd", base + ".pem", base + ".rand",
                               str(layout.sysconfdir / "imapd.cnf"), current_user(),
                               layout.env, days=10)]
    assert cli.main(["-q"], program="mkimapdcert", environ=layout.env) == 0
    assert capsys.readouterr() == ("", "")


# --- renew -----------------------------------------------------------------


def expiry_of(path):
    from cryptography import x509

    from mkcert.x509.compat import not_valid_after

    with open(path, "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    return f"{not_valid_after(certificate):%Y-%m-%d %H:%M:%S} UTC"


@pytest.fixture
def made(layout, events):
    """A fresh imapd.pem, made by the action from the upstream config."""
    from mkcert.actions.make import make

    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
    plan = make_plan(layout)
    make(plan, events.append)
    events.clear()
    return plan


def test_renew_of_a_pem_not_due_is_one_message(made, capsys, events):
    from mkcert.actions.renew import Plan, renew

    before = open(made.pem, "rb").read()
    outcome = renew(Plan(made), events.append)
    assert outcome.message == (f"{made.pem}: not due for renewal: expires {expiry_of(made.pem)} "
                               f"(364 days left; renewing within 30 days)")
    assert outcome.certificate is None
    assert events == [] and capsys.readouterr() == ("", "")
    assert open(made.pem, "rb").read() == before


def test_renew_tells_the_mode_before_the_key_search_and_returns_the_new_certificate(
        made, capsys, events):
    from mkcert.actions.renew import Plan, renew

    os.chmod(made.pem, 0o644)
    expiry = expiry_of(made.pem)
    outcome = renew(Plan(made, force=True), events.append)
    assert events == [f"{made.pem} was mode 0644; the new one is 0640", "key search"]
    assert outcome.message == (f"{made.pem}: renewed (forced; it expires {expiry}); the "
                               f"previous one is {made.pem}.old")
    assert outcome.certificate == certificate_der_in(made.pem)
    assert stat.S_IMODE(os.stat(made.pem).st_mode) == 0o640
    assert capsys.readouterr() == ("", "")


def test_renew_of_a_missing_pem_is_a_first_run(layout, events):
    from mkcert.actions.renew import Plan, renew

    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
    plan = make_plan(layout)
    outcome = renew(Plan(plan), events.append)
    assert outcome.message is None and outcome.certificate == certificate_der_in(plan.pem)


# --- check -----------------------------------------------------------------


def test_check_returns_the_result_the_command_prints(made, capsys):
    from mkcert.actions.check import Plan, check
    from mkcert.cli import main as cli

    result = check(Plan(made.pem, warn_days=400))
    assert capsys.readouterr() == ("", "")
    assert result.status == 1 and result.state == "WARNING"
    assert strip_fingerprints(result.line(), made.pem) == (
                             f"CERT WARNING - {made.pem}: CN=localhost expires "
                             f"{expiry_of(made.pem)} (364 days); signed with sha1; RSA key "
                             f"of 1024 bits (under 2048); no subjectAltName (clients match "
                             f"names only there)")
    environ = {"COURIER_CERTSDIR": os.path.dirname(made.pem)}
    assert cli.main(["--check", "--warn", "400"], program="mkimapdcert", environ=environ) == 1
    assert capsys.readouterr() == (result.line() + "\n", "")
    assert cli.main(["--check", "--warn", "400", "--json"], program="mkimapdcert",
                    environ=environ) == 1
    assert json.loads(capsys.readouterr().out) == result.as_json()


def test_check_answers_unknown_to_anything_even_an_interrupt(tmp_path, monkeypatch):
    from mkcert.actions import check

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt("^C")

    monkeypatch.setattr(check, "check_pem", interrupted)
    result = check.check(check.Plan(str(tmp_path / "imapd.pem")))
    assert (result.status, result.line()) == (
        3, f"CERT UNKNOWN - {tmp_path / 'imapd.pem'}: check failed: KeyboardInterrupt: ^C")


# --- install ---------------------------------------------------------------


@pytest.fixture
def lineage(tmp_path):
    authority = pki.Pki()
    return authority.write_certbot_lineage(str(tmp_path / "letsencrypt"))


def test_install_returns_the_line_the_command_prints(layout, lineage, capsys):
    from mkcert.actions.install import Plan, install
    from mkcert.cli import main as cli

    pem = str(layout.certsdir / "imapd.pem")
    outcome = install(Plan(pem, current_user(), from_certbot=lineage))
    assert capsys.readouterr() == ("", "")
    assert outcome.changed and outcome.warnings == ()
    assert outcome.line.startswith(f"{pem}: installed {LEAF} (issued by ")
    assert outcome.line.endswith(f"; 1 chain certificate) from {lineage}/privkey.pem, "
                                 f"{lineage}/fullchain.pem")
    again = install(Plan(pem, current_user(), from_certbot=lineage))
    assert not again.changed
    assert cli.main(["--install", "--from-certbot", lineage], program="mkimapdcert",
                    environ=layout.env) == 0
    assert capsys.readouterr() == (again.line + "\n", "")


def test_the_command_prints_the_warnings_of_install_then_its_line(layout, capsys, monkeypatch):
    from mkcert.actions import install
    from mkcert.cli import main as cli

    plans = []

    def fake_install(plan):
        plans.append(plan)
        return install.Outcome(True, "the line", ("first", "second"))

    monkeypatch.setattr(install, "install", fake_install)
    args = ["--install", "--key", "k.pem", "--cert", "c.pem", "--chain", "a.pem",
            "--chain", "b.pem"]
    assert cli.main(args, program="mkpop3dcert", environ=layout.env) == 0
    assert capsys.readouterr() == ("the line\n", "mkpop3dcert: warning: first\n"
                                                 "mkpop3dcert: warning: second\n")
    assert plans == [install.Plan(str(layout.certsdir / "pop3d.pem"), current_user(),
                                  "k.pem", "c.pem", ("a.pem", "b.pem"))]
    assert cli.main(["-q"] + args, program="mkpop3dcert", environ=layout.env) == 0
    assert capsys.readouterr() == ("", "")


# --- the deploy hook --------------------------------------------------------


def test_deploy_logs_as_it_goes_and_returns_what_was_installed(layout, lineage, capsys):
    from mkcert.actions.hook import Plan, deploy

    imapd, pop3d = (str(layout.certsdir / f"{name}.pem") for name in ("imapd", "pop3d"))
    os.symlink(layout.certsdir / "nowhere.pem", pop3d)
    (layout.sysconfdir / "mkcert-install.conf").write_text(
        "imapd mail.example.test\npop3d mail.example.test\nesmtpd other.example.test\n")
    logged = []
    outcome = deploy(Plan(lineage, ("mail.example.test",), layout.env),
                     lambda priority, line: logged.append((priority, line)))
    assert (outcome.installed, outcome.failed) == ((imapd,), (pop3d,))
    assert [priority for priority, _ in logged] == [syslog.LOG_INFO, syslog.LOG_ERR]
    assert logged[0][1].startswith(f"{imapd}: installed {LEAF} ")
    assert logged[1][1].startswith(f"{pop3d}: not installed: ")
    assert all(line.endswith("; certbot renewed mail.example.test") for _, line in logged)
    assert capsys.readouterr() == ("", "")


def test_deploy_with_nothing_to_do_logs_that_and_installs_nothing(layout, lineage):
    from mkcert.actions.hook import Plan, deploy

    config = layout.sysconfdir / "mkcert-install.conf"
    config.write_text("imapd other.example.test\n")
    logged = []
    outcome = deploy(Plan(lineage, (), layout.env), lambda *entry: logged.append(entry))
    assert (outcome.installed, outcome.failed) == ((), ())
    assert logged == [(syslog.LOG_INFO, f"no PEM in {config} takes the certificate "
                                        f"mail.example.test ({lineage}); nothing to install")]
    assert layout.listing() == []


def test_the_hook_exits_1_when_the_outcome_has_a_failure(layout, monkeypatch):
    from mkcert.actions import hook as action
    from mkcert.cli import hook

    plans = []

    def fake_deploy(plan, log):
        plans.append(plan)
        return action.Outcome(failed=("x.pem",) if plan.lineage == "/failing" else ())

    monkeypatch.setattr(hook, "deploy", fake_deploy)
    environ = dict(RENEWED_LINEAGE="/failing", RENEWED_DOMAINS=" a.test  b.test ")
    assert hook.main(environ, print) == 1
    assert hook.main(dict(environ, RENEWED_LINEAGE="/fine"), print) == 0
    assert plans[0] == action.Plan("/failing", ("a.test", "b.test"), environ)


# --- mkdhparams ---------------------------------------------------------------


def test_dhparams_returns_what_it_wrote_and_the_command_says_it_on_a_terminal(
        tmp_path, capsys, monkeypatch):
    from mkcert.actions.dhparams import execute, plan_for
    from mkcert.cli import dhparams as command
    from mkcert.x509.dhparams import named_group_pem

    path = str(tmp_path / "dh.pem")
    environ = {"TLS_DHPARAMS": path, "COURIER_MAILUSER": current_user()}
    outcome = execute(plan_for(environ, group="ffdhe2048"))
    assert (outcome.path, outcome.description) == (path, "RFC 7919 group ffdhe2048")
    assert open(path, "rb").read() == named_group_pem("ffdhe2048")
    assert capsys.readouterr() == ("", "")

    monkeypatch.setattr(command, "_isatty", lambda stream: True)
    monkeypatch.setattr(command.os, "environ", environ)
    assert command.main(["--force", "--named-group", "ffdhe3072"]) == 0
    assert capsys.readouterr().err.endswith(
        f"mkdhparams: wrote {path} (RFC 7919 group ffdhe3072)\n")
