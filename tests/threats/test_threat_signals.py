"""Threat: SIGINT, SIGTERM, SIGHUP and SIGKILL at any point of a run.

The promise: afterwards there is either no PEM and no leftover file, or a
whole, valid PEM (key matches certificate) -- never an empty or partial
one.  A SIGKILL cannot be handled, so there the promise is only that the
PEM is whole or absent and that the next run cleans up after the dead one.

Three kinds of test:

* named points: a wrapper process patches one step of the run so that the
  run signals itself exactly there (after the config is read, the instant a
  temporary file is created, half-way through writing the PEM, at the
  link, ...), for each of the three signals;
* random trials: the real command, a signal after a random delay; the seed
  is printed and can be replayed with MKCERT_SIGNAL_SEED=N;
* SIGKILL trials, each followed by a clean-up run.

(test_cli.py has the three signals during a 4096-bit key; mkdhparams' own
signal tests are in test_mkdhparams.py; here it gets random trials.)
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import BIN, Layout
from test_threat_helpers import (assert_whole_or_nothing, install_imapd, load_whole_pem, mode,
                                 wrapped)

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TRIALS = int(os.environ.get("MKCERT_SIGNAL_TRIALS", "60"))
KILL_TRIALS = int(os.environ.get("MKCERT_KILL_TRIALS", "16"))
PARALLEL = 4


def _seed():
    seed = os.environ.get("MKCERT_SIGNAL_SEED")
    return int(seed) if seed else random.SystemRandom().randrange(1 << 32)


def check_outcome(layout, result_status, stderr, signum, context=""):
    """The invariant after a run that got ``signum``; returns a label for the tally."""
    where = f"{context} status={result_status} stderr={stderr!r} files={layout.listing()}"
    assert assert_whole_or_nothing(layout.certsdir) in (True, False), where
    name = signal.Signals(signum).name
    if result_status == 0:
        assert assert_whole_or_nothing(layout.certsdir), where
        return "finished first"
    if result_status == -signum:
        # Died of the signal before the run installed its handlers (or after it
        # restored them): there were no files yet, or the PEM is complete.
        assert "Traceback" not in stderr or "KeyboardInterrupt" in stderr, where
        return "default action"
    assert result_status == 1, where
    if stderr.endswith("KeyboardInterrupt\n") and not layout.listing():
        # SIGINT while the interpreter itself starts: Python's own report.
        return "interpreter start-up"
    assert stderr in (f"mkimapdcert: interrupted by {name}\n", "mkimapdcert: interrupted\n"), where
    return "interrupted, whole PEM" if layout.listing() else "interrupted, nothing left"


# --- named points -----------------------------------------------------------

POINT_PRELUDE = r"""
import os, signal, time
SIG = int(os.environ["TRIAL_SIGNAL"])
POINT = os.environ["TRIAL_POINT"]
_fired = []
MAIN = os.getpid()

def hit():
    # Always at the command's own process (a key search may run in a child).
    if not _fired:
        _fired.append(1)
        os.kill(MAIN, SIG)

from mkcert.x509 import certificate as cert, keys
from mkcert.readers import load as config
from mkcert.system import publish

if POINT == "config-read":
    _load = config.load_request
    def _patched(*a, **k):
        result = _load(*a, **k)
        hit()
        return result
    config.load_request = _patched
elif POINT == "stale-cleanup":
    _stale = publish.remove_stale_temporaries
    def _patched(path):
        _stale(path)
        hit()
    publish.remove_stale_temporaries = _patched
elif POINT == "temporary-created":
    # the signal lands the instant open(O_CREAT|O_EXCL) has returned
    _open = os.open
    def _patched(path, flags, *a, **k):
        fd = _open(path, flags, *a, **k)
        if flags & os.O_CREAT and ".tmp." in str(path):
            hit()
        return fd
    os.open = _patched
elif POINT == "seed-renamed":
    _rename = os.rename
    def _patched(src, dst, *a, **k):
        _rename(src, dst, *a, **k)
        if str(dst).endswith(".rand"):
            hit()
    os.rename = _patched
