"""Private keys: generate one to the request's spec, and lay it out as PEM.

Key generation is OpenSSL's (through cryptography) and dominates the run.
An RSA key is two random primes found by trial: how long the search takes
is itself random, with a long tail (at 4096 bits one key takes 0.3 s, the
next 2 s).  On a machine with a second core we therefore start two
independent searches and keep the key that is ready first: the run then
waits for the *minimum* of two draws, which cuts the median time roughly in
half without changing what a key is or how it is made.  See
:func:`default_racers` and :func:`generate_key`.

The key's PEM and the public key's DER are laid out here too, from the
key's numbers (:func:`private_key_pem`, :func:`public_key_info`).  Writing
the PEM to a file is the caller's: this module only borrows the signal
handling of :mod:`mkcert.system.publish` to keep its child processes
accounted for.
"""

from __future__ import annotations

import os
import select
import signal

# Only the RSA module: cryptography's serialization package (which loads
# the SSH, PKCS#12 and cipher code) is never imported; the key's PEM is laid
# out here (private_key_pem).
from cryptography.hazmat.primitives.asymmetric import rsa

from mkcert.asn1 import der, oids
from mkcert.errors import MkcertError
from mkcert.system.signals import HANDLED_SIGNALS, blocked_signals
from mkcert.request import MAX_RSA_BITS, MIN_RSA_BITS, KeySpec
from mkcert.system.workers import Lifeline, usable_cpus

PUBLIC_EXPONENT = 65537


def default_racers() -> int:
    """How many independent key searches to race: ``min(2, usable CPUs)``.

    * One per usable CPU at most: two searches sharing one core each run at
      half speed, so racing there only adds work.
    * Two at most: most of the gain is in the second draw (the median of the
      minimum of two draws is well below the median of one; a third adds
      little), and the command runs on mail servers at package install time,
      where taking every core for a certificate would be rude.
    * Racing hands the key from a child process to this one, which must load
      it without OpenSSL re-checking the primes: the check costs 36 ms at
      2048 bits and 0.25 s at 4096, about what racing saves.  cryptography
      >= 40 has ``unsafe_skip_rsa_key_validation`` for that; 37 to 39 (Debian
      12 has 38) a switch on their OpenSSL backend (:func:`_load`).  Without
      either there is one search.
    """
    if not _can_skip_validation():
        return 1
    return max(1, min(2, usable_cpus()))


def _can_skip_validation():
    return _cryptography_major() >= 40 or _legacy_backend() is not None


def _cryptography_major():
    import cryptography

    try:
        return int(cryptography.__version__.split(".")[0])
    except ValueError:
        return 0


def _legacy_backend():
    """cryptography 37-39's OpenSSL backend if it has the key-check switch, else None."""
    if _cryptography_major() >= 40:
        return None  # (and no import of the backend module, 3 ms there)
    try:
        from cryptography.hazmat.backends.openssl.backend import backend
    except ImportError:
        return None
    return backend if isinstance(getattr(backend, "_rsa_skip_check_key", None), bool) else None


def check_spec(spec: KeySpec) -> None:
    """Refuse, before any work, a key this module cannot make."""
    if spec.algorithm != "rsa":
        raise MkcertError(f"unsupported key algorithm {spec.algorithm!r}")
    if not MIN_RSA_BITS <= spec.bits <= MAX_RSA_BITS:
        raise MkcertError(
            f"RSA key size {spec.bits} is out of range "
            f"({MIN_RSA_BITS} to {MAX_RSA_BITS} bits)")


def generate_key(spec: KeySpec, racers: int | None = None) -> rsa.RSAPrivateKey:
    """Generate the private key described by a :class:`~mkcert.request.KeySpec`.

    ``racers`` independent searches run at once (default
    :func:`default_racers`) and the first key found is the one returned.

    Either way the main thread only waits, so our signal handlers run at
    once (a SIGTERM during a 4096-bit key must not wait for the primes):

    * one search runs in a worker thread (OpenSSL releases the GIL while it
      searches for primes);
    * several run in forked child processes, each sending its key back over
      a pipe; the first complete key wins and the others are killed and
      reaped at once.  Processes, not threads, because a losing thread
      cannot be stopped: it would have to be abandoned, still inside
      OpenSSL, while the interpreter exits, and with a shared libcrypto
      (Debian's python3-cryptography) OpenSSL's exit-time cleanup then frees
      state under it and the process dies of SIGSEGV *after* writing the
      certificate (seen in about one run in ten).  A killed child costs
      nothing at exit.
    """
    with start_key(spec, racers) as pending:
        return pending.result()


