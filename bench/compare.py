#!/usr/bin/env python3
"""Time our mkimapdcert against the pipelines it replaces, on this machine.

Each case makes imapd.pem in a scratch Courier layout, alternating one run
of ours with one run of the original pipeline (the order flips every pair,
so a drift in machine load hits both sides alike), removing the PEM between
runs.  Every run is a whole process timed with ``time.perf_counter``; each
PEM is checked afterwards (key size, certificate present) outside the timed
region.  RSA key generation time is random, so only medians over many pairs
mean anything.

Cases (``--case``, repeatable; default: all five):

* ``openssl-4096``: tests/data/openssl/imapd.cnf, in the shape of upstream's
  imapd.cnf (default_bits = 4096, sha1), vs bench/pipelines/openssl-mkcert.sh
  (upstream's OpenSSL build);
* ``openssl-2048``: the same file with default_bits = 2048;
* ``certtool``: tests/data/gnutls/imapd.cnf, in the shape of Debian 12's
  imapd.cnf (a certtool template; BITS unset, so sec-param high = 3072-bit
  RSA), vs bench/pipelines/debian-mkcouriercert.sh;
* ``openssl-ec`` and ``certtool-ec``: the same files with ``--key-type ec``
  (P-256), vs the same pipelines with ``openssl req -newkey ec`` and
  ``certtool --generate-privkey --key-type ecdsa`` (the ``-ec.sh`` ones).

Usage::

    python3 bench/compare.py                       # all cases, default run counts
    python3 bench/compare.py --case openssl-2048 --pairs 30
    python3 bench/compare.py --json /tmp/bench.json --markdown

Nothing here is a test: timings are reported, never asserted.
"""

import argparse
import json
import os
import platform
import pwd
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONFIGS = os.path.join(ROOT, "tests", "data")
PIPELINES = os.path.join(HERE, "pipelines")

CASES = {
    # name: (config, bits to force or None, expected key bits, pipeline, default pairs)
    "openssl-4096": ("openssl/imapd.cnf", None, 4096, "openssl-mkcert.sh", 15),
    "openssl-2048": ("openssl/imapd.cnf", 2048, 2048, "openssl-mkcert.sh", 30),
    "certtool": ("gnutls/imapd.cnf", None, 3072, "debian-mkcouriercert.sh", 30),
    # key bits: an EC key's size is its curve's (256 for P-256)
    "openssl-ec": ("openssl/imapd.cnf", None, 256, "openssl-mkcert-ec.sh", 30),
    "certtool-ec": ("gnutls/imapd.cnf", None, 256, "debian-mkcouriercert-ec.sh", 30),
}
# Our options for a case, beyond the plain command line.
OUR_OPTIONS = {"openssl-ec": ["--key-type", "ec"], "certtool-ec": ["--key-type", "ec"]}


def default_ours():
    """The installed console script beside this Python, else bin/mkimapdcert."""
    installed = os.path.join(os.path.dirname(sys.executable), "mkimapdcert")
    if os.path.exists(installed):
        return [installed]
    return [sys.executable, os.path.join(ROOT, "bin", "mkimapdcert")]


