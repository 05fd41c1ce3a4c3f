"""mk<NAME>cert end to end: every upstream semantic, done safely."""

import os
import pwd
import signal
import stat
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import BIN, data_path, openssl

UPSTREAM_IMAPD = ("openssl", "imapd.cnf")


def load_pem(path):
    data = open(path, "rb").read()
    key = serialization.load_pem_private_key(data, None)
    certificate = x509.load_pem_x509_certificate(data)
    return data, key, certificate


def public_numbers(key):
    return key.public_key().public_numbers()


@pytest.fixture
def imapd(layout):
    layout.install_config("imapd", data_path(*UPSTREAM_IMAPD), bits=1024)
    return layout


@pytest.mark.parametrize("planted", ["file", "empty-file", "dangling-symlink",
                                     "symlink-to-file", "directory"])
def test_existing_pem_in_any_form_is_refused_untouched(imapd, tmp_path, planted):
    pem = imapd.certsdir / "imapd.pem"
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    if planted == "file":
        pem.write_bytes(b"old pem")
    elif planted == "empty-file":
        pem.touch()
    elif planted == "dangling-symlink":
        pem.symlink_to(tmp_path / "nowhere")
    elif planted == "symlink-to-file":
        pem.symlink_to(victim)
    else:
        pem.mkdir()
    before = imapd.listing()
    result = imapd.command("mkimapdcert")
    assert result.returncode == 1
    assert result.stdout == f"{pem} already exists.\n"
    assert result.stderr == ""
    assert imapd.listing() == before
    assert victim.read_bytes() == b"keep"
    assert not (tmp_path / "nowhere").exists()
    if planted == "file":
        assert pem.read_bytes() == b"old pem"


def test_new_pem_is_key_then_certificate_private_and_alone(imapd):
    result = imapd.command("mkimapdcert")
    assert result.returncode == 0, result.stderr
    pem = imapd.certsdir / "imapd.pem"
    data, key, certificate = load_pem(pem)
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert data.index(b"-----BEGIN CERTIFICATE-----") > data.index(b"-----END PRIVATE KEY-----")
    assert public_numbers(key) == certificate.public_key().public_numbers()
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert imapd.listing() == ["imapd.pem"]  # the .rand file is gone


def test_success_prints_what_openssl_x509_prints(imapd):
    result = imapd.command("mkimapdcert")
    assert result.returncode == 0, result.stderr
    expected = openssl("x509", "-subject", "-dates", "-fingerprint", "-noout",
                       "-in", imapd.certsdir / "imapd.pem").stdout
    assert result.stdout == expected
    # Upstream's imapd.cnf says default_md = sha1 (and the test's 1024 bits):
    # after the summary, one line says so, and nothing else is said.
    config = imapd.sysconfdir / "imapd.cnf"
    lines = open(config).read().splitlines()
    md, bits = lines.index("default_md = sha1") + 1, lines.index("default_bits = 1024") + 1
    assert result.stderr == (
        f"mkimapdcert: warning: {config}:{md}: default_md = sha1: a signature with sha1; "
        f"{config}:{bits}: default_bits = 1024: an RSA key of 1024 bits: --check calls these "
        f"weak; made as the .cnf says, as Courier's script would (set default_md = sha256 and "
        f"default_bits = 2048, or replace it later with --renew --upgrade)\n")


def test_quiet_prints_nothing(imapd):
    result = imapd.command("mkimapdcert", "-q")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_pem_is_owned_by_the_mail_user(imapd):
    daemon = pwd.getpwnam("daemon")
    result = imapd.command("mkimapdcert", "-u", "daemon")
    assert result.returncode == 0, result.stderr
    st = os.stat(imapd.certsdir / "imapd.pem")
    assert st.st_uid == daemon.pw_uid
    # Like upstream's `chown courier`, only the user changes.
    assert st.st_gid == os.getegid()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_mail_user_from_environment(imapd):
    env = dict(imapd.env, COURIER_MAILUSER="daemon")
    assert imapd.command("mkimapdcert", env=env).returncode == 0
    assert os.stat(imapd.certsdir / "imapd.pem").st_uid == pwd.getpwnam("daemon").pw_uid


