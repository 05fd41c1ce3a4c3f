"""``--install``: a CA's key, certificate and chain into Courier's PEM.

Every case runs the real command against a throw-away CA (tests/support/pki.py).
What the PEM holds is judged by the ``openssl`` binary: the key it reads
first, the certificates in file order, and ``openssl verify`` of the leaf
through the chain the file carries.
"""

import datetime
import os
import pwd
import shutil
import stat
import subprocess

import pytest

import pki
from conftest import openssl
from test_threat_helpers import assert_one_clean_line, needs_root, wrapped

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def ca(tmp_path):
    """A good certbot lineage and the same material as loose files."""
    authority = pki.Pki(leaf_kind="rsa")
    authority.live = authority.write_certbot_lineage(str(tmp_path / "letsencrypt"))
    return authority


def write(path, data, mode=0o600):
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def loose_files(tmp_path, authority, key_form="pkcs8", key=None, leaf=None, chain=None):
    """KEY, CERT and CHAIN files (CERT holds the leaf alone) in ``tmp_path/in``."""
    directory = tmp_path / "in"
    directory.mkdir(exist_ok=True)
    key_file = write(directory / "key.pem", pki.key_pem(key or authority.leaf_key, key_form))
    cert_file = write(directory / "cert.pem", pki.cert_pem(leaf or authority.leaf), 0o644)
    chain_certs = authority.chain if chain is None else chain
    chain_file = write(directory / "chain.pem",
                       b"".join(pki.cert_pem(c) for c in chain_certs), 0o644)
    return key_file, cert_file, chain_file


def pem_path(layout):
    return layout.certsdir / "imapd.pem"


def certificates_in_order(path):
    """Subjects of the certificates in the file, in order, as openssl reads them."""
    pkcs7 = openssl("crl2pkcs7", "-nocrl", "-certfile", path).stdout
    printed = subprocess.run(["openssl", "pkcs7", "-print_certs", "-noout"], input=pkcs7,
                             capture_output=True, text=True, check=True).stdout
    return [line.split("=", 1)[1].strip() for line in printed.splitlines()
            if line.startswith("subject")]


def assert_pem_serves(path, authority, tmp_path):
    """openssl agrees: key first and matching, leaf then chain, leaf verifies to the root."""
    key_public = openssl("pkey", "-in", path, "-pubout").stdout
    leaf_public = openssl("x509", "-in", path, "-pubkey", "-noout").stdout
    assert key_public == leaf_public
    assert certificates_in_order(path) == [
        "O = mkcert tests, CN = mail.example.test",
        "O = mkcert tests, CN = mkcert test intermediate"]
    root = write(tmp_path / "root.pem", pki.cert_pem(authority.root), 0o644)
    verified = openssl("verify", "-CAfile", root, "-untrusted", path, path, check=False)
    assert verified.returncode == 0 and verified.stdout.strip().endswith("OK"), verified
    assert open(path, "rb").read().startswith(b"-----BEGIN ")


def test_install_from_certbot_lineage(layout, ca, tmp_path):
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"{pem_path(layout)}: installed ")
    assert "CN = mail.example.test" in result.stdout and "1 chain certificate" in result.stdout
    assert_pem_serves(pem_path(layout), ca, tmp_path)
    assert stat.S_IMODE(os.lstat(pem_path(layout)).st_mode) == 0o600
    assert layout.listing() == ["imapd.pem"]


def test_install_from_key_cert_and_chain_files(layout, ca, tmp_path):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    result = layout.command("mkimapdcert", "--install", "--key", key_file, "--cert", cert_file,
                            "--chain", chain_file)
    assert result.returncode == 0, result.stderr
    assert_pem_serves(pem_path(layout), ca, tmp_path)


def test_fullchain_and_chain_together_keep_each_certificate_once(layout, ca, tmp_path):
    live = ca.live
    result = layout.command("mkimapdcert", "--install", "--key", f"{live}/privkey.pem",
                            "--cert", f"{live}/fullchain.pem", "--chain", f"{live}/chain.pem")
    assert result.returncode == 0, result.stderr
    assert_pem_serves(pem_path(layout), ca, tmp_path)


