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
    from mkcert.x509.authority import Authority

__all__ = ["Plan", "Outcome", "make", "prepare", "produce", "with_parsed_key_type"]

COMMON_NAME_OID = "2.5.4.3"


class Plan(Record):
    """What a run makes and from what, decided from the options before any work.

    ``pem``, ``rand`` (upstream's seed file) and ``config`` are paths;
    ``user`` owns a new PEM; ``environ`` is read for the config's
    variables, ``BITS`` and the deploy hook's config; ``days`` and ``san``
    are the options (None and () when not given).  ``key_type``: a
    :class:`mkcert.readers.key_type.KeyType` (``--key-type``), the text of
    ``COURIER_KEY_TYPE`` (parsed with the .cnf, after "already exists"), or
    None for the .cnf's RSA key; ``ca``: issue the certificate from the
    local CA (``--ca``, :mod:`mkcert.actions.issue`).
    ``domain``: the name of
    a per-domain file (``TLS_CERTFILE.NAME``), which becomes the common
    name where the ``.cnf`` says ``localhost``, and whose PEM must prove
    that a TLS server loads it before it is published.  ``key``: Courier's
    ``TLS_PRIVATE_KEYFILE`` for this PEM, which then takes the private
    key while ``pem`` takes the certificate (:mod:`mkcert.actions.keyfile`).
    """

    FIELDS = (("name", REQUIRED), ("pem", REQUIRED), ("rand", REQUIRED), ("config", REQUIRED),
              ("user", REQUIRED), ("environ", REQUIRED), ("days", None), ("san", ()),
              ("key_type", None), ("ca", False), ("domain", None), ("key", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class Outcome(Record):
    """What a run did, for the command line to print unless it is quiet.

    ``message``: a line to print first (None for a first run);
    ``certificate``: the DER of the certificate made, whose summary follows
    as upstream prints it (None when nothing was made); ``warnings``: lines
    about what was made (its weak choices), told once it is published, so a
    run that fails says only why.
    """

    FIELDS = (("message", None), ("certificate", None), ("warnings", ()))
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
    authority = None
    if plan.ca:
        from mkcert.actions.issue import load_authority

        authority = load_authority(plan.environ, plan.pem)
    request, extra = prepare(plan, warn)
    if authority is not None:
        from mkcert.actions.issue import issued_request

        request = issued_request(request, authority, plan.pem)
    from mkcert.actions.weak import weak_choice_warnings

    def publish_pem(data, run):
        publish.publish_new(plan.pem, data, run, owner)

    warnings = tuple(weak_choice_warnings(request, plan.config))
    if plan.key is not None:
        from mkcert.actions.keyfile import publisher
        from mkcert.system.target import Target

        return Outcome(certificate=produce(plan, request, extra, publisher(
            Target(plan.pem), Target(plan.key), owner), authority), warnings=warnings)
    return Outcome(certificate=produce(plan, request, extra, publish_pem, authority),
                   warnings=warnings)


def prepare(plan: Plan, warn: Callable[[str], None], kept_names: Sequence[bytes] = ()
            ) -> tuple[CertRequest, Callable[[], bytes] | None]:
    """Read the .cnf and fold in the options: all decided before any file exists.

    ``kept_names``: subjectAltName entries (DER) of a certificate being
    renewed, added before any ``--san``.  Returns the request and the maker
    of what follows the certificate (see :func:`_extra_pem_maker`); shared
    by a first run and ``--renew``.
    """
    from mkcert.readers.load import load_request

    plan = with_parsed_key_type(plan)
    request = load_request(plan.config, plan.environ, plan.key_type)
    request = _apply_options(request, plan, kept_names)
    for warning in request.warnings:
        warn(warning)
    if request.key.algorithm == "ed25519":
        from mkcert.actions.weak import ED25519_WARNING

        warn(ED25519_WARNING)
    return request, _extra_pem_maker(plan.name, request, plan.environ)


def with_parsed_key_type(plan: Plan) -> Plan:
    """The plan with ``COURIER_KEY_TYPE``'s text parsed (one line if it is wrong)."""
    if not isinstance(plan.key_type, str):
        return plan
    from mkcert.errors import MkcertError
    from mkcert.readers.key_type import KeyTypeError, parse_key_type

    try:
        return plan.replace(key_type=parse_key_type(plan.key_type))
    except KeyTypeError as exc:
        raise MkcertError(f"COURIER_KEY_TYPE: {exc}") from None


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
    if request.flavour == "gnutls" and request.key.algorithm == "rsa" and (
            plan.key_type is None or plan.key_type.bits is None):
        # certtool's key size comes from BITS, and its digest from the size.
        from mkcert.readers.certtool.seclevel import bits_for_security_level, with_key_bits

        level = plan.environ.get("BITS") or "high"
        bits = bits_for_security_level(level)
        request = with_key_bits(request, bits)
        if plan.environ.get("BITS"):
            request = request.replace(origins=request.origins + (
                ("bits", f"the environment: BITS={level}"),))
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
            publish_pem: Callable[[bytes, "Run"], None],
            authority: "Authority | None" = None, key: object = None) -> bytes:
    """Make a key and certificate and hand the PEM bytes to ``publish_pem(data, run)``.

    The one pipeline behind a first run and ``--renew``: umask 077, the
    ``NAME.rand`` seed while the key and certificate are made, every file
    removed again if anything fails or a signal arrives.  The file a
    config's ``RANDFILE`` names is never written (see
    :func:`mkcert.system.publish.write_rand_file`).  Only how the PEM lands differs (a
    new file, or an atomic replacement), so the caller says that.
    ``authority``: the local CA (with its key) that issues the certificate
    instead of the key itself; its certificate follows in the PEM, as the
    chain Courier serves.  ``key``: a private key to certify instead of a
    new one (``--reuse-key``, ``--rollover``), written as the request's key
    spec says.  Returns the certificate's DER.
    """
    from mkcert.system import publish
    from mkcert.x509.key_types import private_key_pem, start_key

    request.validity()  # a bad validity is an error before any file exists
    with publish.Run() as run:
        publish.remove_stale_temporaries(plan.pem)
        publish.remove_stale_temporaries(plan.rand)
        if key is None:
            with start_key(request.key) as search:
                # Upstream's seed file, and the certificate code, while the
                # primes are searched: neither has to wait for the other.
                publish.write_rand_file(plan.rand, run)
                from mkcert.x509.certificate import build_certificate_der, certificate_pem

                key = search.result()
        else:
            publish.write_rand_file(plan.rand, run)
            from mkcert.x509.certificate import build_certificate_der, certificate_pem
        issuer = None if authority is None else authority.issuer()
        certificate = build_certificate_der(request, key, issuer=issuer)
        data = private_key_pem(key, request.key) + certificate_pem(certificate)
        if authority is not None:
            data += certificate_pem(authority.der)
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
