"""``--install``: put a CA-issued key and certificate chain into Courier's PEM.

Courier wants the private key and the certificates in one file
(``TLS_CERTFILE``); a CA, and certbot in particular, hands them out as
separate files and renews them every few weeks.  The usual deploy hook,
``cat privkey.pem fullchain.pem > imapd.pem``, writes in place (a client may
read half a file), with the umask of the moment (often world-readable), and
never asks whether the key belongs to the certificate.  Here:

1. the inputs are read and judged before anything is written (see
   :func:`read_material` and :func:`verify`): an unencrypted key only from a
   file nobody else can replace, the key must match the leaf certificate,
   the leaf and every chain certificate must be valid now, and each
   certificate must be issued (signed) by the next one;
2. Courier's layout is assembled: the key in its own PEM form, the leaf,
   then the intermediates (and any DH parameters the old file carried);
3. the file is published atomically by :mod:`mkcert.system.publish`: a new file is
   0600 and the mail user's, a replaced one keeps its mode (made safe),
   owner and group, and the previous one stays as ``PEMFILE.pem.old``;
   identical content changes nothing, so a hook may run as often as it likes.

Choices made where Courier and certbot leave the behaviour open:

* ``--cert`` may hold the whole chain (certbot's ``fullchain.pem``): its first
  certificate is the leaf, the rest are intermediates; ``--chain`` files add
  more, and a certificate given twice is kept once;
* the key file's own mode, its owner, and every directory on its way must
  not let anyone but root or the running user replace it; the certificates
  are public and are proven by their signatures instead;
* an expired or not yet valid intermediate is refused like the leaf, since
  clients refuse the server the moment they meet it;
* a PEM that is a symbolic link is refused, as ``--renew`` does.
"""

from __future__ import annotations

import datetime
import os
import stat
from collections.abc import Sequence

from mkcert.system.files import FileTooLarge, NotRegularFile, read_regular_file
from mkcert.system.trust import why_replaceable
from mkcert.x509 import chain
from mkcert.errors import AlreadyExists, Interrupted, MkcertError, describe
from mkcert.request import REQUIRED, Record

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from cryptography.x509 import Certificate

__all__ = ["CERTBOT_KEY", "CERTBOT_FULLCHAIN", "KEPT_LABELS", "Plan", "Material", "Outcome",
           "install", "install_material", "material_from_certbot", "parse_private_key",
           "read_material", "read_private_key", "verify",
           "missing_issuer"]

CERTBOT_KEY = "privkey.pem"
CERTBOT_FULLCHAIN = "fullchain.pem"
# PEM blocks of the old file that are not key or certificates but that
# Courier reads from TLS_CERTFILE: OpenSSL builds take DH parameters there.
KEPT_LABELS = (b"DH PARAMETERS",)


class Plan(Record):
    """``--install``: into ``pem`` (a new one owned by ``user``), certbot's ``from_certbot``
    directory, or the ``key``, ``cert`` and ``chain`` files."""

    FIELDS = (("pem", REQUIRED), ("user", REQUIRED), ("key", None), ("cert", None),
              ("chain", ()), ("from_certbot", None), ("prove", False), ("keyfile", None))
    __slots__ = tuple(name for name, _ in FIELDS)


