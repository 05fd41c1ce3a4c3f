"""mkdhparams' work: refresh Courier's Diffie-Hellman parameters (TLS_DHPARAMS).

Upstream's script, run at package install and monthly from cron:
if the file is younger than ``find FILE -mtime +25`` allows, do nothing;
otherwise generate parameters into ``FILE.tmp`` and ``mv -f`` it over the
file -- ``openssl dhparam`` (openssl build, with a ``FILE.rand.tmp`` seed) or
``certtool --generate-dh-params`` (gnutls build).  This version keeps that
contract and adds what the script lacks: the temporary file (``FILE.tmp.``
and random hex digits, so no two runs ever share one) is exclusive, 0600
and owned by the mail user from its first byte, a signal or failure leaves
nothing behind (:class:`mkcert.system.publish.Run`), no process it started
outlives it, and a device or FIFO at ``FILE`` is refused, not replaced by a
regular file (``TLS_DHPARAMS=/dev/null`` would break the system).

The command line (:mod:`mkcert.cli.dhparams`) parses, shows the progress
and prints; only the standard library is imported here before the work
starts, so the "file is fresh" path stays fast.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from mkcert import layout
from mkcert.errors import MkcertError
from mkcert.request import REQUIRED, Record
from mkcert.x509.dhparams import NAMED_GROUPS  # no crypto import: dhparams loads libraries only when searching

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from mkcert.system.publish import Run

__all__ = ["MAX_AGE_DAYS", "GNUTLS_LEVEL_BITS", "FLAVOURS", "Plan", "Outcome", "NoProgress",
           "plan_for", "output_path", "is_fresh", "make_params", "execute"]

MAX_AGE_DAYS = 25  # find FILE -mtime +25
SECONDS_PER_DAY = 86400
DEFAULT_OPENSSL_BITS = "2048"
DEFAULT_GNUTLS_LEVEL = "high"
# GnuTLS's sizes for its security levels (gnutls_sec_param_to_pk_bits for DH,
# as certtool 3.7 prints them: "Generating DH parameters (N bits)").
GNUTLS_LEVEL_BITS = {"low": 1024, "legacy": 1776, "medium": 2048, "high": 3072, "ultra": 8192}
FLAVOURS = ("openssl", "gnutls")


class Plan(Record):
    """Everything a run will do, decided from the options and the environment before any work.

    ``path``: the file to replace; ``user``: its owner; ``flavour``:
    "openssl" or "gnutls"; ``group``: an RFC 7919 group to write, or None to
    generate parameters of ``size`` (DH_BITS as given, or the flavour's
    default), which is ``bits`` bits; ``jobs``: processes to search in
    (None: the usable CPUs).  Made by :func:`plan_for`.
    """

    FIELDS = (("path", REQUIRED), ("user", REQUIRED), ("flavour", REQUIRED), ("group", None),
              ("size", ""), ("bits", None), ("jobs", None))
    __slots__ = tuple(name for name, _ in FIELDS)

    def describe(self) -> str:
        if self.group:
            return f"RFC 7919 group {self.group}"
        if self.flavour == "gnutls":
            return f"{self.bits}-bit parameters (certtool)"
        return f"{self.bits}-bit safe prime, generator 2"


def plan_for(environ: Mapping[str, str], user: str | None = None, jobs: int | None = None,
             group: str | None = None) -> Plan:
    """The :class:`Plan` for the options (``--user``, ``--jobs``, ``--named-group``) and
    the environment; MkcertError for a variable that makes no sense."""
    group = group or _env_group(environ)
    flavour = layout.ssllib(environ).strip().lower()
    if flavour not in FLAVOURS:
        raise MkcertError(f"COURIER_SSLLIB={flavour!r} is neither openssl nor gnutls")
    size, bits = environ.get("DH_BITS", "").strip(), None
    if group is None:
        size = size or (DEFAULT_GNUTLS_LEVEL if flavour == "gnutls" else DEFAULT_OPENSSL_BITS)
        bits = _size_bits(size)
    return Plan(output_path(environ), user or layout.mailuser(environ), flavour, group, size,
                bits, jobs)


class Outcome(Record):
    """What a run wrote: the ``path``, and the parameters' ``description``."""

    FIELDS = (("path", REQUIRED), ("description", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


def output_path(environ: Mapping[str, str]) -> str:
    """$TLS_DHPARAMS, or dhparams.pem in the certificates directory."""
    return environ.get("TLS_DHPARAMS") or os.path.join(layout.certsdir(environ), "dhparams.pem")


def _env_group(environ):
    name = environ.get("DH_GROUP", "").strip()
    if not name:
        return None
    if name.lower() not in NAMED_GROUPS:
        raise MkcertError(f"DH_GROUP={name!r} is not a known group ({', '.join(NAMED_GROUPS)})")
    return name.lower()


def _size_bits(size):
    """DH_BITS as a number of bits: a number, or a GnuTLS security level name."""
    if size.lower() in GNUTLS_LEVEL_BITS:
        return GNUTLS_LEVEL_BITS[size.lower()]
    from mkcert.x509.dhparams import MAX_BITS, MIN_BITS
    from mkcert.readers.number import whole_number

    return whole_number(size, "DH_BITS", MIN_BITS, MAX_BITS, unit="(bits)",
                        alternatives=f"one of {', '.join(GNUTLS_LEVEL_BITS)} or ")


def is_fresh(path: str, now: float | None = None) -> bool:
    """True if upstream's test would leave the file alone.

    Upstream: ``test -f FILE`` and ``find FILE -mtime +25`` prints nothing.
    GNU find's ``-mtime +25`` means: the age in whole days, rounded down,
    is more than 25 -- so a file is stale from exactly 26 * 24 hours on, and
    a file dated in the future is fresh.  ``find`` (without -L) looks at a
    symlink itself, not its target, while ``test -f`` follows it; both are
    reproduced.
    """
    if not os.path.isfile(path):
        return False
    try:
        mtime = os.lstat(path).st_mtime
    except OSError:
        return False
    now = time.time() if now is None else now
    return (now - mtime) // SECONDS_PER_DAY <= MAX_AGE_DAYS


class NoProgress:
    """What :func:`execute` tells while it searches: here nothing.

    The search calls the object now and then, and :meth:`done` once at the
    end; the command line passes one that shows a spinner on a terminal.
    """

    def __call__(self) -> None:
        pass

    def done(self, message: str | None = None) -> None:
        pass


def make_params(plan: Plan, run: "Run", progress: NoProgress) -> bytes:
    """The new file's bytes, generated as the plan says (the slow part)."""
    from mkcert.x509 import dhparams

    if plan.group:
        return dhparams.named_group_pem(plan.group)
    if plan.flavour == "gnutls":
        return dhparams.certtool_dh_params(_certtool_size_args(plan.size), progress=progress)
    return _openssl_params(plan, run, progress)


def _certtool_size_args(size):
    if size.isdigit():
        return ["--bits", size]
    return ["--sec-param", size.lower()]


def _openssl_params(plan, run, progress):
    """Upstream's ``openssl dhparam -rand FILE.rand.tmp BITS`` step, seed file included.

    The seed (512 bytes of /dev/urandom, 0600) exists only while the prime
    is searched, as upstream's did; the search itself draws on the OS RNG.
    """
    from mkcert.x509 import dhparams
    from mkcert.system import publish

    seed = plan.path + ".rand.tmp"
    publish.remove_stale_temporaries(seed)
    publish.write_rand_file(seed, run)
    try:
        return dhparams.generate_dh_params_pem(plan.bits, jobs=plan.jobs, progress=progress)
    finally:
        run.remove(seed)


def execute(plan: Plan, progress: NoProgress = NoProgress()) -> Outcome:
    """Make the parameters and publish them atomically; returns the :class:`Outcome`."""
    from mkcert.system import publish

    # Refused now, not after minutes of searching; a link is replaced, as mv -f does.
    publish.file_to_replace(plan.path, "replacing", links_replaced=True)
    owner = publish.Owner.lookup(plan.user)
    with publish.Run() as run:
        publish.remove_stale_temporaries(plan.path)
        try:
            data = make_params(plan, run, progress)
        finally:
            progress.done()
        publish.publish_replace(plan.path, data, run, owner)
    return Outcome(plan.path, plan.describe())
