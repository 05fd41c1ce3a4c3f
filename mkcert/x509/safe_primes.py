"""Safe primes as ``openssl dhparam -2`` finds them, one independent search per core.

A safe prime p (p and q = (p-1)/2 both prime) with p = 23 mod 24, so that 2
generates the subgroup of prime order q: what :mod:`mkcert.x509.dhparams`
writes as fresh DH parameters.  Each search runs in a forked worker process
and the first prime found wins; the others are stopped and reaped before
:func:`find_safe_prime` returns.

Why not cryptography's ``dh.generate_parameters(2, bits)``?  It is exactly
OpenSSL's generator, and in cryptography 38 (Debian 12) it is a plain API,
but cryptography 50 deprecates all of finite-field DH: every public name of
``cryptography.hazmat.primitives.asymmetric.dh`` (generate_parameters,
DHParameterNumbers, DHParameters, ...) is wrapped in ``utils.deprecated(...,
DeprecatedIn50)`` and warns "support will be removed in a future release".
A package that must work on both cannot build on it.  Instead each search talks to
libcrypto (the system OpenSSL, which is also what `openssl dhparam` and
Debian's python3-cryptography use) through ctypes for two things only:
Montgomery modular exponentiation for a cheap base-2 Fermat filter, and
``BN_check_prime`` -- OpenSSL's vetted Miller-Rabin test with its own round
counts (error below 2^-128) -- for the final verdict on both q and p.  The
sieve in front of them is plain Python and can only reject candidates, never
accept one, so it cannot weaken the result; it is deeper than OpenSSL's own
(primes up to 2^17..2^22 instead of OpenSSL's first 128-1024 primes), which
is why one search of ours is faster than `openssl dhparam` even before we
run one per core.
cryptography's deprecated generator remains only as a fallback for a system
whose libcrypto cannot be loaded.

Nothing here imports a crypto library at import time; the module is
loaded only when fresh parameters are made.
"""

from __future__ import annotations

import itertools
import os
import signal

from mkcert.system.workers import die_with_parent, usable_cpus

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["GENERATOR", "PROGRESS_INTERVAL", "LibCrypto", "SafePrimeSearch", "find_safe_prime",
           "search_safe_prime"]

SIEVE_LIMIT = 1 << 17  # the smallest sieve, for sizes up to 768 bits
# q = 11 mod 12, hence p = 2q + 1 = 23 mod 24: p = 7 mod 8 (2 is a quadratic
# residue, so g = 2 generates the subgroup of prime order q) and neither q nor
# p is divisible by 2 or 3 -- the congruence `openssl dhparam -2` uses.
STEP = 12
RESIDUE = 11
GENERATOR = 2  # what the congruence is for: the generator written beside p
STOP_GRACE_SECONDS = 2.0
# How often ``progress`` is called while a search (or certtool) runs.
PROGRESS_INTERVAL = 0.2


def sieve_limit(bits: int) -> int:
    """How far to sieve: deeper for larger primes, where each test costs more.

    Striking out with every prime up to B leaves about 1/(ln B)^2 of the
    candidates, while the sieve's own cost grows with the number of primes
    below B (a Python loop per prime and window).  These steps keep the sieve
    well below a tenth of a search's CPU time at each size while still
    cutting the tests (measured on 1024 and 2048 bits: going from 2^17 to
    2^21 leaves 0.68 of the survivors at 2048 bits for 0.1 s of sieving), and
    the tables (built once, before the workers fork) under 0.15 s.
    """
    if bits <= 768:
        return SIEVE_LIMIT
    if bits <= 1024:
        return 1 << 18
    if bits <= 1536:
        return 1 << 19
    if bits <= 2048:
        return 1 << 21
    return 1 << 22


def _small_primes(limit=SIEVE_LIMIT):
    """The odd primes from 5 up to ``limit`` (2 and 3 are handled by STEP)."""
    flags = bytearray([1]) * limit
    flags[0:2] = b"\x00\x00"
    for n in range(2, int(limit ** 0.5) + 1):
        if flags[n]:
            flags[n * n::n] = bytes(len(range(n * n, limit, n)))
    flags[2] = flags[3] = 0
    return list(itertools.compress(range(limit), flags))


