"""--check and the chain after the server's certificate.

A CA-issued Courier PEM is key, leaf, then intermediates (what --install
writes from certbot's files).  The certificates come from tests/support/pki.py's
throw-away root -> intermediate -> leaf; the `openssl` binary is the oracle
for whether each link holds (`openssl verify -partial_chain` with the next
certificate as the only trust anchor) and whether the whole chain verifies,
so the checker is not only compared with itself.
"""

import datetime
import json
import os
import random
import subprocess

import pytest

import pki
from dane_oracle import strip_fingerprints
from mkcert.actions import check as checkmod
from mkcert.actions import check_result

DAY, HOUR = pki.DAY, datetime.timedelta(hours=1)
LEAF_NAME = "O = mkcert tests, CN = mail.example.test"
INTERMEDIATE_NAME = "O = mkcert tests, CN = mkcert test intermediate"
ROOT_NAME = "O = mkcert tests, CN = mkcert test root"


# -- building PEMs -------------------------------------------------------

def leaf_for(issuer, issuer_key, days=90):
    """A leaf issued by ``issuer``, ending ``days`` and an hour from now: an exact day count."""
    return pki.certificate(pki.key("ec"), "mail.example.test", issuer=issuer,
                           issuer_key=issuer_key, not_after=pki.NOW + days * DAY + HOUR)


def intermediate(**dates):
    """The standard intermediate's name, signed by the standard root, with other dates."""
    chain = pki.Pki()
    return pki.certificate(chain.intermediate_key, "mkcert test intermediate",
                           issuer=chain.root, issuer_key=chain.root_key, ca=True, **dates)


def write_pem(path, certificates, key=None, mode=0o600):
    """Courier's layout: the private key, then the certificates in the order given."""
    key = key or pki.key("ec")
    path.write_bytes(pki.key_pem(key) + b"".join(pki.cert_pem(c) for c in certificates))
    os.chmod(path, mode)
    return path


@pytest.fixture
def pem(layout):
    return layout.certsdir / "imapd.pem"


@pytest.fixture
def good():
    """Leaf (90 days) and the intermediate that issued it."""
    chain = pki.Pki()
    return [leaf_for(chain.intermediate, chain.intermediate_key), chain.intermediate]


def run_check(layout, *args):
    result = layout.command("mkimapdcert", "--check", *args)
    assert "Traceback" not in result.stderr
    assert result.stdout.count("\n") == 1
    return result


def run_json(layout, pem):
    result = run_check(layout, "--json", pem)
    report = json.loads(result.stdout)
    assert report["exit_status"] == result.returncode
    return report


def expiry(certificate):
    from mkcert.x509.compat import not_valid_after

    return check_result.format_moment(not_valid_after(certificate))


# -- the openssl oracle --------------------------------------------------

def openssl_verify(directory, certificates, *options):
    """``openssl verify -partial_chain``: the last certificate trusted, middle ones untrusted."""
    files = {}
    for label, group in (("leaf", certificates[:1]), ("untrusted", certificates[1:-1]),
                         ("anchor", certificates[-1:])):
        files[label] = directory / f"oracle-{label}.pem"
        files[label].write_bytes(b"".join(pki.cert_pem(c) for c in group))
    command = ["openssl", "verify", "-partial_chain", *options, "-CAfile", str(files["anchor"])]
    if len(certificates) > 2:
        command += ["-untrusted", str(files["untrusted"])]
    done = subprocess.run(command + [str(files["leaf"])], capture_output=True, text=True)
    return done.returncode == 0


def openssl_links_hold(directory, certificates):
    """Is each certificate verified by the next one alone (dates aside)?  The order matters."""
    return all(openssl_verify(directory, pair, "-no_check_time")
               for pair in zip(certificates, certificates[1:]))


def assert_oracle_agrees(directory, certificates, result):
    assert result.chain_verifies is openssl_links_hold(directory, certificates)


# -- OK ------------------------------------------------------------------