def start_key(spec: KeySpec, racers: int | None = None) -> PendingKey:
    """Start generating a key and return at once, so other work can overlap it.

    Use the result as a context manager; leaving the block stops any search
    still running::

        with start_key(spec) as pending:
            ...                     # e.g. imports, while the primes are searched
            key = pending.result()  # waits, handling signals promptly
    """
    check_spec(spec)
    if racers is None:
        racers = default_racers()
    if racers > 1:
        try:
            return _Race(spec, racers)
        except _CannotFork:
            pass
    return _InThread(spec)


def _generate(spec):
    backend = _legacy_backend()
    if backend is None:
        return rsa.generate_private_key(PUBLIC_EXPONENT, spec.bits)
    # cryptography 37-39 run OpenSSL's full key check on every key they
    # generate (36 ms at 2048 bits, 0.25 s at 4096 with OpenSSL 3.0); a key
    # straight from OpenSSL's own generator gains nothing from it.
    with _key_check_skipped(backend):
        return rsa.generate_private_key(PUBLIC_EXPONENT, spec.bits)


class PendingKey:
    """A key being generated: :meth:`result` waits for it, :meth:`close` stops the search."""

    def __enter__(self) -> PendingKey:
        return self

    def __exit__(self, *exc: object) -> bool:
        self.close()
        return False

    def result(self) -> rsa.RSAPrivateKey:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _InThread(PendingKey):
    """One search in a worker thread of this process."""

    def __init__(self, spec):
        import threading  # only here: racing searches need no thread of this process

        self._result = {}
        self._worker = threading.Thread(target=self._work, args=(spec,),
                                        name="keygen", daemon=True)
        self._worker.start()

    def _work(self, spec):
        try:
            self._result["key"] = _generate(spec)
        except BaseException as exc:  # handed to the main thread in result()
            self._result["error"] = exc

    def result(self) -> rsa.RSAPrivateKey:
        while self._worker.is_alive():
            self._worker.join(0.05)
        if "error" in self._result:
            raise MkcertError(f"key generation failed: {self._result['error']}")
        return self._result["key"]


class _CannotFork(Exception):
    """No child process could be started: generate in this process instead."""


class _Race(PendingKey):
    """Several searches in child processes; the first key wins."""

    def __init__(self, spec, racers):
        self._racing = {}  # read end of a child's pipe -> its pid, or None once reaped
        try:
            self._lifeline = Lifeline()  # the racers end when this process does
        except OSError:
            raise _CannotFork() from None
        try:
            for _ in range(racers):
                # Blocked from before the fork until the child is on record,
                # so no signal can leave a racer unknown to close().
                with blocked_signals() as saved_mask:
                    try:
                        reader, pid = _start_racer(spec, saved_mask, self._lifeline)
                    except OSError:
                        if not self._racing:
                            raise _CannotFork() from None
                        break
                    self._racing[reader] = pid
        except BaseException:
            self.close()
            raise

    def result(self) -> rsa.RSAPrivateKey:
        try:
            return _first_key(self._racing)
        finally:
            self.close()

    def close(self) -> None:
        _stop(self._racing)
        self._lifeline.close()


def _start_racer(spec, saved_mask, lifeline):
    """Fork a child that generates one key and writes its numbers to a pipe.

    Called with our signals blocked: none may reach the child before it has
    dropped our handlers (a handler raising there would unwind the parent's
    stack, cleanup and all, inside the child); the child then restores
    ``saved_mask``.
    """
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        raise
    if pid == 0:
        _racer_child(spec, reader, writer, saved_mask, lifeline)  # never returns
    os.close(writer)
    return reader, pid


def _racer_child(spec, reader, writer, saved_mask, lifeline):
    """The child's whole life; it never returns into the parent's code.

    It writes the key (see :func:`_encode`) and exits 0, or writes why it
    failed and exits 1.
    """
    status = 1
    try:
        os.close(reader)
        # Before the signal mask is restored, so that the lifeline's thread
        # inherits it and every signal goes to this (the main) thread.
        lifeline.hold_in_child()
        for signum in HANDLED_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)  # killed, not interrupted
        signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)
        try:
            data = _encode(_generate(spec).private_numbers())
            status = 0
        except Exception as exc:
            data = str(exc).encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            view = view[os.write(writer, view):]
    except BaseException:
        status = 1
    finally:
        os._exit(status)  # no atexit handlers, no flushing of inherited buffers


def _first_key(racing):
    """Read the pipes until one child has sent a whole key; load and return it."""
    received = {reader: [] for reader in racing}
    pending = set(racing)
    while pending:
        # A handled signal interrupts the wait and raises in this thread.
        ready, _, _ = select.select(list(pending), [], [])
        for reader in ready:
            chunk = os.read(reader, 65536)
            if chunk:
                received[reader].append(chunk)
                continue
            # End of file: the child has exited (or is about to).
            pending.discard(reader)
            _, status = os.waitpid(racing[reader], 0)
            racing[reader] = None
            data = b"".join(received[reader])
            if os.waitstatus_to_exitcode(status) == 0 and data:
                return _load(data)
            failure = data.decode("utf-8", "replace") or f"worker exited with {status}"
    raise MkcertError(f"key generation failed: {failure}")


