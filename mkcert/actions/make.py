"""Making a certificate: the one pipeline behind a first run and ``--renew``.

Read the ``.cnf``, fold in the options, make the key and certificate under
umask 077 with the ``NAME.rand`` seed, and hand the PEM to a publisher that
says how it lands (a new file, or an atomic replacement).  The command line
(:mod:`mkcert.cli.main`) parses and dispatches; :mod:`mkcert.actions.renew` decides
whether a PEM is due and then runs the same steps.

Like the command line, this module imports no crypto library until a
certificate is really to be made: "already exists" stays fast.
"""

import os
import sys

from mkcert.errors import AlreadyExists


def make(program, name, paths, options, environ):
    """The upstream run, in order, with every failure cleaned up."""
    if os.path.lexists(paths.pem):  # a dangling symlink counts too
        raise AlreadyExists(paths.pem)

    from mkcert.system import publish

    owner = publish.Owner.lookup(paths.user)
    request, extra = prepare(program, name, paths, options, environ)

    def publish_pem(data, run):
        publish.publish_new(paths.pem, data, run, owner)

    certificate = produce(paths, request, extra, publish_pem)
    report(certificate, options)
    return 0


def prepare(program, name, paths, options, environ, kept_names=()):
    """Read the .cnf and fold in the options: all decided before any file exists.

    ``kept_names``: subjectAltName entries (DER) of a certificate being
    renewed, added before any ``--san``.  Returns the request and the maker
    of what follows the certificate (see :func:`_extra_pem_maker`); shared
    by a first run and ``--renew``.
    """
    from mkcert.readers.load import load_request

    request = load_request(paths.config, environ)
    request = _apply_options(request, options, environ, kept_names)
    if not options.quiet:
        for warning in request.warnings:
            print(f"{program}: warning: {warning}", file=sys.stderr)
    return request, _extra_pem_maker(name, request, environ)


def report(certificate, options):
    """What upstream prints on success: ``openssl x509 -subject -dates -fingerprint``."""
    if options.quiet:
        return
    from mkcert.x509.inspect import summary_lines

    for line in summary_lines(certificate):
        print(line)


def _apply_options(request, options, environ, kept_names=()):
    """Fold the command line and environment into the request."""
    changes = {}
    if options.days is not None:
        changes.update(days=options.days, not_after=None)
    names = list(kept_names) + list(options.san or ())
    if names:
        from mkcert.readers import san

        changes["extensions"] = san.add_to_request(request, names).extensions
    if changes:
        request = request.replace(**changes)
    if request.flavour == "gnutls":
        # certtool's key size comes from BITS, and its digest from the size.
        from mkcert.readers.certtool.seclevel import bits_for_security_level, with_key_bits

        request = with_key_bits(request, bits_for_security_level(environ.get("BITS") or "high"))
    return request


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


def produce(paths, request, extra, publish_pem):
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
        publish.remove_stale_temporaries(paths.pem)
        publish.remove_stale_temporaries(paths.rand)
        with start_key(request.key) as search:
            # Upstream's seed file, and the certificate code, while the
            # primes are searched: neither has to wait for the other.
            publish.write_rand_file(paths.rand, run)
            from mkcert.x509.certificate import build_certificate_der, certificate_pem

            key = search.result()
        certificate = build_certificate_der(request, key)
        data = private_key_pem(key, request.key) + certificate_pem(certificate)
        if extra is not None:
            data += extra()
        # Upstream removes the seed once `openssl req` is done.  Before the
        # PEM is published rather than after: a run killed in between would
        # leave it to every later run, which answers "already exists".
        run.remove(paths.rand)
        publish_pem(data, run)
    return certificate