def test_good_chain_is_ok_with_issuer_and_chain_on_the_line(layout, pem, good, tmp_path):
    write_pem(pem, good)
    result = run_check(layout, pem)
    assert result.returncode == 0, result.stdout
    assert strip_fingerprints(result.stdout, pem) == (
        f"CERT OK - {pem}: CN=mail.example.test expires {expiry(good[0])} (90 days); "
        f"issued by CN=mkcert test intermediate (chain of 1 verifies, "
        f"shortest-lived: CN=mail.example.test, 90 days left)\n")
    assert openssl_verify(tmp_path, good)
    assert_oracle_agrees(tmp_path, good, checkmod.check_pem(str(pem)))


def test_good_chain_json_fields(layout, pem, good):
    write_pem(pem, good)
    report = run_json(layout, pem)
    assert (report["status"], report["issuer"]) == ("OK", INTERMEDIATE_NAME)
    entry = report["chain"][0]
    assert entry == {"subject": INTERMEDIATE_NAME, "issuer": ROOT_NAME,
                     "not_before": entry["not_before"], "not_after": entry["not_after"],
                     "days_left": 999, "self_signed": False}  # floored: NOW was a moment ago
    assert datetime.datetime.fromisoformat(entry["not_before"]) == pki.NOW - DAY
    assert datetime.datetime.fromisoformat(entry["not_after"]) == pki.NOW + 1000 * DAY
    assert (report["chain_verifies"], report["shortest_days_left"],
            report["shortest_lived"]) == (True, 90, LEAF_NAME)
    assert report["problems"] == []


def test_chain_up_to_the_root_is_ok_and_the_root_is_self_signed(pem, tmp_path):
    chain = pki.Pki()
    certificates = [leaf_for(chain.intermediate, chain.intermediate_key),
                    chain.intermediate, chain.root]
    write_pem(pem, certificates)
    result = checkmod.check_pem(str(pem))
    assert result.status == check_result.OK, result.line()
    assert [entry.self_signed for entry in result.chain] == [False, True]
    assert "(chain of 2 verifies, " in result.line()
    assert openssl_verify(tmp_path, certificates)
    assert_oracle_agrees(tmp_path, certificates, result)


def test_ca_issued_without_chain_is_ok_and_says_so(layout, pem, good):
    write_pem(pem, good[:1])
    result = run_check(layout, pem)
    assert result.returncode == 0, result.stdout
    assert strip_fingerprints(result.stdout, pem).endswith(
        "(90 days); issued by CN=mkcert test intermediate (no chain)\n")
    report = run_json(layout, pem)
    assert (report["chain"], report["chain_verifies"], report["shortest_days_left"],
            report["shortest_lived"]) == ([], True, 90, LEAF_NAME)


def test_self_signed_line_is_unchanged(layout, pem):
    key = pki.key("ec", slot=7)
    cert = pki.certificate(key, "localhost", not_after=pki.NOW + 200 * DAY + HOUR)
    write_pem(pem, [cert], key=key)
    result = run_check(layout, pem)
    assert (result.returncode, strip_fingerprints(result.stdout, pem)) == (
        0, f"CERT OK - {pem}: CN=localhost expires {expiry(cert)} (200 days)\n")
    report = run_json(layout, pem)
    assert (report["self_signed"], report["chain"], report["chain_verifies"],
            report["shortest_days_left"], report["shortest_lived"]) == (
        True, [], True, 200, "O = mkcert tests, CN = localhost")


# -- CRITICAL: broken links ----------------------------------------------

def test_intermediate_before_the_leaf_is_critical(pem, good, tmp_path):
    certificates = list(reversed(good))  # key, intermediate, leaf
    write_pem(pem, certificates)
    result = checkmod.check_pem(str(pem))
    assert result.status == check_result.CRITICAL
    assert result.chain_verifies is False
    assert (f"certificate 1 ({INTERMEDIATE_NAME}) is issued by {ROOT_NAME}, "
            f"but certificate 2 is {LEAF_NAME}") in [p.text for p in result.problems]
    assert "(chain of 1 does not verify, " in result.line()
    assert not openssl_verify(tmp_path, certificates, "-no_check_time")
    assert_oracle_agrees(tmp_path, certificates, result)


