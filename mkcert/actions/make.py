"""Making a certificate: the one pipeline behind a first run and ``--renew``.

Read the ``.cnf``, fold in the options, make the key and certificate under
umask 077 with the ``NAME.rand`` seed, and hand the PEM to a publisher that
says how it lands (a new file, or an atomic replacement).  The command line
(:mod:`mkcert.cli.main`) parses, builds the :class:`Plan` and prints the
:class:`Outcome`; :mod:`mkcert.actions.renew` decides whether a PEM is due
and then runs the same steps.

Like the command line, this module imports no crypto library until a
certificate is really to be made: "already exists" stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from mkcert.errors import AlreadyExists
from mkcert.record import REQUIRED, Record

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from mkcert.request import CertRequest
    from mkcert.system.publish import Run

__all__ = ["Plan", "Outcome", "make", "prepare", "produce"]

COMMON_NAME_OID = "2.5.4.3"


class Plan(Record):
    """What a run makes and from what, decided from the options before any work.

    ``pem``, ``rand`` (upstream's seed file) and ``config`` are paths;
    ``user`` owns a new PEM; ``environ`` is read for the config's
    variables, ``BITS`` and the deploy hook's config; ``days`` and ``san``
    are the options (None and () when not given).  ``domain``: the name of
    a per-domain file (``TLS_CERTFILE.NAME``), which becomes the common
    name where the ``.cnf`` says ``localhost``, and whose PEM must prove
    that a TLS server loads it before it is published.  ``key``: Courier's
    ``TLS_PRIVATE_KEYFILE`` for this PEM, which then takes the private
    key while ``pem`` takes the certificate (:mod:`mkcert.actions.keyfile`).
    """

    FIELDS = (("name", REQUIRED), ("pem", REQUIRED), ("rand", REQUIRED), ("config", REQUIRED),
              ("user", REQUIRED), ("environ", REQUIRED), ("days", None), ("san", ()),
              ("domain", None), ("key", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class Outcome(Record):
    """What a run did, for the command line to print unless it is quiet.

    ``message``: a line to print first (None for a first run);
    ``certificate``: the DER of the certificate made, whose summary follows
    as upstream prints it (None when nothing was made).
    """

    FIELDS = (("message", None), ("certificate", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def make(plan: Plan, warn: Callable[[str], None]) -> Outcome:
    """The upstream run, in order, with every failure cleaned up.

    ``warn(text)`` is told each warning of the config as soon as it is
    read: before the key is generated, which may take minutes.
    """
    if os.path.lexists(plan.pem):  # a dangling symlink counts too
        raise AlreadyExists(plan.pem)
    if plan.key is not None and os.path.lexists(plan.key):
        raise AlreadyExists(plan.key)

    from mkcert.system import publish

    owner = publish.Owner.lookup(plan.user)
    request, extra = prepare(plan, warn)

    def publish_pem(data, run):
        publish.publish_new(plan.pem, data, run, owner)

    if plan.key is not None:
        from mkcert.actions.keyfile import publisher
        from mkcert.system.target import Target

        return Outcome(certificate=produce(plan, request, extra, publisher(
            Target(plan.pem), Target(plan.key), owner)))

    return Outcome(certificate=produce(plan, request, extra, publish_pem))


def prepare(plan: Plan, warn: Callable[[str], None], kept_names: Sequence[bytes] = ()
            ) -> tuple[CertRequest, Callable[[], bytes] | None]:
    """Read the .cnf and fold in the options: all decided before any file exists.

    ``kept_names``: subjectAltName entries (DER) of a certificate being
    renewed, added before any ``--san``.  Returns the request and the maker
    of what follows the certificate (see :func:`_extra_pem_maker`); shared
    by a first run and ``--renew``.
    """
    from mkcert.readers.load import load_request

    request = load_request(plan.config, plan.environ)
    request = _apply_options(request, plan, kept_names)
    for warning in request.warnings:
        warn(warning)
    return request, _extra_pem_maker(plan.name, request, plan.environ)


def _apply_options(request, plan, kept_names=()):
    """Fold the command line and environment into the request."""
    changes = {}
    if plan.days is not None:
        changes.update(days=plan.days, not_after=None)
    names = list(kept_names) + list(plan.san or ())
    if names:
        from mkcert.readers import san

        changes["extensions"] = san.add_to_request(request, names).extensions
    if plan.domain is not None:
        changes["subject"] = _domain_subject(request.subject, plan.domain)
    if changes:
        request = request.replace(**changes)
    if request.flavour == "gnutls":
        # certtool's key size comes from BITS, and its digest from the size.
        from mkcert.readers.certtool.seclevel import bits_for_security_level, with_key_bits

        bits = bits_for_security_level(plan.environ.get("BITS") or "high")
        request = with_key_bits(request, bits)
    return request


def _domain_subject(subject, domain):
    """The subject with a common name of ``localhost`` (the stock .cnf's) replaced by ``domain``."""
    from mkcert.request import PRINTABLE_STRING, UTF8_STRING

    def renamed(attribute):
        if attribute.oid != COMMON_NAME_OID or attribute.value != "localhost":
            return attribute
        # PrintableString has no '_'; UTF8String holds any name.
        tag = attribute.tag
        if tag == PRINTABLE_STRING and "_" in domain:
            tag = UTF8_STRING
        return attribute.replace(value=domain, tag=tag)

    return tuple(tuple(renamed(attribute) for attribute in rdn) for rdn in subject)


def _prove_loadable(plan, data):
    """A per-domain PEM is published only once a TLS server would load it."""
    from mkcert.errors import MkcertError
    from mkcert.x509.loadable import pem_load_error

    error = pem_load_error(data)
    if error is not None:
        raise MkcertError(f"{plan.pem}: not published, a TLS server could not load it: {error}")


def _extra_pem_maker(name, request, environ):
    """What follows key and certificate in the PEM, as a deferred maker.

    An OpenSSL-built mkesmtpdcert appends fresh DH parameters (generator 2,
    ``BITS`` default 2048); validated now, before any file exists.
    """
    if name != "esmtpd" or request.flavour != "openssl":
        return None
    from mkcert.x509.dhparams import DEFAULT_BITS, MAX_BITS, MIN_BITS, generate_dh_params_pem
    from mkcert.readers.number import whole_number

    bits = whole_number(environ.get("BITS") or str(DEFAULT_BITS), "BITS", MIN_BITS, MAX_BITS,
                        unit="(bits of the DH parameters)")
    return lambda: generate_dh_params_pem(bits)


def produce(plan: Plan, request: CertRequest, extra: Callable[[], bytes] | None,
            publish_pem: Callable[[bytes, "Run"], None]) -> bytes:
    """Make a key and certificate and hand the PEM bytes to ``publish_pem(data, run)``.

    The one pipeline behind a first run and ``--renew``: umask 077, the
    ``NAME.rand`` seed while the key and certificate are made, every file
    removed again if anything fails or a signal arrives.  The file a
    config's ``RANDFILE`` names is never written (see
    :func:`mkcert.system.publish.write_rand_file`).  Only how the PEM lands differs (a
    new file, or an atomic replacement), so the caller says that.
    Returns the certificate's DER.
    """
    from mkcert.system import publish
    from mkcert.x509.keys import private_key_pem, start_key

    request.validity()  # a bad validity is an error before any file exists
    with publish.Run() as run:
        publish.remove_stale_temporaries(plan.pem)
        publish.remove_stale_temporaries(plan.rand)
        with start_key(request.key) as search:
            # Upstream's seed file, and the certificate code, while the
            # primes are searched: neither has to wait for the other.
            publish.write_rand_file(plan.rand, run)
            from mkcert.x509.certificate import build_certificate_der, certificate_pem

            key = search.result()
        certificate = build_certificate_der(request, key)
        data = private_key_pem(key, request.key) + certificate_pem(certificate)
        if extra is not None:
            data += extra()
        # Upstream removes the seed once `openssl req` is done.  Before the
        # PEM is published rather than after: a run killed in between would
        # leave it to every later run, which answers "already exists".
        run.remove(plan.rand)
        if plan.domain is not None:
            _prove_loadable(plan, data)
        publish_pem(data, run)
    return certificate