elif POINT == "seed-written":
    _seed = publish.write_rand_file
    def _patched(*a, **k):
        _seed(*a, **k)
        hit()
    publish.write_rand_file = _patched
elif POINT == "key-generation":
    _generate = keys.rsa.generate_private_key
    def _patched(*a, **k):
        hit()  # from the worker thread; the main thread must act at once
        time.sleep(0.5)
        return _generate(*a, **k)
    keys.rsa.generate_private_key = _patched
elif POINT == "certificate":
    _build = cert.build_certificate_der
    def _patched(*a, **k):
        hit()
        return _build(*a, **k)
    cert.build_certificate_der = _patched
elif POINT == "half-written":
    _write_all = publish._write_all
    def _patched(fd, data, path, *rest):
        if ".pem.tmp." in path:
            half = len(data) // 2
            os.write(fd, bytes(data[:half]))
            hit()
            return _write_all(fd, data[half:], path, *rest)
        return _write_all(fd, data, path, *rest)
    publish._write_all = _patched
elif POINT == "written-not-linked":
    _write_temporary = publish.write_temporary
    def _patched(path, *a, **k):
        temp = _write_temporary(path, *a, **k)
        if path.endswith(".pem"):
            hit()
        return temp
    publish.write_temporary = _patched
elif POINT == "link":
    _link = os.link
    def _patched(*a, **k):
        _link(*a, **k)
        hit()
    os.link = _patched
elif POINT == "published":
    _sync = publish.sync_directory
    def _patched(path):
        _sync(path)
        hit()
    publish.sync_directory = _patched
elif POINT == "seed-removal":
    _remove = publish.Run.remove
    def _patched(self, path):
        if path.endswith(".rand"):
            hit()
        return _remove(self, path)
    publish.Run.remove = _patched
elif POINT == "racer-reaping":
    # the key searches are being stopped: right after _stop() closes a pipe
    import sys as _sys
    _close = os.close
    def _patched(fd):
        _close(fd)
        if _sys._getframe(1).f_code.co_name == "_stop":
            hit()
    os.close = _patched
elif POINT == "run-exit":
    _exit = publish.Run.__exit__
    def _patched(self, *exc):
        hit()
        return _exit(self, *exc)
    publish.Run.__exit__ = _patched
else:
    raise SystemExit(f"unknown point {POINT}")