@needs_root
def test_new_pem_belongs_to_the_mail_user_and_is_private(layout, ca):
    env = dict(layout.env, COURIER_MAILUSER="nobody")
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live, env=env)
    assert result.returncode == 0, result.stderr
    st = os.lstat(pem_path(layout))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (NOBODY.pw_uid, 0o600)


@pytest.mark.parametrize("kind, form, label", [
    ("rsa", "traditional", b"RSA PRIVATE KEY"),
    ("rsa", "pkcs8", b"PRIVATE KEY"),
    ("ec", "traditional", b"EC PRIVATE KEY"),
    ("ec384", "pkcs8", b"PRIVATE KEY"),
    ("ed25519", "pkcs8", b"PRIVATE KEY"),
])
def test_key_types_are_accepted_and_keep_their_own_pem_form(layout, tmp_path, kind, form, label):
    authority = pki.Pki(leaf_kind=kind)
    key_file, cert_file, chain_file = loose_files(tmp_path, authority, key_form=form)
    result = layout.command("mkimapdcert", "--install", "--key", key_file, "--cert", cert_file,
                            "--chain", chain_file)
    assert result.returncode == 0, result.stderr
    data = pem_path(layout).read_bytes()
    assert data.startswith(key_file.read_bytes())
    assert data.startswith(b"-----BEGIN " + label + b"-----\n")
    assert_pem_serves(pem_path(layout), authority, tmp_path)


def test_identical_content_changes_nothing(layout, ca):
    first = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert first.returncode == 0, first.stderr
    os.chmod(pem_path(layout), 0o640)
    before = os.lstat(pem_path(layout))
    again = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"{pem_path(layout)}: unchanged")
    after = os.lstat(pem_path(layout))
    assert (after.st_ino, after.st_mtime_ns, after.st_mode) == (
        before.st_ino, before.st_mtime_ns, before.st_mode)
    assert layout.listing() == ["imapd.pem"]  # no .old either


def test_identical_content_with_an_unsafe_mode_is_left_but_named(layout, ca):
    first = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert first.returncode == 0, first.stderr
    os.chmod(pem_path(layout), 0o644)
    again = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout
    assert "warning: its mode 0644 is unsafe for a private key" in again.stdout
    assert stat.S_IMODE(os.lstat(pem_path(layout)).st_mode) == 0o644


def test_quiet_install_prints_nothing(layout, ca):
    result = layout.command("mkimapdcert", "--install", "-q", "--from-certbot", ca.live)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@needs_root
def test_replaced_pem_keeps_mode_owner_group_and_the_old_file(layout, ca, tmp_path):
    old = b"-----BEGIN PRIVATE KEY-----\nold\n-----END PRIVATE KEY-----\n"
    write(pem_path(layout), old, 0o640)
    os.chown(pem_path(layout), 0, NOBODY.pw_gid)
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert result.returncode == 0, result.stderr
    assert f"the previous one is {pem_path(layout)}.old" in result.stdout
    st = os.lstat(pem_path(layout))
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, NOBODY.pw_gid, 0o640)
    old_copy = layout.certsdir / "imapd.pem.old"
    assert old_copy.read_bytes() == old
    assert stat.S_IMODE(os.lstat(old_copy).st_mode) == 0o600
    assert_pem_serves(pem_path(layout), ca, tmp_path)


def test_replaced_pem_loses_permissions_for_others(layout, ca):
    write(pem_path(layout), b"old\n", 0o644)
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert result.returncode == 0, result.stderr
    assert "mode 0644 became 0640" in result.stdout
    assert stat.S_IMODE(os.lstat(pem_path(layout)).st_mode) == 0o640


def test_dh_parameters_of_the_old_pem_are_kept_at_the_end(layout, ca):
    dh = openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                 "dh_param:ffdhe2048").stdout.encode()
    write(pem_path(layout), b"old key and certificate\n" + dh)
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert result.returncode == 0, result.stderr
    data = pem_path(layout).read_bytes()
    assert data.endswith(dh) and data.count(b"DH PARAMETERS-----") == 2
    again = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert "unchanged" in again.stdout


