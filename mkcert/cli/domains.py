"""The command line of several domains (SNI): ``--domain``, ``--which`` and the
per-domain siblings that ``--check`` covers.

Courier serves ``TLS_CERTFILE.<name>`` to a client naming ``<name>``
(:mod:`mkcert.readers.servername` has the rules of both builds).  Every mode
of ``mk<NAME>cert`` works on such a file with ``--domain NAME``, one domain
after the other; ``--which`` says which file a client would get; a plain
``--check`` examines the base PEM and every sibling beside it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence

from mkcert import layout
from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    import argparse
    import types

    from mkcert.actions.check_result import CheckResult
    from mkcert.record import Record as Paths  # mkcert.cli.main.Paths, which imports this

__all__ = ["which", "domain_paths", "each_domain", "normalised_domains", "check_siblings", "print_results"]


def which(program: str, paths: "Paths", options: "argparse.Namespace | types.SimpleNamespace",
          environ: Mapping[str, str]) -> int:
    """``--which``: the file served, its key, the files tried; 0, or 1 for only the default."""
    from mkcert.actions.which import describe, served_file

    try:
        served = served_file(paths.pem, options.which or None, options.local_ip,
                             layout.ssllib(environ), paths.key)
    except MkcertError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 1
    for line in describe(served, options.which or None, options.local_ip):
        print(line)
    return 1 if served.default else 0


def normalised_domains(names: Sequence[str]) -> list[str]:
    """The ``--domain`` names as Courier looks them up, each once, in the order given."""
    from mkcert.readers.servername import normalise_domain
    from mkcert.system import idn

    found = []
    for name in names:
        domain = normalise_domain(name, idn.client_a_label)
        if domain not in found:
            found.append(domain)
    return found


def domain_paths(paths: "Paths", domain: str) -> "Paths":
    """The paths of ``TLS_CERTFILE.<domain>`` (and ``TLS_PRIVATE_KEYFILE.<domain>``).

    The seed file is ``BASE-<domain>.rand``: a ``TLS_CERTFILE.<anything>``
    would be a file Courier may serve, even for the instant a run lives.
    """
    base = paths.pem[:-len(".pem")] if paths.pem.endswith(".pem") else paths.pem
    key = None if paths.key is None else f"{paths.key}.{domain}"
    return paths.replace(pem=f"{paths.pem}.{domain}", rand=f"{base}-{domain}.rand", key=key)


def each_domain(program: str, name: str, paths: "Paths",
                options: "argparse.Namespace | types.SimpleNamespace",
                environ: Mapping[str, str], run_mode: "Callable[..., int]") -> int:
    """Every mode with ``--domain``: each ``TLS_CERTFILE.NAME`` in turn; the worst status.

    ``run_mode``: :func:`mkcert.cli.main.run_mode`, which runs one mode on one PEM.
    """
    try:
        domains = normalised_domains(options.domain)
    except MkcertError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 3 if options.check else 1
    if options.check:
        from mkcert.actions.defaults import CHECK_WARN_DAYS

        warn_days = CHECK_WARN_DAYS if options.warn is None else options.warn
        return print_results([_check_one(domain_paths(paths, domain), domain, warn_days,
                                         layout.ssllib(environ)) for domain in domains],
                             options.json)
    status = 0
    for domain in domains:
        status = max(status, run_mode(program, name, domain_paths(paths, domain), options,
                                      environ, domain))
    return status


def _check_one(paths, suffix, warn_days, ssllib):
    """``--check`` of one per-domain file, with a WARNING when Courier would never serve it.

    With ``TLS_PRIVATE_KEYFILE``, the key is the one couriertls pairs with
    the file: ``TLS_PRIVATE_KEYFILE.<suffix>`` when readable (the OpenSSL
    build; the GnuTLS build's own walk is :mod:`mkcert.actions.which`'s),
    else the certificate file's own.
    """
    from mkcert.actions.check import Plan, check
    from mkcert.actions.check_result import WARNING, Problem
    from mkcert.readers.servername import never_picked

    key = paths.key if paths.key is not None and os.access(paths.key, os.R_OK) else None
    result = check(Plan(paths.pem, warn_days, key=key))
    reason = never_picked(suffix, ssllib) if ssllib in ("gnutls", "openssl") else None
    if reason is None and result.certificate is not None:
        from mkcert.actions.which import uncovered_name

        reason = uncovered_name(result.certificate, suffix)
    if reason is not None:
        result = result.replace(problems=result.problems + (Problem(WARNING, reason),))
    return result


def check_siblings(paths: "Paths", warn_days: int,
                   environ: Mapping[str, str]) -> list["CheckResult"]:
    """``--check`` of every ``TLS_CERTFILE.<name>`` beside the PEM, by name.

    Not our own leftovers (``.old``, temporaries, seed files, the staged
    next key) and not ``TLS_PRIVATE_KEYFILE`` and its siblings, should
    they share the prefix.
    """
    from mkcert.readers.servername import is_leftover

    directory, base = os.path.split(paths.pem)
    prefix = base + "."
    try:
        names = sorted(os.listdir(directory or os.curdir))
    except OSError:
        return []
    results = []
    for entry in names:
        if not entry.startswith(prefix) or entry == prefix:
            continue
        suffix = entry[len(prefix):]
        path = os.path.join(directory, entry)
        if is_leftover(suffix) or (paths.key and (path == paths.key or
                                                   path.startswith(paths.key + "."))):
            continue
        results.append(_check_one(domain_paths(paths, suffix), suffix, warn_days,
                                  layout.ssllib(environ)))
    return results


def print_results(results: Sequence["CheckResult"], as_json: bool) -> int:
    """One line per file, the worst first (a monitor shows the first line), or JSON.

    JSON: one object for one file, as ``--check`` always printed; a list of
    them, in the same order, for several.
    """
    import json

    ordered = sorted(results, key=lambda result: -result.status)
    if as_json:
        objects = [result.as_json() for result in ordered]
        print(json.dumps(objects[0] if len(objects) == 1 else objects, sort_keys=True))
    else:
        for result in ordered:
            print(result.line())
    return max(result.status for result in results)

