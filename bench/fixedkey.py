"""Run a mk*cert script with timers around key generation and signing.

For bench/overhead.py only; never installed, never used by the command.

    python bench/fixedkey.py SCRIPT [ARGS...]

With ``MKCERT_BENCH_FIXED_KEY=FILE`` (a DER PKCS#8 RSA key), key generation
is replaced by loading that key, so the run's time is the command's own
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


def main():
    script, args = sys.argv[1], sys.argv[2:]
    spent = {"keygen": 0.0, "certificate": 0.0}
    fixed = os.environ.get("MKCERT_BENCH_FIXED_KEY")

    # Wrapping needs the modules imported now instead of when the command
    # first needs them; the total import work is the same.
    import mkcert.cert
    import mkcert.keys

    real_generate = mkcert.keys.generate_key
    real_build = mkcert.cert.build_certificate

    def generate_key(spec, *rest, **options):
        start = time.perf_counter()
        try:
            if fixed:
                from cryptography.hazmat.primitives import serialization

                with open(fixed, "rb") as handle:
                    data = handle.read()
                try:
                    key = serialization.load_der_private_key(
                        data, None, unsafe_skip_rsa_key_validation=True)
                except TypeError:  # cryptography < 40 (its check is timed here too)
                    key = serialization.load_der_private_key(data, None)
                if key.key_size != spec.bits:
                    raise SystemExit(f"fixed key has {key.key_size} bits, run wants {spec.bits}")
                return key
            return real_generate(spec, *rest, **options)
        finally:
            spent["keygen"] += time.perf_counter() - start

    def build_certificate(*a, **k):
        start = time.perf_counter()
        try:
            return real_build(*a, **k)
        finally:
            spent["certificate"] += time.perf_counter() - start

    mkcert.keys.generate_key = generate_key
    mkcert.cert.build_certificate = build_certificate

    sys.argv = [script, *args]
    status = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        status = exc.code
    report = dict(spent, entered=ENTERED, finished=time.monotonic(),
                  modules=len(sys.modules))
    with open(os.environ["MKCERT_BENCH_REPORT"], "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