# --- refusals: exit 1, one line, nothing created or changed --------------------------

def assert_refused(layout, result, *contains):
    line = assert_one_clean_line(result, 1, contains)
    assert result.stdout == ""
    return line


def run_files(layout, key_file, cert_file, *chain_files):
    args = ["--install", "--key", key_file, "--cert", cert_file]
    for chain_file in chain_files:
        args += ["--chain", chain_file]
    return layout.command("mkimapdcert", *args)


@pytest.fixture(params=["missing", "existing"])
def prior(request, layout):
    """Whether a PEM exists before the refused install; yields a check it is untouched."""
    if request.param == "existing":
        write(pem_path(layout), b"the old PEM\n", 0o640)
    before = sorted(layout.listing()), (pem_path(layout).read_bytes()
                                        if request.param == "existing" else None)

    def unchanged():
        now = sorted(layout.listing()), (pem_path(layout).read_bytes()
                                         if pem_path(layout).exists() else None)
        assert now == before
    return unchanged


def test_key_of_another_certificate_is_refused(layout, ca, tmp_path, prior):
    other = pki.key("rsa", slot=7)
    key_file, cert_file, chain_file = loose_files(tmp_path, ca, key=other)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "does not belong to the certificate", str(cert_file))
    prior()


@pytest.mark.parametrize("window, words", [
    ((-30, -1), "the certificate expired"),
    ((1, 30), "the certificate is not valid before"),
])
def test_leaf_outside_its_validity_is_refused(layout, tmp_path, window, words, prior):
    now = pki.NOW
    authority = pki.Pki(not_before=now + window[0] * pki.DAY, not_after=now + window[1] * pki.DAY)
    result = run_files(layout, *loose_files(tmp_path, authority))
    assert_refused(layout, result, words)
    prior()


def test_chain_in_the_wrong_order_is_refused(layout, ca, tmp_path, prior):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca, chain=[ca.root, ca.intermediate])
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "the chain does not hold", "is issued by",
                   "mkcert test intermediate")
    prior()


def test_intermediate_of_another_ca_with_the_same_name_is_refused(layout, ca, tmp_path, prior):
    impostor = pki.Pki(slot=3)  # same names, other keys
    key_file, cert_file, chain_file = loose_files(tmp_path, ca, chain=impostor.chain)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "the signature does not verify")
    prior()


def test_expired_intermediate_is_refused(layout, ca, tmp_path, prior):
    stale = pki.certificate(ca.intermediate_key, "mkcert test intermediate", issuer=ca.root,
                            issuer_key=ca.root_key, ca=True, not_before=pki.NOW - 400 * pki.DAY,
                            not_after=pki.NOW - pki.DAY)
    key_file, cert_file, chain_file = loose_files(tmp_path, ca, chain=[stale])
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "chain certificate 2", "expired")
    prior()


def test_chain_verdicts_agree_with_openssl_verify(tmp_path, ca):
    """Our verdict on a chain given in order is ``openssl verify``'s, last certificate trusted.

    openssl sorts the untrusted certificates itself; we demand the order a
    server sends (each issued by the next), so a shuffled chain is where the
    two differ, on purpose.
    """
    from mkcert.x509.chain import chain_breaks

    impostor = pki.Pki(slot=3)
    cases = [  # (chain after the leaf, good by construction)
        ([ca.intermediate, ca.root], True),
        ([ca.intermediate], True),
        (impostor.chain + [impostor.root], False),
        ([ca.root], False),
    ]
    leaf = write(tmp_path / "leaf.pem", pki.cert_pem(ca.leaf), 0o644)
    for chain_certs, good in cases:
        trusted = write(tmp_path / "trusted.pem", pki.cert_pem(chain_certs[-1]), 0o644)
        args = ["verify", "-partial_chain", "-CAfile", trusted]
        if chain_certs[:-1]:
            untrusted = write(tmp_path / "untrusted.pem",
                              b"".join(pki.cert_pem(c) for c in chain_certs[:-1]), 0o644)
            args += ["-untrusted", untrusted]
        assert (openssl(*args, leaf, check=False).returncode == 0) is good, chain_certs
        assert (not chain_breaks([ca.leaf] + chain_certs)) is good, chain_certs
    assert chain_breaks([ca.leaf, ca.root, ca.intermediate])  # openssl would sort it