"""

POINTS = ["config-read", "stale-cleanup", "temporary-created", "seed-renamed",
          "seed-written", "key-generation",
          "racer-reaping",
          "certificate", "half-written", "seed-removal",  # the seed goes before publication
          "written-not-linked", "link", "published", "run-exit"]


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("point", POINTS)
def test_signal_at_named_point(layout, point, signum):
    if point == "racer-reaping":
        from mkcert.x509.keys import default_racers
        if default_racers() < 2:
            pytest.skip("one key search only (one usable CPU): no racer to reap")
    install_imapd(layout)
    env = dict(layout.env, TRIAL_SIGNAL=str(int(signum)), TRIAL_POINT=point)
    result = wrapped(layout, POINT_PRELUDE, "-q", env=env)
    label = check_outcome(layout, result.returncode, result.stderr, signum, context=point)
    if point == "config-read":
        assert layout.listing() == []
    elif point in ("stale-cleanup", "temporary-created", "seed-renamed", "seed-written",
                   "key-generation", "racer-reaping", "certificate", "half-written",
                   "seed-removal", "written-not-linked"):
        # The handlers are in place: the run must stop cleanly, leaving nothing.
        assert label == "interrupted, nothing left", (label, result.stderr, layout.listing())
    else:
        # Signalled once the PEM is (being) published: the run has done its
        # work, so it finishes and says so (exit 0), with a whole PEM.
        assert label == "finished first", (label, result.stderr)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_ignored_at_start_stays_ignored(layout, signum):
    """``nohup mkimapdcert`` (or a background job of a script, for SIGINT): the
    signal that was ignored when the command started is ignored throughout,
    so the run finishes; the other two still stop it cleanly."""
    install_imapd(layout)
    prelude = f"import signal as _s; _s.signal({int(signum)}, _s.SIG_IGN)\n" + POINT_PRELUDE
    env = dict(layout.env, TRIAL_SIGNAL=str(int(signum)), TRIAL_POINT="key-generation")
    result = wrapped(layout, prelude, "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert check_outcome(layout, result.returncode, result.stderr, signum) == "finished first"
    assert layout.listing() == ["imapd.pem"]


# --- random trials ----------------------------------------------------------

# Two anchors for the random delay.  "start": from the moment the process is
# started, covering interpreter start-up, config reading and the run (a
# run takes 0.4 s at 1024 bits, 0.5 s at 2048 and 2.5 s at 4096 on a quiet
# 2-core machine, about twice that with four at once).  "seed": from the
# moment NAME.rand appears, i.e. inside the protected run: key generation,
# certificate, write, link, clean-up.
def _run_durations(tmp_path, sizes=(1024, 2048, 4096)):
    """How long an uninterrupted run takes here, per key size (median of 3).

    Signal delays are drawn within these, so trials keep hitting the run
    however fast this machine (and the key search) is.
    """
    durations = {}
    for bits in sizes:
        times = []
        for attempt in range(3):
            base = tmp_path / f"measure{bits}-{attempt}"
            base.mkdir()
            layout = Layout(base)
            install_imapd(layout, bits=bits)
            started = time.monotonic()
            assert layout.command("mkimapdcert", "-q").returncode == 0
            times.append(time.monotonic() - started)
        durations[bits] = sorted(times)[1]
    return durations


def _one_trial(plan, layout, results):
    number, signum, bits, anchor, delay = plan
    process = layout.popen("mkimapdcert", "-q")
    if anchor == "seed":
        rand = layout.certsdir / "imapd.rand"
        deadline = time.monotonic() + 60
        while not rand.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
    time.sleep(delay)
    try:
        process.send_signal(signum)
    except ProcessLookupError:  # pragma: no cover - already reaped
        pass
    _, stderr = process.communicate(timeout=120)
    results[number] = (process.returncode, stderr)


def test_random_signals_leave_whole_pem_or_nothing(tmp_path, capsys):
    import threading

    seed = _seed()
    rng = random.Random(seed)
    print(f"signal trials: MKCERT_SIGNAL_SEED={seed} MKCERT_SIGNAL_TRIALS={TRIALS}")
    durations = _run_durations(tmp_path)
    print(f"uninterrupted runs: {durations}")
    plans = []
    for number in range(TRIALS):
        bits = rng.choice((1024, 2048, 2048, 4096))
        anchor = rng.choice(("start", "seed", "seed"))
        # From the start: anywhere in a run, a little past its end too; from
        # the seed file: within the key search and what follows it.
        span = durations[bits] * (1.1 if anchor == "start" else 0.8)
        plans.append((number, rng.choice(SIGNALS), bits, anchor, rng.uniform(0, span)))
    tally, results = {}, {}
    for first in range(0, len(plans), PARALLEL):
        batch = []
        for plan in plans[first:first + PARALLEL]:
            base = tmp_path / f"trial{plan[0]}"
            base.mkdir()
            layout = Layout(base)
            install_imapd(layout, bits=plan[2])
            thread = threading.Thread(target=_one_trial, args=(plan, layout, results))
            thread.start()
            batch.append((plan, layout, thread))
        for plan, layout, thread in batch:
            thread.join(timeout=180)
            number, signum, bits, anchor, delay = plan
            status, stderr = results[number]
            context = (f"trial {number} (seed {seed}): {signal.Signals(signum).name} "
                       f"{delay:.3f}s after {anchor}, {bits} bits")
            label = check_outcome(layout, status, stderr, signum, context)
            label = f"{label} ({anchor})"
            tally[label] = tally.get(label, 0) + 1
    print("signal trial outcomes:", tally)
    with capsys.disabled():
        print(f"\n[signal trials seed={seed}: {tally}]", end="")
    assert sum(tally.values()) == TRIALS
    interrupted = sum(v for k, v in tally.items() if k.startswith("interrupted"))
    assert interrupted >= TRIALS // 4, f"too few trials hit the run itself: {tally} (seed {seed})"


# --- SIGKILL ----------------------------------------------------------------

def _own_leftover(name):
    return name == "imapd.rand" or re.fullmatch(r"imapd\.(pem|rand)\.tmp\.[0-9a-f]{16}", name)


def test_sigkill_leaves_whole_pem_or_absent_and_next_run_cleans_up(tmp_path):
    seed = _seed()
    rng = random.Random(seed)
    print(f"SIGKILL trials: MKCERT_SIGNAL_SEED={seed}")
    outcomes = {}
    for number in range(KILL_TRIALS):
        bits = rng.choice((1024, 2048))
        delay = rng.uniform(0.1, 0.8)
        base = tmp_path / f"kill{number}"
        base.mkdir()
        layout = Layout(base)
        install_imapd(layout, bits=bits)
        bystanders = {"imapd.pem.tmp.keep": b"not a pid", "pop3d.pem.tmp.999999": b"other",
                      "notes": b"admin's"}
        process = layout.popen("mkimapdcert", "-q")
        time.sleep(delay)
        process.kill()
        process.communicate(timeout=60)
        context = f"kill trial {number} (seed {seed}) after {delay:.3f}s, {bits} bits"
        names = layout.listing()
        for name in names:
            assert name == "imapd.pem" or _own_leftover(name), (context, names)
            assert mode(layout.certsdir / name) == 0o600, (context, name)
        published = "imapd.pem" in names
        if published:
            assert_whole_or_nothing(layout.certsdir, allowed=names)
        for name, data in bystanders.items():
            (layout.certsdir / name).write_bytes(data)
        again = layout.command("mkimapdcert", "-q")
        after = set(layout.listing()) - set(bystanders)
        for name, data in bystanders.items():
            assert (layout.certsdir / name).read_bytes() == data, context
        if published:
            assert again.returncode == 1, context
            # "already exists" touches nothing: what the killed run left stays.
            assert after == set(names) - set(bystanders), context
            outcomes["published before the kill"] = outcomes.get("published before the kill", 0) + 1
        else:
            assert again.returncode == 0, (context, again.stderr)
            assert after == {"imapd.pem"}, (context, sorted(after))
            assert_whole_or_nothing(layout.certsdir, allowed=bystanders)
            key = "killed with leftovers" if names else "killed, nothing left"
            outcomes[key] = outcomes.get(key, 0) + 1
    print("SIGKILL outcomes:", outcomes)


# --- mkdhparams -------------------------------------------------------------

def _processes_with_marker(marker):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if marker in handle.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def test_mkdhparams_random_signals_keep_old_or_new_file_and_no_workers(tmp_path, layout):
    seed = _seed()
    rng = random.Random(seed)
    print(f"mkdhparams trials: MKCERT_SIGNAL_SEED={seed}")
    out = layout.certsdir / "dhparams.pem"
    marker = f"MKCERT_TRIAL={uuid.uuid4().hex}"
    env = dict(layout.env, TLS_DHPARAMS=str(out), COURIER_SSLLIB="openssl", DH_BITS="1024",
               MKCERT_TRIAL=marker.split("=", 1)[1])
    first = layout.command("mkdhparams", "--named-group", "ffdhe2048", env=env)
    assert first.returncode == 0, first.stderr
    for number in range(10):
        signum = rng.choice(SIGNALS)
        delay = rng.uniform(0, 1.0)
        old = out.read_bytes()
        process = layout.popen("mkdhparams", "--force", env=env)
        time.sleep(delay)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        context = f"dh trial {number} (seed {seed}): {signal.Signals(signum).name} after {delay:.3f}s"
        new = out.read_bytes()
        assert new.startswith(b"-----BEGIN DH PARAMETERS-----\n"), context
        assert new.endswith(b"-----END DH PARAMETERS-----\n"), context
        if process.returncode > 0:  # the run saw the signal: nothing was published
            assert new == old, context
            # SIGINT while the interpreter itself starts: Python's own report,
            # as check_outcome() allows (docs/RELIABILITY.md, "Not covered").
            startup = stderr.endswith("KeyboardInterrupt\n")
            assert startup or "Traceback" not in stderr, (context, stderr)
        # A negative status is the signal's default action, before the run
        # took over its handling or after it was done: old or new, both whole.
        assert layout.listing() == ["dhparams.pem"], (context, layout.listing())
        deadline = time.monotonic() + 5
        while _processes_with_marker(marker.encode()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_with_marker(marker.encode()) == [], context


# --- --renew: a signal while the live PEM is being replaced ------------------

def test_random_signals_during_renewal_keep_old_or_new_pem(tmp_path):
    import shutil

    seed = _seed()
    rng = random.Random(seed)
    print(f"renewal trials: MKCERT_SIGNAL_SEED={seed}")
    (tmp_path / "origin").mkdir()
    origin = Layout(tmp_path / "origin")
    install_imapd(origin)
    assert origin.command("mkimapdcert", "-q").returncode == 0
    original = (origin.certsdir / "imapd.pem").read_bytes()
    outcomes = {}
    for number in range(10):
        base = tmp_path / f"renew{number}"
        base.mkdir()
        layout = Layout(base)
        install_imapd(layout)
        pem = layout.certsdir / "imapd.pem"
        shutil.copyfile(origin.certsdir / "imapd.pem", pem)
        os.chmod(pem, 0o640)
        signum, delay = rng.choice(SIGNALS), rng.uniform(0.05, 0.7)
        process = layout.popen("mkimapdcert", "-q", "--renew", "--force")
        time.sleep(delay)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        context = (f"renewal trial {number} (seed {seed}): {signal.Signals(signum).name} "
                   f"after {delay:.3f}s: status {process.returncode} {stderr!r}")
        names = sorted(layout.listing())
        assert names in (["imapd.pem"], ["imapd.pem", "imapd.pem.old"]), (context, names)
        data = pem.read_bytes()
        load_whole_pem(pem)
        assert mode(pem) == 0o640, context
        if "imapd.pem.old" in names:
            assert (layout.certsdir / "imapd.pem.old").read_bytes() == original, context
            assert mode(layout.certsdir / "imapd.pem.old") == 0o600, context
        replaced = data != original
        if process.returncode != 0 and process.returncode != -signum:
            assert "Traceback" not in stderr or "KeyboardInterrupt" in stderr, context
        key = ("replaced" if replaced else "kept") + (" (finished)" if process.returncode == 0
                                                       else " (interrupted)")
        outcomes[key] = outcomes.get(key, 0) + 1
    print("renewal outcomes:", outcomes)


def test_sigkill_leaves_no_key_search_running(layout):
    from mkcert.x509.keys import default_racers

    if default_racers() < 2:
        pytest.skip("one key search only (one usable CPU): it runs in a thread")
    install_imapd(layout, bits=16384)
    marker = uuid.uuid4().hex
    env = dict(layout.env, MKCERT_TRIAL=marker)
    # No pipes: an orphaned search would hold them open (a caller reading the
    # command's output would wait for it too).
    process = subprocess.Popen([sys.executable, os.path.join(BIN, "mkimapdcert"), "-q"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rand = layout.certsdir / "imapd.rand"
    deadline = time.monotonic() + 30
    while not rand.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.3)  # the searches are under way
    process.kill()
    process.wait(timeout=30)
    time.sleep(1.0)
    orphans = _processes_with_marker(f"MKCERT_TRIAL={marker}".encode())
    for pid in orphans:  # ours, by id: the run's own children
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert orphans == [], f"key searches still running after the run was killed: {orphans}"