class Layout:
    """A scratch SYSCONFDIR and CERTSDIR holding one imapd.cnf."""

    def __init__(self, case, configs_dir):
        config, bits, self.expected_bits, pipeline, _ = CASES[case]
        # Read first: a missing config then leaves no scratch directory behind.
        with open(os.path.join(configs_dir, config), encoding="utf-8") as handle:
            text = handle.read()
        self.root = tempfile.mkdtemp(prefix=f"mkcert-bench-{case}-")
        self.etc = os.path.join(self.root, "etc")
        self.certs = os.path.join(self.root, "certs")
        os.mkdir(self.etc)
        os.mkdir(self.certs)
        if bits is not None:
            text = re.sub(r"(?m)^(\s*default_bits\s*=\s*)\d+", rf"\g<1>{bits}", text)
        # RANDFILE points into /etc/courier, as shipped; keep it in the layout
        # (both sides then read and rewrite the same seed file).
        text = re.sub(r"(?m)^(\s*RANDFILE\s*=\s*).*$",
                      lambda m: m.group(1) + os.path.join(self.certs, "imapd.rand"), text)
        with open(os.path.join(self.etc, "imapd.cnf"), "w", encoding="utf-8") as handle:
            handle.write(text)
        self.pipeline = os.path.join(PIPELINES, pipeline)
        self.pem = os.path.join(self.certs, "imapd.pem")
        self.user = pwd.getpwuid(os.geteuid()).pw_name

    def env(self):
        env = dict(os.environ, COURIER_SYSCONFDIR=self.etc, COURIER_CERTSDIR=self.certs,
                   COURIER_MAILUSER=self.user)
        env.pop("BITS", None)
        # An installed package is byte-compiled (pip and dh_python3 both do
        # it); a checkout under PYTHONDONTWRITEBYTECODE=1 would recompile our
        # modules on every run.  Keep the bytecode in the scratch directory.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(self.root, "pycache")
        return env

    def clean(self):
        for name in os.listdir(self.certs):
            os.unlink(os.path.join(self.certs, name))

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def raise_priority(niceness):
    """Run this harness and all it starts at ``niceness`` (e.g. -20), if allowed.

    On a machine shared with other work, a high priority for the measured
    processes -- ours and theirs alike -- keeps that work from landing in
    the middle of a run.  Returns the niceness in effect.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except OSError:
        pass
    # With CONFIG_SCHED_AUTOGROUP, niceness only ranks processes within one
    # session's group; the group itself competes with the others' groups by
    # the group's own niceness.
    try:
        with open("/proc/self/autogroup", "w", encoding="ascii") as handle:
            handle.write(str(niceness))
    except OSError:
        pass
    return os.getpriority(os.PRIO_PROCESS, 0)


def busy_cpu_seconds():
    """CPU time the whole machine has spent busy so far (from /proc/stat)."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Measurement:
    """One process: wall time, its CPU time, and the CPU others used meanwhile."""

    def __init__(self, command, env, cwd):
        busy, cpu = busy_cpu_seconds(), children_cpu_seconds()
        start = time.perf_counter()
        result = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.wall = time.perf_counter() - start
        self.cpu = children_cpu_seconds() - cpu
        # Busy CPU time not spent by this process (or its children): other
        # people's work competing with the run, as a share of the machine.
        others = max(0.0, busy_cpu_seconds() - busy - self.cpu)
        self.others = others / (self.wall * (os.cpu_count() or 1))
        if result.returncode != 0:
            sys.stderr.write(result.stderr.decode(errors="replace"))
            raise SystemExit(f"{command[0]} failed with status {result.returncode}")


def check_pem(path, bits):
    """The PEM holds a private key and a certificate with a key of ``bits`` bits."""
    from cryptography import x509

    with open(path, "rb") as handle:
        data = handle.read()
    if b"PRIVATE KEY-----" not in data:
        raise SystemExit(f"{path}: no private key")
    certificate = x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE"):])
    size = certificate.public_key().key_size
    if size != bits:
        raise SystemExit(f"{path}: a {size}-bit key, expected {bits}")


def run_case(case, pairs, ours, configs_dir, log):
    layout = Layout(case, configs_dir)
    env = layout.env()
    load = [os.getloadavg()[0]]
    sides = {
        "ours": ours + OUR_OPTIONS.get(case, []),
        "theirs": ["/bin/sh", layout.pipeline, "imapd", layout.etc, layout.certs, layout.user],
    }
    times = {"ours": [], "theirs": [], "ours_cpu": [], "theirs_cpu": [], "others": []}
    try:
        # One untimed run each: page cache, first-import bytecode compilation.
        for command in sides.values():
            layout.clean()
            Measurement(command, env, layout.root)
        for index in range(pairs):
            order = ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours")
            others = []
            for side in order:
                layout.clean()
                run = Measurement(sides[side], env, layout.root)
                times[side].append(run.wall)
                times[side + "_cpu"].append(run.cpu)
                others.append(run.others)
                check_pem(layout.pem, layout.expected_bits)
            times["others"].append(max(others))
            log(f"{case} pair {index + 1}/{pairs}: ours {times['ours'][-1]:.3f}s "
                f"theirs {times['theirs'][-1]:.3f}s  (others used {max(others):.0%} "
                f"of the machine)")
    finally:
        layout.remove()
    load.append(os.getloadavg()[0])
    times["load"] = load  # 1-minute load average before and after: others' work
    return times