@pytest.mark.parametrize("mode, words", [
    (0o602, "is writable by others (mode 0602)"),
    (0o620, "is writable by its group (mode 0620)"),
])
@needs_root
def test_key_file_others_can_write_is_refused(layout, ca, tmp_path, mode, words, prior):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    os.chmod(key_file, mode)
    os.chown(key_file, 0, NOBODY.pw_gid)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, f"{key_file} {words}", "not reading a private key")
    prior()


@needs_root
def test_key_file_of_another_user_is_refused(layout, ca, tmp_path, prior):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    os.chown(key_file, NOBODY.pw_uid, -1)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "belongs to user nobody")
    prior()


def test_key_in_a_directory_others_can_write_is_refused(layout, ca, tmp_path, prior):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    os.chmod(key_file.parent, 0o777)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, f"is in {key_file.parent}, which is writable by others")
    prior()


def test_key_in_a_sticky_directory_is_accepted(layout, ca, tmp_path):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    os.chmod(key_file.parent, 0o1777)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert result.returncode == 0, result.stderr


def test_symlinked_key_in_an_unsafe_directory_is_refused(layout, ca, tmp_path, prior):
    """certbot's live/ links: where the link points counts too."""
    unsafe = tmp_path / "unsafe"
    unsafe.mkdir(mode=0o777)
    os.chmod(unsafe, 0o777)
    privkey = os.path.join(ca.live, "privkey.pem")
    target = os.path.realpath(privkey)
    shutil.move(target, unsafe / "privkey1.pem")
    os.unlink(privkey)
    os.symlink(unsafe / "privkey1.pem", privkey)
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert_refused(layout, result, f"is in {unsafe}, which is writable by others")
    prior()


def test_encrypted_key_is_refused(layout, ca, tmp_path, prior):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    write(key_file, pki.key_pem(ca.leaf_key, password=b"secret"))
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "encrypted", "passphrase")
    prior()


@pytest.mark.parametrize("kind", ["dsa", "ed448"])
def test_other_key_types_are_refused(layout, tmp_path, prior, kind):
    from cryptography.hazmat.primitives.asymmetric import dsa, ed448

    key = (dsa.generate_private_key(1024) if kind == "dsa"
           else ed448.Ed448PrivateKey.generate())
    authority = pki.Pki()
    key_file, cert_file, chain_file = loose_files(tmp_path, authority)
    write(key_file, pki.key_pem(key))
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "the private key is", "RSA, ECDSA or Ed25519")
    prior()


@pytest.mark.parametrize("which, content, words", [
    ("key", b"no pem here\n", "no private key in it"),
    ("key", None, "2 private keys in it"),
    ("key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
     "the private key cannot be read"),
    ("cert", b"", "no certificate in it"),
    ("cert", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
     "certificate 1 cannot be read"),
    ("chain", b"garbage\n", "no certificate in it"),
])
def test_unusable_input_files_are_refused(layout, ca, tmp_path, which, content, words, prior):
    files = dict(zip(("key", "cert", "chain"), loose_files(tmp_path, ca)))
    if content is None:
        content = pki.key_pem(ca.leaf_key) * 2
    write(files[which], content)
    result = run_files(layout, files["key"], files["cert"], files["chain"])
    assert_refused(layout, result, str(files[which]), words)
    prior()


@pytest.mark.parametrize("missing", ["privkey.pem", "fullchain.pem"])
def test_incomplete_certbot_lineage_is_refused(layout, ca, missing, prior):
    os.unlink(os.path.join(ca.live, missing))
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert_refused(layout, result, f"{ca.live}/{missing}", "No such file")
    prior()


