"""Service certificates from the local CA: ``mk<NAME>cert --ca``, and what
``--renew`` and ``--check`` do with a PEM that CA issued.

The CA itself is :mod:`mkcert.actions.authority`'s (``mkcourierca``); its
files are ``CERTSDIR/courier-ca.pem`` and ``CERTSDIR/courier-ca.key``
(:mod:`mkcert.layout`).  A PEM counts as the local CA's when the CA's key
identifier is its authorityKeyIdentifier and the CA's key verifies its
signature (:func:`mkcert.x509.authority.is_issued_by`): never by name, and
a CA certificate renewed with the same key still recognises what the old
one issued.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from mkcert import layout
from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from mkcert.actions.check_result import CheckResult
    from mkcert.request import CertRequest
    from mkcert.x509.authority import Authority

__all__ = ["CA_WARN_DAYS", "load_authority", "local_authority_of", "read_authority",
           "ca_findings", "issued_request"]

# A leaf's --check warns this long before the CA certificate itself ends:
# renewing the leaf cannot help then, the CA must be renewed.
CA_WARN_DAYS = 90


def read_authority(certificate_path: str, key_path: str | None) -> "Authority":
    """The CA from its files (the key only when ``key_path`` is given).

    MkcertError naming the file for anything missing or wrong; a key that
    others could read is refused as well.
    """
    from mkcert.system.files import read_regular_file, read_regular_file_with_stat
    from mkcert.x509.authority import MAX_CA_BYTES, authority_from_pem
    from mkcert.errors import describe

    try:
        certificate_pem = read_regular_file(certificate_path, MAX_CA_BYTES)
    except FileNotFoundError:
        raise MkcertError(f"there is no local CA: {certificate_path} is missing (mkcourierca "
                          f"--domain DOMAIN makes it)") from None
    except OSError as exc:
        raise MkcertError(f"cannot read {certificate_path}: {describe(exc)}") from None
    key_pem = None
    if key_path is not None:
        try:
            key_pem, st = read_regular_file_with_stat(key_path, MAX_CA_BYTES,
                                                      follow_symlinks=False)
        except FileNotFoundError:
            raise MkcertError(f"the CA key {key_path} is gone (removed by mkcourierca "
                              f"--destroy-key?): renewal needs a new CA (see mkcourierca(8))"
                              ) from None
        except OSError as exc:
            raise MkcertError(f"cannot read {key_path}: {describe(exc)}") from None
        if st.st_mode & 0o077:
            raise MkcertError(f"{key_path} is mode {st.st_mode & 0o7777:04o}: the CA key must "
                              f"be readable by its owner alone (chmod 600 {key_path})")
    return authority_from_pem(certificate_pem, key_pem, certificate_path, key_path or "")


def load_authority(environ: Mapping[str, str], pem: str) -> "Authority":
    """The local CA, key included, for issuing ``pem`` (``--ca``)."""
    try:
        return read_authority(layout.ca_certificate(environ), layout.ca_key(environ))
    except MkcertError as exc:
        raise MkcertError(f"{pem}: not issuing from the local CA: {exc}") from None


def issued_request(request: "CertRequest", authority: "Authority", pem: str) -> "CertRequest":
    """:func:`mkcert.x509.authority.leaf_request`, its refusals naming ``pem``."""
    from mkcert.x509.authority import leaf_request

    try:
        return leaf_request(request, authority)
    except MkcertError as exc:
        raise MkcertError(f"{pem}: {exc}") from None


def local_authority_of(current: "CheckResult", environ: Mapping[str, str]) -> "Authority | None":
    """The local CA (certificate only) if it issued the PEM read in ``current``, else None."""
    import os

    path = layout.ca_certificate(environ)
    if current.certificate is None or current.self_signed or not os.path.lexists(path):
        return None
    from mkcert.x509.authority import is_issued_by

    try:
        authority = read_authority(path, None)
    except MkcertError:
        # A damaged CA file must not stop the renewal of other CAs' PEMs
        # (certbot's); mkcourierca --check reports it.
        return None
    return authority if is_issued_by(current.certificate, authority.certificate) else None


def ca_findings(result: "CheckResult", certificate_path: str,
                now: datetime.datetime | None = None) -> "CheckResult":
    """``--check`` of a PEM the local CA issued: its names within the CA's
    constraints, and the CA's own expiry (WARNING within :data:`CA_WARN_DAYS`).

    Unchanged for a PEM the CA did not issue, or where there is no CA.
    """
    import os

    from mkcert.actions.check_result import CRITICAL, WARNING, Problem, days_between
    from mkcert.actions.check_result import format_moment

    if result.certificate is None or result.self_signed or not os.path.lexists(certificate_path):
        return result
    from mkcert.x509.authority import is_issued_by, names_outside
    from mkcert.x509.inspect import subject_alt_names

    try:
        authority = read_authority(certificate_path, None)
    except MkcertError:  # mkcourierca --check's to report; other PEMs are checked as ever
        return result
    if not is_issued_by(result.certificate, authority.certificate):
        return result
    problems = list(result.problems)
    try:
        outside = names_outside(subject_alt_names(result.certificate), authority.certificate)
    except ValueError:
        outside = []
    if outside:
        problems.append(Problem(CRITICAL, f"{', '.join(outside)} outside the names of the CA "
                                          f"{certificate_path}: clients refuse it"))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    end = authority.not_after
    if now >= end:
        problems.append(Problem(CRITICAL, f"the CA {certificate_path} expired "
                                          f"{format_moment(end)}"))
    elif days_between(now, end) < CA_WARN_DAYS:
        problems.append(Problem(WARNING, f"the CA {certificate_path} expires "
                                         f"{format_moment(end)} ({days_between(now, end)} days "
                                         f"left; mkcourierca --renew)"))
    return result.replace(problems=tuple(problems))