class Material(Record):
    """A private key and its certificates, leaf first, as read from the inputs.

    ``key``: the cryptography private key, ``key_block`` its PEM as it will
    be written; ``certificates``: cryptography certificates; ``key_path`` and
    ``cert_paths`` (``--cert`` first, then the ``--chain`` files): where they
    came from, for messages.
    """

    FIELDS = (("key", REQUIRED), ("key_block", REQUIRED), ("key_path", REQUIRED),
              ("certificates", REQUIRED), ("cert_paths", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)

    @property
    def leaf(self) -> "Certificate":
        return self.certificates[0]

    @property
    def chain_paths(self) -> Sequence[str]:
        """The ``--chain`` files (none for certbot's fullchain.pem, which holds its chain)."""
        return self.cert_paths[1:]

    @property
    def sources(self) -> str:
        """The input files, for messages: ``KEY, CERT[, CHAIN...]``."""
        return ", ".join((self.key_path, *self.cert_paths))

    def pem_bytes(self, trailer: bytes = b"") -> bytes:
        """Courier's layout: the key as given, the leaf, the intermediates, then ``trailer``."""
        from mkcert.x509.certificate import certificate_pem
        from mkcert.x509.inspect import certificate_der

        parts = [self.key_block]
        parts += [certificate_pem(certificate_der(c)) for c in self.certificates]
        return b"".join(parts) + trailer


class Outcome(Record):
    """What an install did: ``changed`` False when the PEM already held this content.

    ``line``: what to print about it; ``warnings``: what the admin should
    know although the install went ahead, one line each (a certificate
    installed without its issuer).
    """

    FIELDS = (("changed", REQUIRED), ("line", REQUIRED), ("warnings", ()))
    __slots__ = tuple(name for name, _ in FIELDS)


def material_from_certbot(live_directory: str) -> Material:
    """certbot's ``LIVEDIR/privkey.pem`` and ``LIVEDIR/fullchain.pem``."""
    if not os.path.isdir(live_directory):
        raise MkcertError(f"{live_directory}: not a directory (certbot keeps a certificate "
                          f"in /etc/letsencrypt/live/NAME)")
    return read_material(os.path.join(live_directory, CERTBOT_KEY),
                         os.path.join(live_directory, CERTBOT_FULLCHAIN))


def read_material(key_path: str, cert_path: str, chain_paths: Sequence[str] = ()) -> Material:
    """Read and parse the key and certificate files; refuse what cannot be used as is."""
    key_data = _read_input(key_path, "private key", trusted=True)
    key, key_block = _parse_key(key_data, key_path)
    certificates, seen = [], set()
    for path in [cert_path, *chain_paths]:
        found = _parse_certificates(_read_input(path, "certificate"), path)
        for certificate in found:
            identity = certificate.tbs_certificate_bytes + certificate.signature
            if identity not in seen:
                seen.add(identity)
                certificates.append(certificate)
    return Material(key, key_block, key_path, tuple(certificates), (cert_path, *chain_paths))


def read_private_key(path: str) -> object:
    """The one private key of the file at ``path``, read as ``--key`` is (trusted files only)."""
    return _parse_key(_read_input(path, "private key", trusted=True), path)[0]


def parse_private_key(data: bytes, path: str) -> object:
    """The one private key in ``data`` (a PEM read from ``path``), as ``--key`` is parsed."""
    return _parse_key(data, path)[0]


def _read_input(path, what, trusted=False):
    """The bytes of an input file (symlinks followed, as certbot's ``live/`` needs).

    ``trusted``: the file holds a secret that will be served as ours, so
    nobody but root or the running user may be able to replace it.
    """
    vet = (lambda st: _refuse_replaceable(path, st)) if trusted else None
    try:
        return read_regular_file(path, chain.MAX_PEM_BYTES, vet=vet)
    except NotRegularFile:
        raise MkcertError(f"{path}: not a regular file") from None
    except FileTooLarge:
        raise MkcertError(f"{path}: larger than {chain.MAX_PEM_BYTES} bytes, more than any "
                          f"PEM holds; not read") from None
    except OSError as exc:
        raise MkcertError(f"cannot read {what} {path}: {describe(exc)}") from None


def _refuse_replaceable(path, st):
    """Refuse a key that someone other than root or us could have written or swapped."""
    reason = why_replaceable(path, st)
    if reason:
        real = os.path.realpath(path)
        named = path if real == os.path.abspath(path) else f"{path} (a link to {real})"
        raise MkcertError(f"{named} {reason}; not reading a private key from it")


def _parse_key(data, path):
    """The one private key in ``data`` and its PEM block, normalised to LF line ends."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from mkcert.x509.privatekeys import load_private_key

    blocks = chain.pem_blocks(data)
    if chain.is_encrypted(blocks):
        raise MkcertError(f"{path}: the private key is encrypted; Courier cannot ask for "
                          f"a passphrase (decrypt it: openssl pkey -in KEY -out NEWKEY)")
    found = chain.private_key_blocks(blocks)
    if not found:
        raise MkcertError(f"{path}: no private key in it (no BEGIN ... PRIVATE KEY block)")
    if len(found) > 1:
        raise MkcertError(f"{path}: {len(found)} private keys in it; give a file with one")
    block = found[0].replace(b"\r\n", b"\n") + b"\n"
    try:
        key = load_private_key(block)
    except (ValueError, TypeError) as exc:
        raise MkcertError(f"{path}: the private key cannot be read: {exc}") from None
    except Exception as exc:  # UnsupportedAlgorithm and the like
        raise MkcertError(f"{path}: the private key cannot be used: {exc}") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey,
                            ed25519.Ed25519PrivateKey)):
        kind = type(key).__name__.lstrip("_").replace("PrivateKey", "") or "unknown"
        raise MkcertError(f"{path}: the private key is {kind}; Courier's TLS servers need "
                          f"an RSA, ECDSA or Ed25519 key")
    return key, block


def _parse_certificates(data, path):
    blocks = chain.certificate_blocks(chain.pem_blocks(data))
    if not blocks:
        raise MkcertError(f"{path}: no certificate in it (no BEGIN CERTIFICATE block)")
    certificates = []
    for number, block in enumerate(blocks, 1):
        try:
            certificates.append(chain.load_certificate(block))
        except ValueError as exc:
            raise MkcertError(f"{path}: certificate {number} cannot be read: {exc}") from None
    return certificates


def verify(material: Material, now: datetime.datetime | None = None) -> None:
    """Refuse (MkcertError) a key and chain that a TLS server could not serve as they are."""
    from mkcert.actions.check_result import format_moment
    from mkcert.x509.compat import not_valid_after, not_valid_before

    leaf = material.leaf
    try:
        matches = chain.key_matches(material.key, leaf)
    except ValueError as exc:
        raise MkcertError(f"the certificate in {material.cert_paths[0]} ({_subject(leaf)}): "
                          f"{exc}") from None
    if not matches:
        raise MkcertError(f"the private key in {material.key_path} does not belong to the "
                          f"certificate in {material.cert_paths[0]} ({_subject(leaf)})")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    for number, certificate in enumerate(material.certificates, 1):
        which = ("the certificate" if number == 1 else
                 f"chain certificate {number} ({_subject(certificate)})")
        start, end = not_valid_before(certificate), not_valid_after(certificate)
        if now < start:
            raise MkcertError(f"{which} is not valid before {format_moment(start)}")
        if now >= end:
            raise MkcertError(f"{which} expired {format_moment(end)}")
    breaks = chain.chain_breaks(material.certificates)
    if breaks:
        raise MkcertError(f"the chain does not hold: {breaks[0][1]} "
                          f"(certificates in order from {', '.join(material.cert_paths)})")
    missing = missing_issuer(material)
    if missing is not None and material.chain_paths:
        raise MkcertError(f"the chain in {', '.join(material.chain_paths)} does not hold the "
                          f"issuer of the certificate in {material.cert_paths[0]} ({missing}), "
                          f"only that certificate itself; clients could not build the chain "
                          f"(give the CA's intermediate certificates, certbot's chain.pem)")


def missing_issuer(material: Material) -> str | None:
    """The leaf's issuer when no certificate given issued it; None if there is one or none is due.

    Only a lone leaf can lack its issuer (:func:`verify` checks every link
    of a longer chain); a self-signed one has none to lack.
    """
    if len(material.certificates) > 1 or chain.is_self_signed(material.leaf):
        return None
    return _issuer(material.leaf)


def _warnings(material):
    """A leaf installed without its issuer: clients must know that issuer already."""
    missing = missing_issuer(material)
    if missing is None:
        return []
    return [f"no chain certificate: clients must already know {missing}, which issued "
            f"{_subject(material.leaf)}, or they cannot verify the certificate in "
            f"{material.cert_paths[0]}"]


def _subject(certificate):
    from mkcert.x509.inspect import format_name, subject_der

    return format_name(subject_der(certificate)) or "(empty subject)"


def install(plan: Plan) -> Outcome:
    """``--install``: read the key and chain the plan names, and put them into its PEM.

    Returns the :class:`Outcome` to report; MkcertError for what cannot be installed.
    """
    if plan.from_certbot is not None:
        material = material_from_certbot(plan.from_certbot)
    elif plan.key is None:
        # The certificate a CA issued for the staged next key (certbot --csr):
        # installed like a rollover, then a fresh next key is staged.
        return _install_staged(plan)
    else:
        material = read_material(plan.key, plan.cert, plan.chain)
    return install_material(plan.pem, material, plan.user, prove=plan.prove,
                            keyfile=plan.keyfile)


def install_material(pem: str, material: Material, user: str,
                     now: datetime.datetime | None = None, prove: bool = False,
                     keyfile: str | None = None) -> Outcome:
    """Verify ``material`` and make it the content of ``pem``; returns an :class:`Outcome`.

    ``user``: the owner of a new file (a replaced file keeps its owner).
    Runs at the same time (two hooks, the timer and an admin) may race:
    when publishing fails because another run got there first, what is
    there now is judged again, and a PEM that holds exactly this content
    is "unchanged" (exit 0), as it would be for a run that came later.
    ``prove``: load the bytes into a TLS server context before publishing
    them (a per-domain file, whose failure Courier would not report).
    ``keyfile``: Courier's ``TLS_PRIVATE_KEYFILE``, which takes the key
    while ``pem`` takes the chain (:mod:`mkcert.actions.keyfile`).
    """
    verify(material, now)
    if keyfile is not None:
        return _put_pair(pem, keyfile, material, user, prove).replace(
            warnings=tuple(_warnings(material)))
    try:
        outcome = _put(pem, material, user, prove)
    except Interrupted:
        raise
    except AlreadyExists:
        # Another run created the PEM after we looked: judge again what it holds.
        outcome = _put(pem, material, user, prove)
    except MkcertError:
        outcome = _unchanged_after_race(pem, material)
        if outcome is None:
            raise
    return outcome.replace(warnings=tuple(_warnings(material)))


def _put(pem, material, user, prove=False):
    """Create or replace ``pem`` with the material, or say that it holds it already."""
    from mkcert.system import publish
    from mkcert.system.target import Target

    current = _current(pem)
    target = Target(pem) if current is None else Target(pem, *current)
    if target.is_new:
        owner = publish.Owner.lookup(user)
        data = material.pem_bytes()
        _prove(pem, data, prove)
        with publish.Run() as run:
            publish.remove_stale_temporaries(pem)
            target.publish(data, run, owner)
        return Outcome(True, f"{pem}: installed {_summary(material)}")
    data = material.pem_bytes(_kept_blocks(target.old_data))
    if data == target.old_data:
        return _unchanged(pem, material, target.old_stat)
    _prove(pem, data, prove)
    with publish.Run() as run:
        publish.remove_stale_temporaries(pem)
        target.publish(data, run)
    line = f"{pem}: installed {_summary(material)}; the previous one is {target.old_path}"
    if target.mode_changes:
        line += f"; mode {target.old_mode:04o} became {target.kept_mode:04o}"
    return Outcome(True, line)


def _put_pair(pem, keyfile, material, user, prove):
    """The chain into ``pem`` and the key into ``keyfile``, as one install."""
    from mkcert.actions.keyfile import current, split
    from mkcert.system import publish
    from mkcert.system.pair import publish_pair

    certificate, key = current(pem), current(keyfile)
    key_data, rest = split(material.pem_bytes())
    if not certificate.is_new:
        rest += _kept_blocks(certificate.old_data)
    if (certificate.old_data, key.old_data) == (rest, key_data):
        unchanged = _unchanged(keyfile, material, key.old_stat)
        return unchanged.replace(line=f"{pem} and {unchanged.line}")
    if prove:
        from mkcert.x509.loadable import pem_load_error

        error = pem_load_error(rest, key_data)
        if error is not None:
            raise MkcertError(f"{pem}: not installed, a TLS server could not load it: "
                              f"{error}")
    owner = publish.Owner.lookup(user)
    with publish.Run() as run:
        publish_pair(certificate, rest, key, key_data, run, owner)
    kept = [target.old_path for target in (certificate, key) if not target.is_new]
    line = f"{pem} and {keyfile}: installed {_summary(material)}"
    if kept:
        line += f"; the previous ones are {' and '.join(kept)}"
    return Outcome(True, line)


def _prove(pem, data, prove):
    if not prove:
        return
    from mkcert.x509.loadable import pem_load_error

    error = pem_load_error(data)
    if error is not None:
        raise MkcertError(f"{pem}: not installed, a TLS server could not load it: {error}")


def _unchanged(pem, material, old_stat):
    from mkcert.system.target import UNSAFE_MODE_BITS

    line = f"{pem}: unchanged, it already holds {_summary(material)}"
    mode = stat.S_IMODE(old_stat.st_mode)
    if mode & UNSAFE_MODE_BITS:
        # Identical content changes nothing, not even the mode; but say it.
        line += f"; warning: its mode {mode:04o} is unsafe for a private key"
    return Outcome(False, line)


def _unchanged_after_race(pem, material):
    """The "unchanged" outcome if ``pem`` now holds exactly this material; else None."""
    try:
        current = _current(pem)
    except MkcertError:
        return None
    if current is None:
        return None
    old_data, old_stat = current
    if material.pem_bytes(_kept_blocks(old_data)) != old_data:
        return None
    return _unchanged(pem, material, old_stat)


def _current(pem):
    """(bytes, lstat) of the PEM being replaced, or None when there is none."""
    from mkcert.system.publish import file_to_replace

    st = file_to_replace(pem, "installing", "remove the link, or install into the file "
                                            "it points to")
    if st is None:
        return None
    try:
        data = read_regular_file(pem, chain.MAX_PEM_BYTES, follow_symlinks=False)
    except FileTooLarge:
        raise MkcertError(f"{pem}: larger than {chain.MAX_PEM_BYTES} bytes, more than any PEM "
                          f"holds; not replacing it") from None
    except OSError as exc:
        raise MkcertError(f"cannot read {pem}: {describe(exc)}") from None
    return data, st


def _kept_blocks(old_data):
    """The blocks of the old PEM that are neither key nor certificate but still Courier's."""
    kept = [block.replace(b"\r\n", b"\n") + b"\n"
            for label, block in chain.pem_blocks(old_data) if label in KEPT_LABELS]
    return b"".join(kept)


def _summary(material):
    """``CN=... issued by CN=..., valid until ...`` for the one line an install prints."""
    from mkcert.actions.check_result import format_moment
    from mkcert.x509.compat import not_valid_after

    leaf = material.leaf
    intermediates = len(material.certificates) - 1
    chain_text = ("no chain certificates" if intermediates == 0 else
                  f"{intermediates} chain certificate{'s' if intermediates > 1 else ''}")
    issuer = _issuer(leaf)
    return (f"{_subject(leaf)} (issued by {issuer}, valid until "
            f"{format_moment(not_valid_after(leaf))}; {chain_text}) from {material.sources}")


def _issuer(certificate):
    from mkcert.x509.inspect import format_name, issuer_der

    return format_name(issuer_der(certificate)) or "(empty name)"


def _install_staged(plan: Plan) -> Outcome:
    """``--install --cert FILE`` without ``--key``: the staged key, then a fresh one staged.

    The certificate must be for the staged key (checked as for ``--key``);
    once the PEM holds it, the staged file (still the served key until then)
    is replaced with a fresh key of the same type, as ``--renew --rollover`` does.
    """
    from mkcert.actions.staged_key import stage_key
    from mkcert.layout import staged_key_path
    from mkcert.system import publish
    from mkcert.x509.key_types import key_spec_of

    path = staged_key_path(plan.pem)
    if not os.path.lexists(path):
        raise MkcertError(f"--install needs --key, or a staged key in {path} "
                          f"(--stage-next-key) that the certificate is for")
    material = read_material(path, plan.cert, plan.chain)
    outcome = install_material(plan.pem, material, plan.user)
    if outcome.changed:
        pem_stat = os.stat(plan.pem)
        with publish.Run() as run:
            publish.remove_stale_temporaries(path)
            stage_key(plan.pem, key_spec_of(material.key), pem_stat, run)
            run.published = True
        outcome = outcome.replace(line=f"{outcome.line}; a fresh next key is staged in {path}")
    return outcome