def test_misordered_intermediates_are_critical(pem, tmp_path):
    chain = pki.Pki()
    certificates = [leaf_for(chain.intermediate, chain.intermediate_key),
                    chain.root, chain.intermediate]
    write_pem(pem, certificates)
    result = checkmod.check_pem(str(pem))
    assert result.status == check_result.CRITICAL
    assert [p.text for p in result.problems] == [
        f"certificate 1 ({LEAF_NAME}) is issued by {INTERMEDIATE_NAME}, "
        f"but certificate 2 is {ROOT_NAME}",
        f"certificate 2 ({ROOT_NAME}) is issued by {ROOT_NAME}, "
        f"but certificate 3 is {INTERMEDIATE_NAME}"]
    assert_oracle_agrees(tmp_path, certificates, result)


@pytest.mark.parametrize("wrong", ["same name, other key", "other name"])
def test_wrong_intermediate_is_critical(layout, pem, good, tmp_path, wrong):
    if wrong == "same name, other key":
        stranger = pki.Pki(slot=1).intermediate
        expected = (f"certificate 1 ({LEAF_NAME}): the signature does not verify "
                    f"with the key of certificate 2")
    else:
        other = pki.Pki(slot=1)
        stranger = pki.certificate(other.intermediate_key, "another intermediate",
                                   issuer=other.root, issuer_key=other.root_key, ca=True,
                                   not_after=pki.NOW + 1000 * DAY)
        expected = (f"certificate 1 ({LEAF_NAME}) is issued by {INTERMEDIATE_NAME}, "
                    f"but certificate 2 is O = mkcert tests, CN = another intermediate")
    certificates = [good[0], stranger]
    write_pem(pem, certificates)
    result = run_check(layout, pem)
    assert result.returncode == 2
    assert strip_fingerprints(result.stdout.rstrip("\n"), pem).split("; ")[1:] == [
        "issued by CN=mkcert test intermediate (chain of 1 does not verify, "
        "shortest-lived: CN=mail.example.test, 90 days left)", expected]
    assert run_json(layout, pem)["chain_verifies"] is False
    assert not openssl_verify(tmp_path, certificates, "-no_check_time")
    assert_oracle_agrees(tmp_path, certificates, checkmod.check_pem(str(pem)))


# -- chain dates ---------------------------------------------------------

def test_expired_intermediate_is_critical(layout, pem, tmp_path):
    stale = intermediate(not_before=pki.NOW - 400 * DAY, not_after=pki.NOW - 3 * DAY - HOUR)
    certificates = [leaf_for(stale, pki.Pki().intermediate_key), stale]
    write_pem(pem, certificates)
    report = run_json(layout, pem)
    assert report["status"] == "CRITICAL"
    assert report["problems"] == [
        "certificate 2 (CN=mkcert test intermediate) expired 3 days ago"]
    assert (report["chain_verifies"], report["shortest_days_left"],
            report["shortest_lived"]) == (True, -4, INTERMEDIATE_NAME)
    line = run_check(layout, pem).stdout
    assert "shortest-lived: CN=mkcert test intermediate, expired)" in line
    # openssl: every link holds, but the chain is refused for the date.
    assert openssl_verify(tmp_path, certificates, "-no_check_time")
    assert not openssl_verify(tmp_path, certificates)


def test_intermediate_not_yet_valid_is_critical(pem, tmp_path):
    early = intermediate(not_before=pki.NOW + 2 * DAY, not_after=pki.NOW + 1000 * DAY)
    certificates = [leaf_for(early, pki.Pki().intermediate_key), early]
    write_pem(pem, certificates)
    result = checkmod.check_pem(str(pem))
    assert result.status == check_result.CRITICAL
    assert [p.text for p in result.problems] == [
        "certificate 2 (CN=mkcert test intermediate) is not yet valid: valid from "
        + check_result.format_moment(pki.NOW + 2 * DAY)]
    assert not openssl_verify(tmp_path, certificates)


