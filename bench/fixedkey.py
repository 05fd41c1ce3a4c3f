"""Run a mk*cert script with timers around key generation and signing.

For bench/overhead.py only; never installed, never used by the command.

    python bench/fixedkey.py SCRIPT [ARGS...]

With ``MKCERT_BENCH_FIXED_KEY=FILE`` (an RSA key's numbers p, q, d, dmp1,
dmq1, iqmp, e, n as hex lines, from bench/overhead.py), key generation is
replaced by loading that key with cryptography's RSA module alone (loading
DER would import the serialization package here, and hide it from the
overhead if the command imports it as well), so the run's time is the command's own
overhead plus signing.  Without it the real key generation runs and is
timed.  On exit one JSON line goes to the file named by
``MKCERT_BENCH_REPORT``: CLOCK_MONOTONIC instants (comparable with the
harness's ``time.monotonic()``) and the seconds spent generating the key and
building (signing) the certificate.
"""

import json
import os
import runpy
import sys
import time

ENTERED = time.monotonic()  # the interpreter is up and site has run

# The checkout, for a Python where the package is not installed.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _when_imported(name, patch):
    """Call ``patch(module)`` right after ``name`` is first imported."""
    import importlib.util

    class Finder:
        @staticmethod
        def find_spec(fullname, path=None, target=None):
            if fullname != name:
                return None
            sys.meta_path.remove(Finder)
            spec = importlib.util.find_spec(fullname)
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder)


def main():
    script, args = sys.argv[1], sys.argv[2:]
    spent = {"keygen": 0.0, "certificate": 0.0}
    fixed = os.environ.get("MKCERT_BENCH_FIXED_KEY")

    # mkcert.x509.keys (which loads only cryptography's RSA module) is wrapped
    # now; mkcert.x509.certificate (the X.509 layer) when the command imports it, so that
    # an import the command overlaps with the key search stays overlapped.
    import importlib

    # the layered package, or an install from before the layers (bench
    # --variant compares the two): the same functions under older names
    try:
        keys = importlib.import_module("mkcert.x509.keys")
        certificate_module = "mkcert.x509.certificate"
    except ImportError:
        keys = importlib.import_module("mkcert.keys")
        certificate_module = "mkcert.cert"

    real_generate = keys.generate_key
    real_build = []

    def load_fixed(spec):
        from cryptography.hazmat.primitives.asymmetric import rsa

        with open(fixed, encoding="ascii") as handle:
            values = [int(line, 16) for line in handle.read().split()]
        numbers = rsa.RSAPrivateNumbers(*values[:6], rsa.RSAPublicNumbers(*values[6:]))
        try:
            key = numbers.private_key(unsafe_skip_rsa_key_validation=True)
        except TypeError:  # cryptography < 40 (its check is timed here too)
            key = numbers.private_key()
        if key.key_size != spec.bits:
            raise SystemExit(f"fixed key has {key.key_size} bits, run wants {spec.bits}")
        return key

    class Pending:
        """start_key()'s result, timed: the wait in result() counts as keygen."""

        def __init__(self, spec, inner):
            self.spec, self.inner = spec, inner

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            if self.inner is not None:
                return self.inner.__exit__(*exc)
            return False

        def result(self):
            start = time.perf_counter()
            try:
                return load_fixed(self.spec) if self.inner is None else self.inner.result()
            finally:
                spent["keygen"] += time.perf_counter() - start

    real_start = getattr(keys, "start_key", None)

    def start_key(spec, *rest, **options):
        return Pending(spec, None if fixed else real_start(spec, *rest, **options))

    def generate_key(spec, *rest, **options):
        if not fixed and real_start is not None:
            # It waits through start_key(), which is timed below.
            return real_generate(spec, *rest, **options)
        start = time.perf_counter()
        try:
            return load_fixed(spec) if fixed else real_generate(spec, *rest, **options)
        finally:
            spent["keygen"] += time.perf_counter() - start

    def build_certificate(*a, **k):
        start = time.perf_counter()
        try:
            return real_build[0](*a, **k)
        finally:
            spent["certificate"] += time.perf_counter() - start

    def wrap_cert(module):
        real_build.append(module.build_certificate_der)
        module.build_certificate_der = build_certificate

    _when_imported(certificate_module, wrap_cert)

    keys.generate_key = generate_key
    if real_start is not None:
        keys.start_key = start_key

    # A script that ends with os._exit (skipping the interpreter's teardown)
    # still gets its report written, and then exits the same way.
    real_exit = os._exit
    fast_exit = []

    def _exit(status):
        fast_exit.append(status)
        raise SystemExit(status)

    os._exit = _exit
    sys.argv = [script, *args]
    status = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        status = exc.code
    finally:
        os._exit = real_exit
    report = dict(spent, entered=ENTERED, finished=time.monotonic(),
                  modules=len(sys.modules))
    with open(os.environ["MKCERT_BENCH_REPORT"], "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    sys.stdout.flush()
    if fast_exit:
        sys.stderr.flush()
        real_exit(fast_exit[0])
    return status


if __name__ == "__main__":
    sys.exit(main())
