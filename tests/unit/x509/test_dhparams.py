"""mkcert.x509.dhparams and safe_primes: encodings checked against OpenSSL, and the safe-prime search itself."""

import multiprocessing
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from mkcert.x509 import dhparams, safe_primes
from mkcert.system import workers
from mkcert.errors import MkcertError


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def parse_pkcs3(pem):
    """(p, g) from a PEM, by asn1parse (independent of our encoder)."""
    out = openssl("asn1parse", data=pem).decode()
    values = [int(line.rsplit(":", 1)[1], 16) for line in out.splitlines() if "INTEGER" in line]
    return values


def openssl_is_prime(n):
    return b"is prime" in openssl("prime", str(n))


@pytest.mark.parametrize("name", dhparams.NAMED_GROUPS)
def test_named_group_is_byte_identical_to_openssl_genpkey(name):
    expected = openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{name}")
    assert dhparams.named_group_pem(name) == expected


def test_named_group_names_are_case_insensitive():
    assert dhparams.named_group_pem("FFDHE2048") == dhparams.named_group_pem("ffdhe2048")


@pytest.mark.parametrize("name", ["ffdhe1024", "modp2048", "", "ffdhe"])
def test_unknown_named_group_is_an_error(name):
    with pytest.raises(MkcertError):
        dhparams.named_group_pem(name)


def test_e_fixed_point():
    # e = 2.718281828459045235360287471352662497757... ; 2^64 * e:
    assert dhparams._e_fixed_point(64) == 50143449209799256682
    assert dhparams._e_fixed_point(0) == 2


@pytest.mark.parametrize("p", [dhparams.rfc7919_prime(2048), 0xFFFFFFFB, (1 << 1023) + 1])
def test_encoding_is_what_openssl_dhparam_writes(p):
    """`openssl dhparam -in X` re-encodes what it reads: our bytes must survive unchanged."""
    ours = dhparams.pkcs3_pem(p)
    assert openssl("dhparam", "-in", "/dev/stdin", data=ours) == ours
    assert parse_pkcs3(ours) == [p, 2]


@pytest.mark.parametrize("bits", [512, 1024])
def test_generated_parameters_pass_openssl_dhparam_check(bits):
    pem = dhparams.generate_dh_params_pem(bits, jobs=2)
    assert pem.startswith(b"-----BEGIN DH PARAMETERS-----\n")
    check = subprocess.run(["openssl", "dhparam", "-check", "-noout"], input=pem, capture_output=True)
    assert check.returncode == 0, check.stderr
    assert b"appear to be ok" in check.stderr
    p, g = parse_pkcs3(pem)
    assert g == 2
    assert p.bit_length() == bits
    assert p % 24 == 23
    assert openssl_is_prime(p) and openssl_is_prime((p - 1) // 2)
    assert openssl("dhparam", "-in", "/dev/stdin", data=pem) == pem


def test_no_worker_outlives_the_search():
    safe_primes.find_safe_prime(512, jobs=3)
    assert multiprocessing.active_children() == []


def test_single_job():
    p = safe_primes.find_safe_prime(512, jobs=1)
    assert p.bit_length() == 512 and openssl_is_prime(p) and openssl_is_prime(p // 2)


def test_search_in_process_and_cryptography_fallback():
    p = safe_primes.search_safe_prime(512)
    assert openssl_is_prime(p) and openssl_is_prime(p // 2)
    p = safe_primes._cryptography_search(512)
    assert p.bit_length() == 512 and openssl_is_prime(p) and openssl_is_prime(p // 2)


@pytest.mark.parametrize("bits", [0, 100, 511, "x", None, 20000])
def test_bad_sizes_are_refused(bits):
    with pytest.raises(MkcertError):
        dhparams.check_bits(bits)


@pytest.fixture(scope="module")
def crypto():
    return safe_primes.LibCrypto()


@pytest.fixture(scope="module")
def primes():
    return safe_primes._small_primes()


def test_small_primes(primes):
    assert primes[:6] == [5, 7, 11, 13, 17, 19]
    assert primes[-1] == 131071  # the largest prime below 2^17 (a Mersenne prime)
    assert len(primes) == 12251 - 2


def test_libcrypto_primality(crypto):
    assert crypto.is_prime(dhparams.rfc7919_prime(2048))
    assert crypto.is_prime((dhparams.rfc7919_prime(2048) - 1) // 2)
    # 341 and the Carmichael number 561 fool the base-2 Fermat filter
    # (341 is a base-2 pseudoprime); OpenSSL's test must not be fooled.
    assert crypto.fermat2(341) and crypto.fermat2(561)
    assert not crypto.is_prime(341) and not crypto.is_prime(561)
    assert not crypto.is_prime(dhparams.rfc7919_prime(2048) * 3)
    assert crypto.is_prime(2**127 - 1) and not crypto.is_prime(2**128 + 1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**64))
def test_sieve_strikes_exactly_the_multiples(crypto, primes, seed):
    """A survivor has no small factor in q or 2q+1; a struck candidate has one."""
    search = safe_primes.SafePrimeSearch(256, crypto, primes[:200], window=4096)
    q0 = (2**254 + seed * 7919) // 12 * 12 + 11
    flags = search.sieve(q0)
    small = primes[:200]
    for k in range(0, 4096, 7):
        q = q0 + 12 * k
        divisible = any(q % r == 0 or (2 * q + 1) % r == 0 for r in small)
        assert flags[k] == (0 if divisible else 1)


def test_random_start_keeps_the_window_inside_the_size(crypto, primes):
    search = safe_primes.SafePrimeSearch(512, crypto, primes)
    for _ in range(50):
        q0 = search.random_start()
        assert q0 % 12 == 11
        assert (2 * q0 + 1).bit_length() == 512
        assert (2 * (q0 + 12 * search.window) + 1).bit_length() == 512


def test_usable_cpus_follows_affinity():
    assert workers.usable_cpus() == len(os.sched_getaffinity(0))


def _failing_search(bits, primes=None, inverses=None):
    raise MemoryError("libcrypto: out of memory")


def test_worker_failure_is_one_error_not_a_traceback(monkeypatch, capfd):
    monkeypatch.setattr(safe_primes, "search_safe_prime", _failing_search)  # inherited by the fork
    with pytest.raises(MkcertError, match="out of memory"):
        safe_primes.find_safe_prime(512, jobs=2)
    assert "Traceback" not in capfd.readouterr().err
    assert multiprocessing.active_children() == []


def test_worker_dying_silently_is_an_error(monkeypatch):
    monkeypatch.setattr(safe_primes, "search_safe_prime", lambda *args: os._exit(7))
    with pytest.raises(MkcertError, match="exit status 7, 7"):
        safe_primes.find_safe_prime(512, jobs=2)


def test_fork_failure_is_an_error(monkeypatch):
    def refuse(self):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refuse)
    with pytest.raises(MkcertError, match="cannot start a search process: Resource temporarily unavailable"):
        safe_primes.find_safe_prime(512, jobs=2)


def test_the_encodings_and_groups_load_no_search_code():
    """mkdhparams --help, a fresh file and --named-group load dhparams, not the search."""
    code = ("import sys\nfrom mkcert.x509 import dhparams\ndhparams.named_group_pem('ffdhe2048')\n"
            "print(*sorted(m for m in sys.modules if m.startswith('mkcert.')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.stdout.split() == ["mkcert.asn1", "mkcert.asn1.der", "mkcert.errors",
                                     "mkcert.x509", "mkcert.x509.dhparams"]