def test_not_a_certbot_directory_is_refused(layout, tmp_path):
    result = layout.command("mkimapdcert", "--install", "--from-certbot", tmp_path / "nothing")
    assert_refused(layout, result, "not a directory")
    assert layout.listing() == []


@pytest.mark.parametrize("which", ["key", "cert", "chain"])
def test_directory_as_input_is_refused(layout, ca, tmp_path, which):
    files = dict(zip(("key", "cert", "chain"), loose_files(tmp_path, ca)))
    os.unlink(files[which])
    os.mkdir(files[which])
    result = run_files(layout, files["key"], files["cert"], files["chain"])
    assert_refused(layout, result, f"{files[which]}: not a regular file")
    assert layout.listing() == []


def test_fifo_as_input_does_not_hang(layout, ca, tmp_path):
    key_file, cert_file, chain_file = loose_files(tmp_path, ca)
    os.unlink(cert_file)
    os.mkfifo(cert_file)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, "not a regular file")


def test_symlinked_pem_is_refused(layout, ca, tmp_path):
    elsewhere = write(tmp_path / "elsewhere.pem", b"someone else's\n")
    os.symlink(elsewhere, pem_path(layout))
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert_refused(layout, result, "is a symbolic link")
    assert elsewhere.read_bytes() == b"someone else's\n"
    assert os.path.islink(pem_path(layout))


# --- interruption ----------------------------------------------------------------

SIGNAL_DURING_WRITE = """
import os, signal
import mkcert.system.publish as _publish
_real = _publish._write_all
def _write_all(fd, data, path, *rest):
    if "imapd.pem.tmp." in path and b"CERTIFICATE" in bytes(data):
        os.write(fd, bytes(data)[:100])  # half of it written, then the signal
        os.kill(os.getpid(), signal.SIGTERM)
    return _real(fd, data, path, *rest)
_publish._write_all = _write_all
"""


@pytest.mark.parametrize("existing", [False, True])
def test_signal_during_the_write_leaves_the_old_pem_or_none(layout, ca, existing):
    if existing:
        write(pem_path(layout), b"the old PEM\n", 0o640)
    result = wrapped(layout, SIGNAL_DURING_WRITE, "--install", "--from-certbot", ca.live)
    assert_one_clean_line(result, 1, ["interrupted by SIGTERM"])
    if existing:
        assert pem_path(layout).read_bytes() == b"the old PEM\n"
        assert set(layout.listing()) <= {"imapd.pem", "imapd.pem.old"}
    else:
        assert layout.listing() == []
    assert not [n for n in layout.listing() if ".tmp." in n]


def test_install_checks_the_time_it_runs_at():
    """verify() judges validity at ``now``: the same material passes now, fails later."""
    from mkcert.errors import MkcertError
    from mkcert.actions.install import Material, verify

    authority = pki.Pki()
    material = Material(authority.leaf_key, b"", "key.pem",
                        [authority.leaf] + authority.chain, ["cert.pem"])
    verify(material)
    with pytest.raises(MkcertError, match="the certificate expired"):
        verify(material, now=pki.NOW + datetime.timedelta(days=365))


def test_writable_key_behind_a_certbot_link_names_the_real_file(layout, ca, prior):
    privkey = os.path.join(ca.live, "privkey.pem")
    os.chmod(os.path.realpath(privkey), 0o666)
    result = layout.command("mkimapdcert", "--install", "--from-certbot", ca.live)
    assert_refused(layout, result, f"{privkey} (a link to {os.path.realpath(privkey)}) "
                                   f"is writable by others (mode 0666)")
    prior()