_NUMBERS = ("p", "q", "d", "dmp1", "dmq1", "iqmp")


def _encode(numbers):
    """The key's numbers as ASCII hex lines (the child's half of the hand-over)."""
    values = [getattr(numbers, name) for name in _NUMBERS]
    values += [numbers.public_numbers.e, numbers.public_numbers.n]
    return "\n".join(f"{value:x}" for value in values).encode("ascii")


def _load(data):
    """The key from :func:`_encode`'s lines (the parent's half)."""
    values = [int(line, 16) for line in data.decode("ascii").split("\n")]
    if len(values) != len(_NUMBERS) + 2:
        raise MkcertError("key generation failed: truncated key from a worker process")
    numbers = rsa.RSAPrivateNumbers(*values[:6], rsa.RSAPublicNumbers(*values[6:]))
    # The key is one OpenSSL has just generated in our own child and handed
    # over a private pipe: re-checking its primes would only burn time.
    try:
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)
    except TypeError:  # cryptography < 40
        pass
    backend = _legacy_backend()
    if backend is None:
        return numbers.private_key()
    with _key_check_skipped(backend):
        return numbers.private_key()


class _key_check_skipped:
    """cryptography 37-39's switch for skipping OpenSSL's RSA key check.

    A backend attribute its own tests use, set only while one key is made or
    loaded (the command has no other thread making or loading keys meanwhile).
    """

    def __init__(self, backend):
        self._backend = backend

    def __enter__(self):
        self._saved = self._backend._rsa_skip_check_key
        self._backend._rsa_skip_check_key = True

    def __exit__(self, *exc):
        self._backend._rsa_skip_check_key = self._saved
        return False


def _stop(racing):
    """Kill and reap every racer still running (the losers); close every pipe.

    No signal may cut this short, and each entry leaves the dict as it is
    done with, so a second call (from ``close()`` after ``result()``) has
    nothing left to close twice.
    """
    with blocked_signals():
        for pid in racing.values():
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while racing:
            reader, pid = racing.popitem()
            if pid is not None:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
            os.close(reader)


def private_key_pem(key: rsa.RSAPrivateKey, spec: KeySpec) -> bytes:
    """The unencrypted key as `openssl req -nodes` or certtool writes it.

    Laid out from the key's numbers rather than by ``key.private_bytes``,
    which imports cryptography's serialization package (its SSH, PKCS#12
    and cipher code, about 10 ms of the command's 60 ms budget).  The bytes
    are the same as ``private_bytes(PEM, PKCS8 or TraditionalOpenSSL,
    NoEncryption())`` writes: tests/unit/x509/test_cert.py compares them on
    both supported stacks.
    """
    rsa_private_key = rsa_private_key_der(key.private_numbers())
    if spec.pem_format == "pkcs1":
        return der.pem(rsa_private_key, "RSA PRIVATE KEY")
    return der.pem(pkcs8_der(rsa_private_key), "PRIVATE KEY")


def rsa_private_key_der(numbers: rsa.RSAPrivateNumbers) -> bytes:
    """PKCS#1 RSAPrivateKey (RFC 8017, A.1.2): version 0, two primes."""
    public = numbers.public_numbers
    values = (0, public.n, public.e, numbers.d, numbers.p, numbers.q,
              numbers.dmp1, numbers.dmq1, numbers.iqmp)
    return der.sequence(*(der.integer(value) for value in values))


def pkcs8_der(rsa_private_key: bytes) -> bytes:
    """PKCS#8 PrivateKeyInfo (RFC 5208) around an RSAPrivateKey, as OpenSSL writes it.

    Version 0, rsaEncryption with NULL parameters, no attributes.
    """
    return der.sequence(der.integer(0), rsa_algorithm_id(), der.octet_string(rsa_private_key))


def rsa_algorithm_id() -> bytes:
    """AlgorithmIdentifier rsaEncryption with NULL parameters (RFC 8017, A.1)."""
    return der.sequence(der.oid(oids.RSA_ENCRYPTION), der.null())


def public_key_info(public_numbers: rsa.RSAPublicNumbers) -> bytes:
    """DER SubjectPublicKeyInfo of an RSA public key, as OpenSSL encodes it.

    ``public_numbers``: cryptography's RSAPublicNumbers.  The same bytes as
    ``public_bytes(DER, SubjectPublicKeyInfo)``, which would import the
    serialization package (tests/unit/x509/test_cert.py compares them).
    """
    rsa_public_key = der.sequence(der.integer(public_numbers.n), der.integer(public_numbers.e))
    return der.sequence(rsa_algorithm_id(), der.bit_string(rsa_public_key))