class LibCrypto:
    """The few BIGNUM functions of the system libcrypto a search needs."""

    def __init__(self) -> None:
        import ctypes

        lib = _load_libcrypto()
        vp, c_int = ctypes.c_void_p, ctypes.c_int
        for name, restype, argtypes in (
            ("BN_new", vp, []),
            ("BN_free", None, [vp]),
            ("BN_CTX_new", vp, []),
            ("BN_bin2bn", vp, [ctypes.c_char_p, c_int, vp]),
            ("BN_mod_exp", c_int, [vp, vp, vp, vp, vp]),
            ("BN_is_one", c_int, [vp]),
            ("BN_set_word", c_int, [vp, ctypes.c_ulong]),
        ):
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        self._check_prime = getattr(lib, "BN_check_prime", None)  # OpenSSL >= 3.0
        if self._check_prime is not None:
            self._check_prime.restype, self._check_prime.argtypes = c_int, [vp, vp, vp]
        else:  # OpenSSL 1.1: the same test, older name (checks=0: OpenSSL's count)
            self._is_prime_ex = lib.BN_is_prime_ex
            self._is_prime_ex.restype, self._is_prime_ex.argtypes = c_int, [vp, c_int, vp, vp]
        self.lib = lib
        self.ctx = lib.BN_CTX_new()
        self.n, self.exponent, self.result, self.two = (lib.BN_new() for _ in range(4))
        if not all((self.ctx, self.n, self.exponent, self.result, self.two)):
            raise MemoryError("libcrypto: out of memory")
        lib.BN_set_word(self.two, 2)

    def _load(self, bn, value):
        data = value.to_bytes((value.bit_length() + 7) // 8, "big")
        if not self.lib.BN_bin2bn(data, len(data), bn):
            raise MemoryError("libcrypto: out of memory")

    def fermat2(self, n: int) -> bool:
        """2^(n-1) = 1 (mod n): one modular exponentiation, rejects most composites."""
        self._load(self.n, n)
        self._load(self.exponent, n - 1)
        if not self.lib.BN_mod_exp(self.result, self.two, self.exponent, self.n, self.ctx):
            raise MemoryError("libcrypto: BN_mod_exp failed")
        return self.lib.BN_is_one(self.result) == 1

    def is_prime(self, n: int) -> bool:
        """OpenSSL's own primality verdict (Miller-Rabin, OpenSSL's round count)."""
        self._load(self.n, n)
        if self._check_prime is not None:
            return self._check_prime(self.n, self.ctx, None) == 1
        return self._is_prime_ex(self.n, 0, self.ctx, None) == 1


def _load_libcrypto():
    """The system libcrypto (OpenSSL 3: BN_check_prime; 1.1: BN_is_prime_ex)."""
    import ctypes
    import ctypes.util

    names = [ctypes.util.find_library("crypto"), "libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"]
    errors = []
    for name in names:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(str(exc))
            continue
        if hasattr(lib, "BN_check_prime") or hasattr(lib, "BN_is_prime_ex"):
            return lib
    raise OSError("cannot load libcrypto: " + "; ".join(errors or ["not found"]))


def step_inverses(primes: list[int]) -> list[int]:
    return [pow(STEP, -1, r) for r in primes]


class SafePrimeSearch:
    """One search: sieve a window of candidates q = RESIDUE mod STEP, test the survivors.

    A window is ``window`` consecutive candidates from a random start; each
    small prime r strikes out the q with r | q and the q with r | 2q + 1.
    """

    def __init__(self, bits: int, crypto: LibCrypto, primes: list[int] | None = None,
                 window: int | None = None, inverses: list[int] | None = None) -> None:
        self.bits = bits
        self.crypto = crypto
        self.primes = primes if primes is not None else _small_primes(sieve_limit(bits))
        # Inverses of STEP, so the struck-out positions are found by a multiplication.
        self.inverses = inverses if inverses is not None else step_inverses(self.primes)
        self.window = window or max(1 << 12, bits * 64)
        self._ones = bytes(self.window)  # zeros used to strike out

    def random_start(self) -> int:
        """A random q0 = RESIDUE mod STEP such that every p = 2q + 1 of the window has ``bits`` bits."""
        import secrets

        low = 1 << (self.bits - 2)
        high = (1 << (self.bits - 1)) - STEP * self.window - 1
        q0 = low + secrets.randbelow(high - low)
        return q0 - (q0 % STEP) + RESIDUE

    def sieve(self, q0: int) -> bytearray:
        """The offsets k (q = q0 + STEP*k) that no small prime rules out."""
        window = self.window
        flags = bytearray(b"\x01") * window
        zeros = memoryview(self._ones)
        for r, inverse in zip(self.primes, self.inverses):
            m = q0 % r
            for target in (0, (r - 1) // 2):  # r | q, and r | 2q + 1
                k = ((target - m) * inverse) % r
                if k < window:
                    flags[k::r] = zeros[: (window - 1 - k) // r + 1]
        return flags

    def test(self, q: int) -> bool:
        """True if q and p = 2q + 1 are both prime (cheap filters first)."""
        p = 2 * q + 1
        crypto = self.crypto
        return crypto.fermat2(p) and crypto.fermat2(q) and crypto.is_prime(q) and crypto.is_prime(p)

    def run(self) -> int:
        """Search until a safe prime is found; return p."""
        while True:
            q0 = self.random_start()
            flags = self.sieve(q0)
            k = flags.find(1)
            while k != -1:
                q = q0 + STEP * k
                if self.test(q):
                    return 2 * q + 1
                k = flags.find(1, k + 1)


def _cryptography_search(bits):
    """Fallback without a loadable libcrypto: OpenSSL's generator via cryptography (deprecated in 50)."""
    import warnings

    from cryptography.hazmat.primitives.asymmetric import dh

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dh.generate_parameters(GENERATOR, bits).parameter_numbers().p


def search_safe_prime(bits: int, primes: list[int] | None = None,
                      inverses: list[int] | None = None) -> int:
    """One complete search in this process (what each worker runs)."""
    try:
        crypto = LibCrypto()
    except (OSError, AttributeError):
        return _cryptography_search(bits)
    return SafePrimeSearch(bits, crypto, primes, inverses=inverses).run()


# --- running one search per core -------------------------------------------


def _worker(bits, connection, parent_pid, primes, inverses):
    """One search in a forked process; sends ("ok", p) or ("error", message) to the parent.

    A signal ends a worker quietly (default action, no KeyboardInterrupt
    traceback); the parent has its own handlers and decides what the run
    does.  The parent forked us with those signals blocked: unblock them only
    once the default actions are in place.
    """
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for signum in handled:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, handled)
    die_with_parent(parent_pid)
    try:
        answer = ("ok", search_safe_prime(bits, primes, inverses))
    except Exception as exc:  # reported by the parent in one line, never as a traceback
        answer = ("error", f"{type(exc).__name__}: {exc}")
    try:
        connection.send(answer)
    except OSError:
        pass  # the parent has gone or no longer listens
    finally:
        connection.close()


def find_safe_prime(bits: int, jobs: int | None = None,
                    progress: Callable[[], object] | None = None) -> int:
    """Run ``jobs`` independent searches in worker processes; return the first p found.

    The other workers are stopped and reaped before this returns or raises
    (including when a signal raises :class:`~mkcert.errors.Interrupted` here),
    so no process outlives the call.
    """
    import multiprocessing
    import multiprocessing.connection

    from mkcert.errors import MkcertError

    jobs = usable_cpus() if not jobs else max(1, int(jobs))
    # The sieve's tables are computed once, here, and inherited by the forked workers.
    primes = _small_primes(sieve_limit(bits))
    inverses = step_inverses(primes)
    context = multiprocessing.get_context("fork")
    workers, readers, failures = [], [], []
    try:
        for _ in range(jobs):
            readers.append(_start_worker(context, workers, (bits, os.getpid(), primes, inverses)))
        pending = list(readers)
        while pending:
            for reader in multiprocessing.connection.wait(pending, timeout=PROGRESS_INTERVAL):
                pending.remove(reader)
                try:
                    status, value = reader.recv()
                except (EOFError, OSError):  # the worker died without an answer
                    continue
                if status == "ok":
                    return value
                failures.append(value)
            if progress is not None:
                progress()
        _stop(workers)  # reaped, so that their exit statuses are known
        detail = failures[0] if failures else "exit status " + ", ".join(str(w.exitcode) for w in workers)
        raise MkcertError(f"DH parameter search failed ({detail})")
    finally:
        _stop(workers)
        for reader in readers:
            reader.close()


def _start_worker(context, workers, args):
    """Fork one search; return the end of its pipe to read the answer from."""
    from mkcert.errors import MkcertError
    from mkcert.system.signals import blocked_signals

    bits, parent, primes, inverses = args
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_worker, args=(bits, writer, parent, primes, inverses), daemon=True)
    try:
        # Signals wait until the worker is on the list that _stop() reaps.
        with blocked_signals():
            process.start()
            workers.append(process)
    except OSError as exc:
        reader.close()
        raise MkcertError(f"cannot start a search process: {exc.strerror or exc}") from None
    finally:
        writer.close()
    return reader


def _stop(workers):
    """Terminate and reap every worker; no signal may cut this short."""
    from mkcert.system.signals import blocked_signals

    with blocked_signals():
        for process in workers:
            if process.pid is not None and process.exitcode is None:
                try:
                    process.terminate()
                except OSError:
                    pass
        for process in workers:
            if process.pid is None:
                continue
            process.join(STOP_GRACE_SECONDS)
            if process.exitcode is None:
                process.kill()
                process.join()
