#!/usr/bin/env python3
"""Benchmark: mkdhparams (openssl flavour) against `openssl dhparam`, alternating.

Not a test: safe-prime search times are wildly spread (roughly exponential),
so only many runs say anything.  Each round runs both generators once, in
alternating order, at the same size; the summary gives mean and median of
each and the ratio ours / openssl.

    python3 bench/dhparams.py                 # 1024 x 20, 2048 x 5
    python3 bench/dhparams.py --runs 1024:40 --runs 2048:10 --mode function

--mode cli (default) times the whole command (interpreter start-up, the
seed file, publication) against the whole `openssl dhparam` command;
--mode function times generate_dh_params_pem() in this process.
--mode cpu compares CPU seconds instead of wall-clock seconds, for a
machine busy with other work (where wall-clock times measure the
scheduler): openssl's is the user+system time of the child; ours models
what an idle machine with JOBS cores would see -- JOBS independent
searches timed one after the other in this process, of which the fastest
counts (the parallel run takes the first result) -- plus the measured CPU
time of the whole command run with --named-group (start-up, publication).
"""

import argparse
import os
import platform
import pwd
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def cpu_openssl(bits, directory):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    time_openssl(bits, directory)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_ours(bits, directory, jobs):
    from mkcert.x509.safe_primes import search_safe_prime
    from mkcert.system.workers import usable_cpus

    searches = []
    for _ in range(jobs or usable_cpus()):
        start = time.process_time()
        search_safe_prime(bits)
        searches.append(time.process_time() - start)
    return min(searches) + command_overhead(directory)


_overhead = []


def command_overhead(directory):
    """CPU time of one whole mkdhparams run that generates nothing (--named-group)."""
    if not _overhead:
        env = dict(os.environ, PYTHONPATH=REPO, TLS_DHPARAMS=os.path.join(directory, "overhead.pem"),
                   COURIER_MAILUSER=pwd.getpwuid(os.geteuid()).pw_name)
        command = [sys.executable, os.path.join(REPO, "bin", "mkdhparams"), "--force", "-q",
                   "--named-group", "ffdhe2048"]
        runs = []
        for _ in range(5):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(command, env=env, stdin=subprocess.DEVNULL, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        _overhead.append(statistics.median(runs))
    return _overhead[0]


def time_openssl(bits, directory):
    out = os.path.join(directory, "openssl.pem")
    start = time.perf_counter()
    subprocess.run(["openssl", "dhparam", "-outform", "PEM", "-out", out, str(bits)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def time_cli(bits, directory, jobs):
    env = dict(os.environ, PYTHONPATH=REPO, COURIER_SSLLIB="openssl", DH_BITS=str(bits),
               TLS_DHPARAMS=os.path.join(directory, "ours.pem"),
               COURIER_MAILUSER=pwd.getpwuid(os.geteuid()).pw_name)
    command = [sys.executable, os.path.join(REPO, "bin", "mkdhparams"), "--force", "-q"]
    if jobs:
        command += ["--jobs", str(jobs)]
    start = time.perf_counter()
    subprocess.run(command, env=env, stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def time_function(bits, directory, jobs):
    from mkcert.x509.dhparams import generate_dh_params_pem

    start = time.perf_counter()
    generate_dh_params_pem(bits, jobs=jobs)
    return time.perf_counter() - start


def summary(name, times):
    return (f"  {name:8} n={len(times):3}  mean {statistics.mean(times):7.3f}s  "
            f"median {statistics.median(times):7.3f}s  min {min(times):7.3f}s  max {max(times):7.3f}s")


def bench(bits, runs, ours, directory, theirs_fn=time_openssl):
    mine, theirs = [], []
    for round_ in range(runs):
        pair = [("ours", ours), ("openssl", theirs_fn)]
        if round_ % 2:
            pair.reverse()
        for name, fn in pair:
            elapsed = fn(bits, directory)
            (mine if name == "ours" else theirs).append(elapsed)
        print(f"  {bits} round {round_ + 1}/{runs}: ours {mine[-1]:.3f}s, openssl {theirs[-1]:.3f}s", file=sys.stderr)
    print(f"{bits} bits (load average at the end: {os.getloadavg()[0]:.2f}):")
    print(summary("ours", mine))
    print(summary("openssl", theirs))
    print(f"  ratio ours/openssl: mean {statistics.mean(mine) / statistics.mean(theirs):.3f}, "
          f"median {statistics.median(mine) / statistics.median(theirs):.3f}")
    sys.stdout.flush()


def parse_runs(text):
    bits, _, runs = text.partition(":")
    return int(bits), int(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", action="append", type=parse_runs, metavar="BITS:N",
                        help="size and number of rounds (default 1024:20 and 2048:5)")
    parser.add_argument("--mode", choices=("cli", "function", "cpu"), default="cli")
    parser.add_argument("--jobs", type=int, default=None, help="searches in parallel (default: usable CPUs)")
    args = parser.parse_args()
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} usable CPUs, {platform.platform()}")
    print(f"python {platform.python_version()}, {version}, mode {args.mode}, jobs {args.jobs or 'default'}")
    print(f"load average at the start: {os.getloadavg()[0]:.2f} (other work on the machine skews both columns)")
    timer = {"cli": time_cli, "function": time_function, "cpu": cpu_ours}[args.mode]
    theirs = cpu_openssl if args.mode == "cpu" else time_openssl

    def ours(bits, directory):
        return timer(bits, directory, args.jobs)

    with tempfile.TemporaryDirectory() as directory:
        for bits, runs in args.runs or [(1024, 20), (2048, 5)]:
            bench(bits, runs, ours, directory, theirs)


if __name__ == "__main__":
    main()