def summary(case, times, quiet=None):
    """Medians and means; with ``quiet``, only pairs during which other work
    used at most that share of the machine (the same pairs for both sides)."""
    keep = [i for i, share in enumerate(times["others"]) if quiet is None or share <= quiet]
    if not keep:
        return None
    ours, theirs, ours_cpu, theirs_cpu, others = (
        [times[key][i] for i in keep]
        for key in ("ours", "theirs", "ours_cpu", "theirs_cpu", "others"))
    row = {
        "case": case + ("" if quiet is None else f" (others <= {quiet:.0%})"),
        "pairs": len(ours),
        "ours_median": statistics.median(ours),
        "ours_mean": statistics.mean(ours),
        "theirs_median": statistics.median(theirs),
        "theirs_mean": statistics.mean(theirs),
    }
    row["ratio_median"] = row["ours_median"] / row["theirs_median"]
    row["ratio_mean"] = row["ours_mean"] / row["theirs_mean"]
    # How often ours was the faster of the pair (pairs share machine state).
    row["ours_faster"] = sum(o < t for o, t in zip(ours, theirs))
    row["load"] = times.get("load")
    row["ours_cpu_median"] = statistics.median(ours_cpu)
    row["theirs_cpu_median"] = statistics.median(theirs_cpu)
    row["others_median"] = statistics.median(others)
    return row


def print_table(rows, markdown):
    if markdown:
        print("| case | pairs | ours median | ours mean | theirs median | theirs mean "
              "| ratio (median) | ratio (mean) | ours faster | CPU ours/theirs (median) "
              "| others' share |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['case']} | {r['pairs']} | {r['ours_median']:.3f} s | "
                  f"{r['ours_mean']:.3f} s | {r['theirs_median']:.3f} s | "
                  f"{r['theirs_mean']:.3f} s | **{r['ratio_median']:.2f}** | "
                  f"{r['ratio_mean']:.2f} | {r['ours_faster']}/{r['pairs']} | "
                  f"{r['ours_cpu_median']:.3f}/{r['theirs_cpu_median']:.3f} s | "
                  f"{r['others_median']:.0%} |")
        return
    print(f"{'case':<30}{'pairs':>6}{'ours med':>10}{'ours mean':>11}"
          f"{'theirs med':>12}{'theirs mean':>13}{'ratio med':>11}{'ratio mean':>12}"
          f"{'others':>8}")
    for r in rows:
        print(f"{r['case']:<30}{r['pairs']:>6}{r['ours_median']:>9.3f}s{r['ours_mean']:>10.3f}s"
              f"{r['theirs_median']:>11.3f}s{r['theirs_mean']:>12.3f}s"
              f"{r['ratio_median']:>11.2f}{r['ratio_mean']:>12.2f}"
              f"{r['others_median']:>8.0%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="case to run (repeatable; default all)")
    parser.add_argument("--pairs", type=int,
                        help="pairs per case (default 15 at 4096 bits, 30 otherwise)")
    parser.add_argument("--ours", help="our command (default: the installed mkimapdcert)")
    parser.add_argument("--configs", default=CONFIGS,
                        help="directory with openssl/imapd.cnf and gnutls/imapd.cnf "
                             "(default tests/data)")
    parser.add_argument("--json", help="write the summary and every timing here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--quiet", action="store_true", help="no per-pair progress")
    parser.add_argument("--nice", type=int, default=-20,
                        help="niceness for the measured runs, both sides (default -20, "
                             "when allowed: other work on the machine then disturbs less)")
    parser.add_argument("--quiet-share", type=float, default=0.10,
                        help="also summarise the pairs during which other processes "
                             "used at most this share of the machine (default 0.10)")
    options = parser.parse_args(argv)

    ours = options.ours.split() if options.ours else default_ours()
    cases = options.case or list(CASES)

    def log(text):
        if not options.quiet:
            print(text, file=sys.stderr, flush=True)

    niceness = raise_priority(options.nice)
    log(f"ours: {' '.join(ours)}; machine: {os.cpu_count()} CPUs, {platform.platform()}; "
        f"niceness {niceness}")
    rows, raw = [], {}
    for case in cases:
        pairs = options.pairs or CASES[case][4]
        raw[case] = run_case(case, pairs, ours, options.configs, log)
        rows.append(summary(case, raw[case]))
    for case in cases:
        quiet = summary(case, raw[case], options.quiet_share)
        if quiet is not None:
            rows.append(quiet)
    print_table(rows, options.markdown)
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump({"ours": ours, "rows": rows, "times": raw, "niceness": niceness,
                       "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())},
                      handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