def test_intermediate_expiring_soon_warns_and_is_the_shortest_lived(layout, pem, tmp_path):
    brief = intermediate(not_after=pki.NOW + 10 * DAY + HOUR)
    certificates = [leaf_for(brief, pki.Pki().intermediate_key), brief]
    write_pem(pem, certificates)
    result = run_check(layout, pem)
    assert result.returncode == 1, result.stdout
    assert strip_fingerprints(result.stdout.rstrip("\n"), pem).split("; ")[1:] == [
        "issued by CN=mkcert test intermediate (chain of 1 verifies, "
        "shortest-lived: CN=mkcert test intermediate, 10 days left)",
        "certificate 2 (CN=mkcert test intermediate) expires in 10 days (warning at 30)"]
    report = run_json(layout, pem)
    assert (report["days_left"], report["shortest_days_left"], report["shortest_lived"]) == (
        90, 10, INTERMEDIATE_NAME)
    assert run_check(layout, "--warn", "5", pem).returncode == 0
    assert openssl_verify(tmp_path, certificates)


def test_the_leafs_own_warning_is_as_before(pem):
    chain = pki.Pki()
    leaf = leaf_for(chain.intermediate, chain.intermediate_key, days=5)
    write_pem(pem, [leaf, chain.intermediate])
    result = checkmod.check_pem(str(pem))
    assert [(p.level, p.text) for p in result.problems] == [
        (check_result.WARNING, "expires in 5 days (warning at 30)")]
    assert result.shortest_days_left == 5 and result.shortest_lived == LEAF_NAME


# -- unreadable chains, never a traceback --------------------------------

def test_unparseable_chain_certificate_is_critical(layout, pem, good):
    garbage = b"-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n"
    write_pem(pem, good)
    pem.write_bytes(pem.read_bytes() + garbage)
    report = run_json(layout, pem)
    assert report["status"] == "CRITICAL"
    assert [p.split(":")[0] for p in report["problems"]] == [
        "certificate 3 of the chain cannot be parsed"]
    assert report["chain"][1] == dict.fromkeys(
        ["subject", "issuer", "not_before", "not_after", "days_left", "self_signed"])
    assert report["chain_verifies"] is None
    assert report["shortest_lived"] == LEAF_NAME  # over what could be read
    assert "(chain of 2 cannot be verified, " in run_check(layout, pem).stdout


def test_every_field_is_there_when_nothing_could_be_read(layout, pem):
    report = run_json(layout, pem)  # no file at all
    assert {key: report[key] for key in
            ("chain", "chain_verifies", "shortest_days_left", "shortest_lived")} == dict.fromkeys(
        ("chain", "chain_verifies", "shortest_days_left", "shortest_lived"))


@pytest.mark.parametrize("seed", range(40))
def test_damaged_chain_never_raises(pem, good, seed):
    """Random damage to the chain part: a state 0-2, one line, JSON-serialisable."""
    write_pem(pem, good)
    data = bytearray(pem.read_bytes())
    start = data.index(b"-----BEGIN CERTIFICATE-----", data.index(b"-----END CERTIFICATE"))
    chooser = random.Random(seed)
    for _ in range(chooser.randint(1, 8)):
        where = chooser.randrange(start, len(data))
        if chooser.random() < 0.2:
            del data[where:]
            data += b"\n-----END CERTIFICATE-----\n"
            break
        data[where] = chooser.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/=\n-")
    pem.write_bytes(bytes(data))
    result = checkmod.check_pem(str(pem))
    assert result.status in (check_result.OK, check_result.WARNING, check_result.CRITICAL)
    assert "\n" not in result.line()
    json.dumps(result.as_json())
    if result.chain_verifies is False or result.chain_verifies is None and result.chain:
        assert result.status == check_result.CRITICAL


def test_renew_still_reads_the_result_and_refuses_a_ca_issued_chain(pem, good):
    import types

    from mkcert.actions import renew
    from mkcert.errors import MkcertError

    write_pem(pem, good)
    current = checkmod.check_pem(str(pem))
    assert (current.certificate, current.self_signed) == (good[0], False)
    assert current.data == pem.read_bytes() and current.stat is not None
    options = types.SimpleNamespace(before=365, force=False)
    with pytest.raises(MkcertError, match=f"issued by {INTERMEDIATE_NAME}, not self-signed"):
        renew.decide(current, options, str(pem))
    assert not renew.decide(current, types.SimpleNamespace(before=30, force=False),
                            str(pem)).due
