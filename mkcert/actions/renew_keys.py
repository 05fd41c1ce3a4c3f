"""Which key ``--renew`` certifies: a new one, the current one, or the staged next one.

Kept apart from :mod:`mkcert.actions.renew`, which decides *whether* to
renew.  ``--reuse-key`` certifies the current key again, so DANE ``3 1 1``
records stay valid; ``--rollover`` certifies the key ``--stage-next-key``
wrote ahead (whose record is already published) and then stages a fresh
one.  The order of a rollover is what keeps DANE working: until the new PEM
is renamed into place the old key is served and the staged file holds the
next; from that rename on, the staged key is served and the staged file
still holds it, until the fresh next key replaces it in one rename.  At no
moment is the served key neither the current nor the staged one, and the
staged file never goes missing.

Without ``--key-type``, a PEM whose key is EC or Ed25519 keeps its key type
(the .cnf can only say RSA, and the admin chose otherwise once); an RSA PEM
follows the .cnf, as before.
"""

from __future__ import annotations

from collections.abc import Callable

from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    import os

    from mkcert.actions.check_result import CheckResult
    from mkcert.actions.make import Plan as MakePlan
    from mkcert.request import CertRequest
    from mkcert.system.publish import Run
    from mkcert.system.target import Target

__all__ = ["key_to_certify", "make_plan_for", "refuse_weak_key", "add_stock_name",
           "stage_after"]


def key_to_certify(current: CheckResult, plan) -> object:
    """The private key the new certificate is for (None for a new one); ``plan``
    is the :class:`mkcert.actions.renew.Plan`."""
    pem = plan.make.pem
    if plan.rollover:
        from mkcert.actions.stage import read_staged_key

        return read_staged_key(pem)
    if not plan.reuse_key:
        return None
    if current.data is None or current.certificate is None:
        raise MkcertError(f"{pem}: no certificate and key to reuse; renew without --reuse-key")
    from mkcert.actions.install import parse_private_key

    key = parse_private_key(current.data, pem)
    if not current.key_matches:
        raise MkcertError(f"{pem}: its private key does not match its certificate; not "
                          f"reusing it (renew without --reuse-key)")
    return key


def make_plan_for(make_plan: MakePlan, current: CheckResult, key: object) -> MakePlan:
    """The make plan with the key type the new certificate needs.

    A given key decides it; otherwise ``--key-type``; otherwise an EC or
    Ed25519 certificate keeps its type, and an RSA one follows the .cnf.
    """
    from mkcert.actions.make import with_parsed_key_type
    from mkcert.x509.key_types import key_type_of

    make_plan = with_parsed_key_type(make_plan)
    if key is not None:
        return make_plan.replace(key_type=key_type_of(key))
    if make_plan.key_type is not None or current.certificate is None:
        return make_plan
    from mkcert.x509.chain import certificate_public_key

    try:
        kept = key_type_of(certificate_public_key(current.certificate))
    except (ValueError, MkcertError):
        return make_plan
    return make_plan if kept.algorithm == "rsa" else make_plan.replace(key_type=kept)


def refuse_weak_key(key: object, plan) -> None:
    """A renewal never makes what --check calls weak: a kept RSA key under 2048 bits cannot be."""
    from mkcert.request import weak_rsa_bits
    from mkcert.x509.key_types import algorithm_of

    if algorithm_of(key) == "rsa" and weak_rsa_bits(key.key_size):
        which = "the staged key" if plan.rollover else "the current key"
        raise MkcertError(f"{plan.make.pem}: {which} is RSA of {key.key_size} bits, which "
                          f"--check calls weak; not certifying it again (renew with a new "
                          f"key, without --reuse-key or --rollover)")


def add_stock_name(request: CertRequest) -> CertRequest:
    """--upgrade of the stock CN=localhost certificate: the name also as a subjectAltName."""
    from mkcert.readers import san

    for extension in request.extensions:
        if extension.oid == san.SUBJECT_ALT_NAME:
            return request
    return san.add_to_request(request, [san.parse_argument("DNS:localhost")])


def stage_after(target: Target, pem: str, pem_stat: os.stat_result,
                key: object) -> Callable[[bytes, Run], None]:
    """Publish the PEM, then replace the staged key with a fresh one of the same type."""
    from mkcert.actions.staged_key import stage_key
    from mkcert.x509.key_types import key_spec_of

    spec = key_spec_of(key)

    def publish(data: bytes, run: Run) -> None:
        target.publish(data, run)
        stage_key(pem, spec, pem_stat, run)

    return publish
