"""Threat: concurrent runs on the same files.

test_cli.py runs 8 mkimapdcert at once; here 16 (and the three services in
one directory), mkdhparams against itself, concurrent --renew, each with a
reader that must never see a missing or half-written file, and an attacker
re-planting links at every name while a run works.
"""

import os
import threading

from test_threat_helpers import assert_whole_or_nothing, install_imapd, load_whole_pem

RUNS = 16


def test_sixteen_concurrent_runs_exactly_one_wins(layout):
    install_imapd(layout)
    pem = layout.certsdir / "imapd.pem"
    seen = set()
    stop = threading.Event()

    def watch():
        # Whenever a PEM is visible it is already whole.
        while not stop.is_set():
            try:
                data = pem.read_bytes()
            except FileNotFoundError:
                continue
            seen.add(len(data))
            load_whole_pem(pem)
            return

    watcher = threading.Thread(target=watch)
    watcher.start()
    processes = [layout.popen("mkimapdcert", "-q") for _ in range(RUNS)]
    try:
        results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    finally:
        stop.set()
        watcher.join()
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    for status, stdout, stderr in results:
        if status != 0:
            assert (status, stdout, stderr) == (1, f"{pem} already exists.\n", "")
    assert assert_whole_or_nothing(layout.certsdir)
    assert len(seen) <= 1  # one size ever seen: no growing file was visible