def test_unknown_mail_user_fails_before_any_file(imapd):
    result = imapd.command("mkimapdcert", "-u", "no-such-user-mkcert")
    assert result.returncode == 1
    assert "unknown mail user 'no-such-user-mkcert'" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert imapd.listing() == []


def test_config_error_names_file_and_line_and_leaves_nothing(layout):
    config = layout.install_config("imapd", None, text=(
        "[ req ]\ndistinguished_name = dn\nprompt = no\n"
        "x509_extensions = ext\n[ dn ]\nCN = x\n[ ext ]\nnoSuchExtension = 1\n"))
    result = layout.command("mkimapdcert")
    assert result.returncode == 1
    assert result.stderr.startswith(f"mkimapdcert: {config}:8: ")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert layout.listing() == []


def test_missing_config_is_one_line(layout):
    result = layout.command("mkimapdcert")
    assert result.returncode == 1
    assert result.stderr == (f"mkimapdcert: cannot read config "
                             f"{layout.sysconfdir}/imapd.cnf: No such file or directory\n")
    assert layout.listing() == []


def test_rand_file_exists_during_key_generation_then_goes(layout):
    layout.install_config("imapd", data_path(*UPSTREAM_IMAPD), bits=4096)
    rand = layout.certsdir / "imapd.rand"
    process = layout.popen("mkimapdcert")
    seen = None
    while process.poll() is None and seen is None:
        try:
            st = os.lstat(rand)
            seen = (stat.S_IMODE(st.st_mode), st.st_size)
        except FileNotFoundError:
            time.sleep(0.001)
    process.communicate(timeout=120)
    assert process.returncode == 0
    assert seen == (0o600, 512)
    assert layout.listing() == ["imapd.pem"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_during_4096_bit_key_generation_cleans_up(layout, signum):
    layout.install_config("imapd", data_path(*UPSTREAM_IMAPD), bits=4096)
    process = layout.popen("mkimapdcert")
    rand = layout.certsdir / "imapd.rand"
    deadline = time.monotonic() + 30
    while not rand.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rand.exists(), "the run never reached key generation"
    time.sleep(0.05)
    started = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the key was ready before the signal arrived")  # pragma: no cover
    assert time.monotonic() - started < 1.0, "the signal waited for the key"
    assert process.returncode == 1
    assert stderr == f"mkimapdcert: interrupted by {signal.Signals(signum).name}\n"
    assert layout.listing() == []


def test_concurrent_runs_make_exactly_one_whole_pem(imapd):
    processes = [imapd.popen("mkimapdcert", "-q") for _ in range(8)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    pem = imapd.certsdir / "imapd.pem"
    for status, stdout, stderr in results:
        if status != 0:
            assert (status, stdout, stderr) == (1, f"{pem} already exists.\n", "")
    _, key, certificate = load_pem(pem)
    assert public_numbers(key) == certificate.public_key().public_numbers()
    assert imapd.listing() == ["imapd.pem"]


def test_service_name_comes_from_program_name(layout, tmp_path):
    layout.install_config("testd", data_path(*UPSTREAM_IMAPD), bits=1024)
    link = tmp_path / "mktestdcert"
    link.symlink_to(os.path.join(BIN, "mkcouriercert"))
    result = layout.command(link, "-q")
    assert result.returncode == 0, result.stderr
    assert layout.listing() == ["testd.pem"]


def test_mkcouriercert_takes_the_name_as_first_argument(imapd):
    assert imapd.command("mkcouriercert", "-q", "imapd").returncode == 0
    assert imapd.listing() == ["imapd.pem"]
    missing = imapd.command("mkcouriercert")
    assert missing.returncode == 2
    assert "NAME" in missing.stderr


@pytest.mark.parametrize("suffix", ["", ".pem"])
def test_pemfile_argument_names_the_output_and_companions(imapd, tmp_path, suffix):
    out = tmp_path / "elsewhere"
    out.mkdir()
    result = imapd.command("mkimapdcert", "-q", out / f"server{suffix}")
    assert result.returncode == 0, result.stderr
    assert os.listdir(out) == ["server.pem"]
    assert imapd.listing() == []
    again = imapd.command("mkimapdcert", out / f"server{suffix}")
    assert again.stdout == f"{out}/server.pem already exists.\n"


def test_config_option_overrides_sysconfdir(layout, tmp_path):
    config = tmp_path / "custom.cnf"
    config.write_text(open(data_path(*UPSTREAM_IMAPD)).read().replace("4096", "1024"))
    result = layout.command("mkpop3dcert", "-q", "--config", config)
    assert result.returncode == 0, result.stderr
    assert layout.listing() == ["pop3d.pem"]


@pytest.mark.parametrize("days", ["0", "-1", "ten", "1.5", "10000000"])
def test_bad_days_is_a_usage_error(imapd, days):
    result = imapd.command("mkimapdcert", f"--days={days}")
    assert result.returncode == 2
    assert "--days" in result.stderr
    assert "Traceback" not in result.stderr
    assert imapd.listing() == []


def test_days_sets_the_validity(imapd):
    assert imapd.command("mkimapdcert", "-q", "--days", "30").returncode == 0
    _, _, certificate = load_pem(imapd.certsdir / "imapd.pem")
    from mkcert.x509.compat import not_valid_after, not_valid_before
    assert (not_valid_after(certificate) - not_valid_before(certificate)).days == 30


def test_default_validity_is_365_days(imapd):
    assert imapd.command("mkimapdcert", "-q").returncode == 0
    _, _, certificate = load_pem(imapd.certsdir / "imapd.pem")
    from mkcert.x509.compat import not_valid_after, not_valid_before
    assert (not_valid_after(certificate) - not_valid_before(certificate)).days == 365


def test_randfile_elsewhere_is_never_written(layout, tmp_path):
    """Unlike OpenSSL, which rewrites it at exit: the key comes from the OS RNG."""
    seed = tmp_path / "seed.rand"
    seed.write_bytes(b"old seed")
    os.chmod(seed, 0o644)
    text = open(data_path(*UPSTREAM_IMAPD)).read().replace("4096", "1024")
    text = text.replace("/etc/courier/imapd.rand", str(seed))
    layout.install_config("imapd", None, text=text)
    assert layout.command("mkimapdcert", "-q").returncode == 0
    assert seed.read_bytes() == b"old seed"
    assert stat.S_IMODE(seed.stat().st_mode) == 0o644


def test_unusable_randfile_never_fails_the_run(layout, tmp_path):
    text = open(data_path(*UPSTREAM_IMAPD)).read().replace("4096", "1024")
    text = text.replace("/etc/courier/imapd.rand", str(tmp_path / "no" / "dir" / "x.rand"))
    layout.install_config("imapd", None, text=text)
    result = layout.command("mkimapdcert", "-q")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "no").exists()


def test_version_and_help(layout):
    from mkcert import __version__
    version = layout.command("mkimapdcert", "--version")
    assert (version.returncode, version.stdout) == (0, f"mkimapdcert {__version__}\n")
    usage = layout.command("mkesmtpdcert", "--help")
    assert usage.returncode == 0 and "PEMFILE" in usage.stdout
    assert layout.listing() == []


def test_template_key_size_and_digest_follow_bits_as_certtool(layout):
    # certtool signs keys of 4096 bits and more with SHA-384.
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    env = dict(layout.env, BITS="4096")
    assert layout.command("mkimapdcert", "-q", env=env).returncode == 0
    _, key, certificate = load_pem(layout.certsdir / "imapd.pem")
    assert key.key_size == 4096
    assert certificate.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.12"


def test_template_default_is_certtool_high(layout):
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    assert layout.command("mkimapdcert", "-q").returncode == 0
    data, key, _ = load_pem(layout.certsdir / "imapd.pem")
    assert key.key_size == 3072
    assert data.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
