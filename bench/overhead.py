#!/usr/bin/env python3
"""The command's own overhead: everything but key generation and signing.

Runs our mkimapdcert (through bench/fixedkey.py) in a scratch layout:

* ``fixed`` runs load a key generated beforehand instead of generating one,
  so wall time minus the time spent building (signing) the certificate is
  the overhead: interpreter start-up, imports, argument parsing, reading the
  config, the seed file, publishing, the report, exit;
* ``real`` runs generate the key as usual; they show the key generation
  time and how long the process takes to exit after the command returns
  (with racing key generation the losing search must not delay it);
* the cheap paths: ``--help``, ``--version``, "already exists" and a bare
  ``python -c pass``.

Every time is a whole process around ``time.perf_counter``/``monotonic`` in
this harness; nothing is asserted.  The pre-generated key exists only here:
the command itself has no way to be handed a key.

    python3 bench/overhead.py [--case openssl-4096|openssl-2048|certtool] [--runs N]
    python3 bench/overhead.py --case openssl-2048 --variant before=VENV1 --variant after=VENV2
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402  (bench/compare.py: layouts and cases)

FIXEDKEY = os.path.join(HERE, "fixedkey.py")


def ms(seconds):
    return f"{seconds * 1000:7.1f} ms"


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(command, env, cwd, expect=0, cpu=None):
    """Wall time of one process; its CPU time (user + system) goes into ``cpu``."""
    cpu_before = children_cpu()
    start = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if cpu is not None:
        cpu.append(children_cpu() - cpu_before)
    if result.returncode != expect:
        sys.stderr.write(result.stderr.decode(errors="replace"))
        raise SystemExit(f"{command} exited {result.returncode}, expected {expect}")
    return elapsed


def instrumented(python, script, env, cwd, report):
    env = dict(env, MKCERT_BENCH_REPORT=report)
    cpu = []
    started = time.monotonic()
    wall(python + [FIXEDKEY, script], env, cwd, cpu=cpu)
    ended = time.monotonic()
    with open(report, encoding="utf-8") as handle:
        data = json.load(handle)
    return {
        "wall": ended - started,
        "startup": data["entered"] - started,
        "exit": ended - data["finished"],
        "keygen": data["keygen"],
        "certificate": data["certificate"],
        "overhead": ended - started - data["keygen"] - data["certificate"],
        # CPU time of the process (and of any racers it forked and reaped):
        # steadier than wall time when other work shares the machine.
        "cpu": cpu[0],
        "modules": data["modules"],
    }


def make_key(bits, directory):
    """A key for the fixed-key runs, as hex numbers (what bench/fixedkey.py reads).

    Not DER: loading DER would import cryptography's serialization package
    inside the timed key loading, hiding it if the command imports it too.
    """
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(65537, bits).private_numbers()
    values = [numbers.p, numbers.q, numbers.d, numbers.dmp1, numbers.dmq1, numbers.iqmp,
              numbers.public_numbers.e, numbers.public_numbers.n]
    path = os.path.join(directory, f"fixed-{bits}.hex")
    with open(path, "w", encoding="ascii") as handle:
        handle.write("\n".join(f"{value:x}" for value in values))
    return path


def show(title, rows, fields):
    print(f"{title} ({len(rows)} runs), median [min .. max]; load {os.getloadavg()[0]:.2f}:")
    for field in fields:
        values = [r[field] for r in rows]
        print(f"  {field:<12}{ms(statistics.median(values))}  "
              f"[{ms(min(values)).strip()} .. {ms(max(values)).strip()}]")


def _variant(text):
    """``LABEL=VENV``: VENV/bin/python running VENV/bin/mkimapdcert."""
    label, _, venv = text.partition("=")
    if not label or not venv:
        raise SystemExit(f"--variant wants LABEL=VENV, not {text!r}")
    return label, os.path.join(venv, "bin", "python"), os.path.join(venv, "bin", "mkimapdcert")


def _alternated(variants, runs, layout, env, report):
    """``runs`` instrumented runs of each variant, taking turns run by run.

    Taking turns (in an order reversed every round) exposes every variant
    to the same drift in the machine's load, which on a shared machine is
    larger than the differences measured.
    """
    rows = {label: [] for label, _, _ in variants}
    for round_number in range(runs):
        order = variants if round_number % 2 == 0 else variants[::-1]
        for label, python, script in order:
            layout.clean()
            rows[label].append(instrumented([python], script, env, layout.root, report))
    return rows


def cheap_paths(python, script, env, cwd, runs, label):
    cheap = {"python -c pass": (python + ["-c", "pass"], 0),
             "python -I -S -c pass": (python + ["-I", "-S", "-c", "pass"], 0),
             "--help": (python + [script, "--help"], 0),
             "--version": (python + [script, "--version"], 0),
             "already exists": (python + [script], 1)}
    print(f"{label}: cheap paths ({runs} runs), median:")
    results = {}
    for name, (command, expect) in cheap.items():
        cpu = []
        times = [wall(command, env, cwd, expect, cpu) for _ in range(runs)]
        results[name] = {"wall": times, "cpu": cpu}
        print(f"  {name:<22}{ms(statistics.median(times))} wall, "
              f"{ms(statistics.median(cpu)).strip()} CPU")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default="openssl-4096", choices=sorted(compare.CASES))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--real-runs", type=int, default=10)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter to run the command with (default this one)")
    parser.add_argument("--script", default=None,
                        help="the mkimapdcert script (default the installed one)")
    parser.add_argument("--variant", action="append", metavar="LABEL=VENV",
                        help="measure VENV/bin/mkimapdcert under VENV/bin/python; repeat "
                             "to compare installs, run by run in turns (instead of "
                             "--python/--script)")
    parser.add_argument("--configs", default=compare.CONFIGS)
    parser.add_argument("--json", help="write every measurement here")
    parser.add_argument("--nice", type=int, default=-20)
    options = parser.parse_args(argv)
    niceness = compare.raise_priority(options.nice)

    if options.variant:
        variants = [_variant(text) for text in options.variant]
    else:
        variants = [("ours", options.python, options.script or compare.default_ours()[-1])]
    layout = compare.Layout(options.case, options.configs)
    env = layout.env()
    scratch = tempfile.mkdtemp(prefix="mkcert-overhead-")
    report = os.path.join(scratch, "report.json")
    results = {}
    try:
        key = make_key(layout.expected_bits, scratch)
        for label, python, script in variants:
            print(f"{options.case}: {label}: {python} {script}; niceness {niceness}")

        fixed_env = dict(env, MKCERT_BENCH_FIXED_KEY=key)
        for label, python, script in variants:  # warm the caches, untimed
            layout.clean()
            instrumented([python], script, fixed_env, layout.root, report)
        fixed = _alternated(variants, options.runs, layout, fixed_env, report)
        real = _alternated(variants, options.real_runs, layout, env, report)
        for label, python, script in variants:
            results[label] = {"fixed": fixed[label], "real": real[label]}
            prefix = f"{label}: " if len(variants) > 1 else ""
            show(prefix + "pre-generated key", fixed[label],
                 ["wall", "startup", "certificate", "overhead", "exit", "cpu"])
            if real[label]:
                show(prefix + "real key generation", real[label],
                     ["wall", "keygen", "certificate", "overhead", "exit", "cpu"])

        with open(layout.pem, "w", encoding="ascii") as handle:
            handle.write("x")
        for label, python, script in variants:
            results[label]["cheap"] = cheap_paths([python], script, env, layout.root,
                                                  options.runs, label)
    finally:
        layout.remove()
        for name in os.listdir(scratch):
            os.unlink(os.path.join(scratch, name))
        os.rmdir(scratch)
    if len(variants) == 1:
        results = results[variants[0][0]]
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
