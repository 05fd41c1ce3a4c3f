"""Debian's own /etc/courier templates, fetched from Debian's packages at test time.

The other tests read stand-ins of our own writing (tests/data/gnutls/).
Here the real files, from `apt-get download courier-imap courier-pop
courier-mta` (the ``debian_templates`` fixture), must still be certtool
templates of the stand-ins' shape, and give the certificate certtool gives.
Without network this module is skipped; under CI it fails instead.
"""

import shutil

import pytest

from conftest import DEBIAN_TEMPLATES, data_path
from test_template_certtool import certtool_certificate

from mkcert.x509 import compat
from mkcert.x509.certificate import build_certificate
from mkcert.readers.detect import detect_format
from mkcert.readers.certtool.options import scan
from mkcert.readers.certtool.template import read_template

pytestmark = pytest.mark.debian


def text_of(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("name", DEBIAN_TEMPLATES)
def test_debian_template_is_a_certtool_template(debian_templates, name):
    path = debian_templates[name]
    assert detect_format(text_of(path), path) == "gnutls"
    assert read_template(text_of(path), path).warnings == ()


@pytest.mark.parametrize("name", DEBIAN_TEMPLATES)
def test_test_data_has_the_shape_of_debians_template(debian_templates, name):
    """Same options in the same order: what the stand-in tests, Debian still ships."""
    real, ours = debian_templates[name], data_path("gnutls", f"{name}.cnf")
    assert ([o.name for o in scan(text_of(ours), ours)[0]]
            == [o.name for o in scan(text_of(real), real)[0]])


@pytest.mark.skipif(shutil.which("certtool") is None,
                    reason="certtool (gnutls-bin) is not installed")
@pytest.mark.parametrize("name", DEBIAN_TEMPLATES)
def test_same_certificate_as_certtool_from_debians_template(debian_templates, name,
                                                           certtool_key, tmp_path):
    from cryptography.hazmat.primitives import serialization

    path = debian_templates[name]
    key = serialization.load_pem_private_key(certtool_key.read_bytes(), None)
    theirs, skipped = certtool_certificate(path, certtool_key, tmp_path)
    assert skipped == []
    # The clock is read twice and certtool's serial may be random: pin both.
    request = read_template(text_of(path), path).replace(
        serial=theirs.serial_number, not_before=compat.not_valid_before(theirs),
        not_after=compat.not_valid_after(theirs))
    ours = build_certificate(request, key)
    assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes
    assert ours.signature == theirs.signature