def test_three_services_in_one_directory_do_not_disturb_each_other(layout):
    for name in ("imapd", "pop3d", "testd"):
        install_imapd(layout, name=name)
    programs = ["mkimapdcert", "mkpop3dcert"] * 3
    processes = [layout.popen(program, "-q") for program in programs]
    processes += [layout.popen("mkcouriercert", "-q", "testd") for _ in range(3)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    assert sorted(r[0] for r in results) == [0, 0, 0, 1, 1, 1, 1, 1, 1], results
    assert layout.listing() == ["imapd.pem", "pop3d.pem", "testd.pem"]
    for name in layout.listing():
        load_whole_pem(layout.certsdir / name)


def _dh_env(layout, **extra):
    return dict(layout.env, TLS_DHPARAMS=str(layout.certsdir / "dhparams.pem"),
                COURIER_SSLLIB="openssl", DH_BITS="512", **extra)


def _is_whole_dh(data):
    return (data.startswith(b"-----BEGIN DH PARAMETERS-----\n")
            and data.endswith(b"-----END DH PARAMETERS-----\n"))


def test_mkdhparams_against_itself_readers_see_old_or_new(layout):
    out = layout.certsdir / "dhparams.pem"
    env = _dh_env(layout)
    first = layout.command("mkdhparams", "--named-group", "ffdhe2048", env=env)
    assert first.returncode == 0, first.stderr
    versions, bad = set(), []
    stop = threading.Event()

    def read_loop():
        while not stop.is_set():
            data = out.read_bytes()  # never missing: each replacement is a rename
            if not _is_whole_dh(data):
                bad.append(data)
            versions.add(data)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        processes = [layout.popen("mkdhparams", "--force", "--jobs", "1", env=env)
                     for _ in range(8)]
        processes += [layout.popen("mkdhparams", "--force", "--named-group", "ffdhe3072",
                                   env=env) for _ in range(4)]
        results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    finally:
        stop.set()
        reader.join()
    assert all(r[0] == 0 for r in results), results
    assert bad == []
    assert len(versions) >= 2
    assert layout.listing() == ["dhparams.pem"]
    assert _is_whole_dh(out.read_bytes())


def test_mkdhparams_without_force_all_see_it_fresh_or_make_one(layout):
    env = _dh_env(layout)
    processes = [layout.popen("mkdhparams", "--jobs", "1", env=env) for _ in range(8)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    assert all(r[0] == 0 for r in results), results
    assert all(r[2] == "" for r in results), results
    assert layout.listing() == ["dhparams.pem"]
    assert _is_whole_dh((layout.certsdir / "dhparams.pem").read_bytes())


# --- --renew: the live PEM is replaced while readers use it -------------------

def test_concurrent_renewals_readers_always_see_a_whole_pem(layout):
    install_imapd(layout)
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    os.chmod(pem, 0o640)
    bad, reads = [], [0]
    stop = threading.Event()

    def read_loop():
        # couriertls opens the PEM for every connection: it must always be there, whole.
        while not stop.is_set():
            try:
                data = pem.read_bytes()
            except FileNotFoundError:
                bad.append("missing")
                continue
            reads[0] += 1
            if not (data.startswith(b"-----BEGIN PRIVATE KEY-----")
                    and data.rstrip().endswith(b"-----END CERTIFICATE-----")):
                bad.append(data[:80])

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        processes = [layout.popen("mkimapdcert", "-q", "--renew", "--force") for _ in range(6)]
        results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
    finally:
        stop.set()
        reader.join()
    assert bad == []
    assert reads[0] > 0
    assert any(r[0] == 0 for r in results), results
    for status, _, stderr in results:
        assert status in (0, 1), results
        if status == 1:  # lost the race: told so, nothing replaced by it
            assert "changed while it was being replaced" in stderr, stderr
    assert sorted(layout.listing()) == ["imapd.pem", "imapd.pem.old"]
    load_whole_pem(pem)
    load_whole_pem(layout.certsdir / "imapd.pem.old")
    assert (os.stat(pem).st_mode & 0o777, os.stat(f"{pem}.old").st_mode & 0o777) == (0o640, 0o600)


# --- an attacker racing the run ------------------------------------------------

def test_attacker_replanting_links_while_the_run_works(layout, tmp_path):
    """Someone who can write in the directory and knows the PID (from /proc)
    keeps planting links at every name the run uses, as fast as possible.
    Nothing is ever written through; the run ends whole or cleanly refused."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    os.chmod(victim, 0o644)
    before = (victim.read_bytes(), os.stat(victim).st_mode, os.stat(victim).st_mtime_ns)
    install_imapd(layout)
    certs = layout.certsdir
    outcomes = {}
    for trial in range(8):
        for name in os.listdir(certs):
            os.unlink(certs / name)
        process = layout.popen("mkimapdcert", "-q")
        names, wait_for_seed = [
            ([f"imapd.pem.tmp.{process.pid}", f"imapd.rand.tmp.{process.pid}"], False),
            (["imapd.rand"], False),
            (["imapd.pem"], True),  # mid-run, once the seed file shows the run is under way
            ([f"imapd.pem.tmp.{process.pid}", "imapd.rand", "imapd.pem"], True),
        ][trial % 4]
        stop = threading.Event()

        def attack():
            while wait_for_seed and not stop.is_set() and not (certs / "imapd.rand").exists():
                pass
            while not stop.is_set():
                for name in names:
                    link = certs / f".evil.{name}"
                    try:
                        os.symlink(victim, link)
                        os.rename(link, certs / name)  # replaces whatever is there
                    except OSError:
                        pass

        attacker = threading.Thread(target=attack)
        attacker.start()
        try:
            _, stderr = process.communicate(timeout=120)
        finally:
            stop.set()
            attacker.join()
        assert (victim.read_bytes(), os.stat(victim).st_mode,
                os.stat(victim).st_mtime_ns) == before, (trial, stderr)
        assert "Traceback" not in stderr, stderr
        pem = certs / "imapd.pem"
        if process.returncode == 0 and not pem.is_symlink():
            load_whole_pem(pem)
            outcome = "made"
        elif process.returncode == 0:
            # Our PEM was published, then the attacker renamed a link over it:
            # that is the attacker's doing; our file was whole when it landed.
            outcome = "made, then replaced by the attacker"
        else:
            assert process.returncode == 1, (process.returncode, stderr)
            outcome = "refused"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print("attacker outcomes:", outcomes)
