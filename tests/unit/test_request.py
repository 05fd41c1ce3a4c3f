"""mkcert.request's records keep what dataclasses gave them.

The request classes were frozen dataclasses; importing dataclasses cost the
command about 10 ms, so they are plain classes now.  Everything the readers,
the builder and --san rely on is checked here.
"""

import copy
import datetime
import pickle

import pytest

from mkcert.request import (IA5_STRING, UTF8_STRING, Attribute, CertRequest, Extension,
                            KeyContext, KeySpec)
from mkcert.readers.certtool.options import Option


def test_keywords_positions_and_defaults():
    assert Attribute("2.5.4.3", "x") == Attribute(oid="2.5.4.3", value="x", tag=UTF8_STRING)
    assert Attribute("2.5.4.3", "x", IA5_STRING).tag == IA5_STRING
    assert KeySpec() == KeySpec("rsa", 2048, "pkcs8")
    assert Extension("2.5.29.14", derive=len).critical is False
    request = CertRequest(subject=())
    assert (request.key, request.digest, request.days, request.extensions,
            request.flavour, request.warnings) == (KeySpec(), "sha256", 365, (), "openssl", ())
    assert request.not_before is request.not_after is request.serial is request.rand_file is None
    assert Option("name", "value", 3).line == 3


@pytest.mark.parametrize("make", [
    lambda: CertRequest(),                      # subject is required
    lambda: KeySpec(bitz=1024),                 # no such field
    lambda: KeySpec("rsa", 1, "pkcs8", None, "x"),  # too many positions
    lambda: Attribute("2.5.4.3", "x", oid="2.5.4.3"),  # given twice
    lambda: KeyContext(public_key_info=b"", public_key_bits=b"", subject=b""),
])
def test_wrong_arguments_are_type_errors(make):
    with pytest.raises(TypeError):
        make()


def test_replace_makes_a_changed_copy():
    request = CertRequest(subject=(), days=10)
    changed = request.replace(days=20, flavour="gnutls")
    assert (changed.days, changed.flavour, changed.subject) == (20, "gnutls", ())
    assert request.days == 10 and request.flavour == "openssl"
    assert request.replace() == request and request.replace() is not request
    with pytest.raises(TypeError):
        request.replace(colour="red")


def test_frozen():
    spec = KeySpec()
    with pytest.raises(AttributeError):
        spec.bits = 4096
    with pytest.raises(AttributeError):
        del spec.bits
    with pytest.raises(AttributeError):
        spec.other = 1
    assert spec.bits == 2048


def test_equal_and_hashed_by_value_and_type():
    assert KeySpec(bits=3072) == KeySpec(bits=3072) != KeySpec(bits=4096)
    assert len({KeySpec(), KeySpec(), KeySpec(bits=1024)}) == 2
    assert Option("a", "b", 1) != ("a", "b", 1)
    assert Attribute("1.2", "x") != Option("1.2", "x", UTF8_STRING)


def test_repr_names_every_field():
    assert repr(Attribute("2.5.4.3", "x")) == "Attribute(oid='2.5.4.3', value='x', tag=12)"
    assert repr(KeySpec()) == "KeySpec(algorithm='rsa', bits=2048, pem_format='pkcs8', curve=None)"


def test_copy_and_pickle():
    request = CertRequest(subject=((Attribute("2.5.4.3", "x"),),),
                          not_after=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
                          extensions=(Extension("2.5.29.19", True, b"\x30\x00"),))
    assert copy.copy(request) == request
    assert copy.deepcopy(request) == request
    assert pickle.loads(pickle.dumps(request)) == request


def test_validity_still_works():
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone.utc)
    start, end = CertRequest(subject=(), days=2).validity(now)
    assert start == now.replace(microsecond=0) and end - start == datetime.timedelta(days=2)
