"""The Debian package, built and installed with Debian's own Courier packages.

Builds ``courier-mkcert_*.deb`` from a copy of this checkout
(``tests/integration/build-deb.sh``), then runs
``tests/integration/debian.sh`` on it: a debootstrapped Debian chroot where
courier-imap, courier-pop and courier-mta are installed after and before our
package, their postinst run our commands, couriertls serves our certificate,
and removing our package gives Courier its scripts back.  It also makes a
throw-away root, intermediate and leaf laid out as certbot does: after
``mkimapdcert --install --from-certbot`` (and after the packaged certbot
deploy hook, for a renewed leaf) couriertls serves exactly the leaf and the
intermediate, and a client that trusts only the root verifies the server.
Before any of that, lintian (pedantic and informational) must find nothing.

Runs only as root with debootstrap and the package's build dependencies
installed; ``COURIER_MKCERT_DEBIAN_TEST=0`` turns it off.  It takes about a
minute with a warm base-system cache (``COURIER_MKCERT_DEBIAN_CACHE``, a
directory) and about a minute and a half without.
"""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT  # noqa: E402
INTEGRATION = os.path.join(ROOT, "tests", "integration")
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
TOOLS = ("debootstrap", "chroot", "mount", "findmnt", "dpkg-buildpackage",
         "dpkg-checkbuilddeps", "dpkg-deb")

pytestmark = pytest.mark.debian


def _why_not():
    """The reason this test cannot run here, or None."""
    if os.environ.get("COURIER_MKCERT_DEBIAN_TEST") == "0":
        return "COURIER_MKCERT_DEBIAN_TEST=0"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (debootstrap, chroot, mount)"
    missing = [tool for tool in TOOLS if shutil.which(tool, path=SYSTEM_PATH) is None]
    if missing:
        return "not installed: " + ", ".join(missing)
    check = subprocess.run(["dpkg-checkbuilddeps"], cwd=ROOT, capture_output=True,
                           text=True, env=dict(os.environ, PATH=SYSTEM_PATH))
    if check.returncode != 0:
        return "build dependencies missing: " + (check.stderr.strip() or check.stdout.strip())
    return None


def _run(command, timeout):
    """Run a script with the system PATH; fail with the end of its output.

    On a timeout the script gets SIGTERM, not SIGKILL, and time to run its
    cleanup trap: it has a chroot with /proc mounted to take down.
    """
    process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, PATH=SYSTEM_PATH),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        tail = "\n".join(output.splitlines()[-80:])
        pytest.fail(f"{' '.join(command)} timed out after {timeout}s:\n{tail}")
    except BaseException:  # ^C under pytest: let the script clean up too
        process.terminate()
        process.communicate(timeout=300)
        raise
    if process.returncode != 0:
        tail = "\n".join(output.splitlines()[-80:])
        pytest.fail(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
    return output


def _assert_lintian_clean(deb):
    """Debian's own checker finds nothing (pedantic and informational tags included).

    The overrides in debian/courier-mkcert.lintian-overrides say why each
    one is there; anything new fails here.
    """
    if shutil.which("lintian", path=SYSTEM_PATH) is None:
        pytest.fail("lintian is not installed (.ci/run installs it)")
    result = subprocess.run(["lintian", "--pedantic", "-I", "--no-tag-display-limit", deb],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PATH=SYSTEM_PATH))
    tags = [line for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode == 0 and not tags, (result.returncode, tags, result.stderr)


WHY_NOT = _why_not()


@pytest.mark.skipif(WHY_NOT is not None and not os.environ.get("CI")
                    or WHY_NOT == "COURIER_MKCERT_DEBIAN_TEST=0", reason=str(WHY_NOT))
def test_debian_package_with_courier(tmp_path):
    # CI installs everything this needs: there a missing piece is a failure,
    # not a skip that would pass unseen.
    if WHY_NOT is not None:
        pytest.fail(f"the chroot test cannot run under CI: {WHY_NOT}")
    build = subprocess.run([os.path.join(INTEGRATION, "build-deb.sh"), str(tmp_path)],
                           cwd=ROOT, env=dict(os.environ, PATH=SYSTEM_PATH),
                           capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        tail = "\n".join(build.stderr.splitlines()[-60:])
        pytest.fail(f"building the .deb failed:\n{tail}")
    deb = build.stdout.strip().splitlines()[-1]
    assert os.path.isfile(deb), deb
    _assert_lintian_clean(deb)

    output = _run([os.path.join(INTEGRATION, "debian.sh"), deb], timeout=1200)
    print(output)  # the timed steps: shown with pytest -rP or -s
    assert "PASS" in output.splitlines()[-1], output