def openssl_pss_leaf(tmp_path, authority, signer_key, digest, salt):
    """A leaf for the authority's leaf key, signed with RSA-PSS by ``signer_key`` (openssl)."""
    key_file = write(tmp_path / "leaf.key", pki.key_pem(authority.leaf_key))
    signer_file = write(tmp_path / "signer.key", pki.key_pem(signer_key))
    issuer_file = write(tmp_path / "issuer.pem", pki.cert_pem(authority.intermediate), 0o644)
    csr = tmp_path / "leaf.csr"
    openssl("req", "-new", "-key", key_file, "-subj", "/CN=pss.example.test", "-out", csr)
    leaf = tmp_path / "pss-leaf.pem"
    openssl("x509", "-req", "-in", csr, "-CA", issuer_file, "-CAkey", signer_file,
            "-set_serial", "7", "-days", "30", f"-{digest}",
            "-sigopt", "rsa_padding_mode:pss", "-sigopt", f"rsa_pss_saltlen:{salt}", "-out", leaf)
    assert "rsassaPss" in openssl("x509", "-in", leaf, "-noout", "-text").stdout
    return key_file, leaf, issuer_file


@pytest.mark.parametrize("digest, salt", [("sha256", 32), ("sha384", 48), ("sha512", 20)])
def test_rsa_pss_signed_leaf_verifies_on_every_stack(layout, tmp_path, digest, salt):
    """RSA-PSS parameters come from the DER (cryptography 38 does not expose them)."""
    authority = rsa_intermediate(pki.Pki(leaf_kind="rsa"), 11)
    key_file, leaf, issuer_file = openssl_pss_leaf(tmp_path, authority,
                                                   authority.intermediate_key, digest, salt)
    verified = openssl("verify", "-partial_chain", "-CAfile", issuer_file, leaf, check=False)
    assert verified.returncode == 0, verified
    result = run_files(layout, key_file, leaf, issuer_file)
    assert result.returncode == 0, result.stderr
    check = layout.command("mkimapdcert", "--check", "--json")
    assert '"chain_verifies": true' in check.stdout, check.stdout


def rsa_intermediate(authority, slot):
    """Give ``authority`` an RSA intermediate (same name as ever), so it can sign with PSS."""
    authority.intermediate_key = pki.key("rsa", slot=slot)
    authority.intermediate = pki.certificate(
        authority.intermediate_key, "mkcert test intermediate", issuer=authority.root,
        issuer_key=authority.root_key, ca=True)
    return authority


def test_rsa_pss_signature_by_another_key_is_refused(layout, tmp_path):
    """Signed by an impostor intermediate of the same name; the real one given as chain."""
    real = rsa_intermediate(pki.Pki(leaf_kind="rsa"), 11)
    impostor = rsa_intermediate(pki.Pki(leaf_kind="rsa"), 12)
    key_file, leaf, _ = openssl_pss_leaf(tmp_path, impostor, impostor.intermediate_key,
                                         "sha256", 32)
    chain_file = write(tmp_path / "real-chain.pem", pki.cert_pem(real.intermediate), 0o644)
    result = run_files(layout, key_file, leaf, chain_file)
    assert_refused(layout, result, "the signature does not verify")
    assert layout.listing() == []


def test_certificate_whose_public_key_cannot_be_read(layout, tmp_path, prior):
    """One flipped letter turns the leaf's curve OID into nonsense (found by hypothesis on
    cryptography 38): --install refuses it and --check calls it CRITICAL, in one line."""
    authority = pki.Pki(leaf_kind="ec")
    key_file, cert_file, chain_file = loose_files(tmp_path, authority)
    good = cert_file.read_bytes()
    at = good.index(b"KoZIzj0DAQcDQgAE")  # ...prime256v1, then the BIT STRING
    write(cert_file, good[:at] + b"J" + good[at + 1:], 0o644)
    result = run_files(layout, key_file, cert_file, chain_file)
    assert_refused(layout, result, f"the certificate in {cert_file}",
                   "its public key cannot be read")
    prior()
    pem = write(tmp_path / "damaged.pem", key_file.read_bytes() + cert_file.read_bytes())
    check = layout.command("mkimapdcert", "--check", pem)
    assert check.returncode == 2, check
    assert "Traceback" not in check.stderr and len(check.stdout.splitlines()) == 1
    assert "its public key cannot be read" in check.stdout
