"""Courier's per-name (SNI) lookup, name by name (mkcert.readers.servername).

Every expected list here is read off courier-libs' C code, not off our own
output: ``tcpd/libcouriertls.c`` (OpenSSL build: ``server_cert_cb``,
``get_servername_concated_readable_file``, ``process_certfile``) and
``tcpd/libcouriergnutls.c`` (GnuTLS build: ``get_server_cert``,
``check_cert``, ``check_cert_unicode``).  The converters stand for the IDN
library: for plain ASCII names both keep the name (libidn, Debian 12's) or
lowercase it (libidn2), as measured with the libraries themselves in
tests/differential/test_courier_sni.py, where Debian's couriertls serves
what these rules predict.
"""

import pytest

from mkcert.readers.servername import (DomainError, Stage, is_leftover, local_address,
                                       never_picked, normalise_domain, sibling_path, stages)


def keep(name):  # libidn's idna_to_*: an ASCII name passes unchanged
    return name


def lower(name):  # libidn2's idn2_to_ascii_8z: UTS #46 lowercases
    return name.lower()


def fail(name):  # a conversion that fails (bad punycode): the C code falls back
    return None


def suffixes(found):
    return [(stage.kind, list(stage.suffixes)) for stage in found]


# --- OpenSSL build -------------------------------------------------------------

def test_openssl_exact_name_then_local_ip_then_default():
    assert suffixes(stages("openssl", "imap.example.net", "192.0.2.7", keep, keep)) == [
        ("servername", ["imap.example.net"]),
        ("local-ip", ["192.0.2.7"]),
        ("default", [None])]


def test_openssl_has_no_parent_domains_and_keeps_case():
    # get_servername_concated_readable_file: one file, the name as sent.
    assert suffixes(stages("openssl", "IMAP.Example.net", None, lower, lower)) == [
        ("servername", ["IMAP.Example.net"]), ("default", [None])]


def test_openssl_slash_becomes_dot():
    assert suffixes(stages("openssl", "a/b.example", None, keep, keep))[0] == (
        "servername", ["a.b.example"])


def test_no_sni_no_ip_is_the_default_alone():
    assert suffixes(stages("openssl", None, None, keep, keep)) == [("default", [None])]
    assert suffixes(stages("gnutls", "", "", keep, keep)) == [("local-ip", [None])]


@pytest.mark.parametrize("ssllib", ["openssl", "gnutls"])
def test_mapped_ipv4_is_stripped_but_not_ipv6(ssllib):
    # strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.')
    assert local_address("::ffff:127.0.0.1") == "127.0.0.1"
    assert local_address("::ffff:7f00:1") == "::ffff:7f00:1"
    assert local_address("2001:db8::1") == "2001:db8::1"
    found = stages(ssllib, None, "::ffff:192.0.2.1", keep, keep)
    assert "192.0.2.1" in found[0].suffixes


# --- GnuTLS build --------------------------------------------------------------

def test_gnutls_walks_up_to_the_parent_domains():
    # check_cert_unicode: "imap.example.net", then after each '.'.
    assert suffixes(stages("gnutls", "imap.example.net", "127.0.0.1", keep, keep)) == [
        ("servername", ["imap.example.net", "example.net", "net"]),
        ("local-ip", ["127.0.0.1", None])]


def test_gnutls_a_label_first_then_the_name_as_sent():
    # libidn2 lowercases the A-label attempt; the second walk is the name as sent.
    found = stages("gnutls", "Mail.Example.org", None, lower, keep)
    assert found[0].suffixes == ("mail.example.org", "example.org", "org",
                                 "Mail.Example.org", "Example.org")
    # libidn (Debian 12's couriertls) keeps an ASCII name: capitals are looked for as sent.
    assert stages("gnutls", "Mail.Example.org", None, keep, keep)[0].suffixes == (
        "Mail.Example.org", "Example.org", "org")


def test_gnutls_u_label_walk_follows_the_a_label_walk():
    def to_unicode(name):
        return name.replace("xn--mnchen-3ya", "münchen")

    def to_ascii(name):
        return name.replace("münchen", "xn--mnchen-3ya")

    found = stages("gnutls", "imap.xn--mnchen-3ya.de", None, to_ascii, to_unicode)
    assert found[0].suffixes == ("imap.xn--mnchen-3ya.de", "xn--mnchen-3ya.de", "de",
                                 "imap.münchen.de", "münchen.de")


def test_gnutls_failed_conversions_fall_back_to_the_name_as_sent():
    # idn2_to_unicode fails: the buffer as received; idn2_to_ascii fails: no first walk.
    assert stages("gnutls", "a/b.example", None, fail, fail)[0].suffixes == (
        "a.b.example", "b.example", "example")


def test_gnutls_leading_and_trailing_dots_walk_as_the_c_loop_does():
    assert stages("gnutls", "a.b.", None, keep, keep)[0].suffixes == ("a.b.", "b.")
    assert stages("gnutls", ".a", None, keep, keep)[0].suffixes == (".a", "a")


def test_unknown_library_is_refused():
    with pytest.raises(ValueError):
        stages("nss", "a.example", None, keep, keep)


def test_sibling_path():
    assert sibling_path("/etc/courier/imapd.pem", None) == "/etc/courier/imapd.pem"
    assert sibling_path("/etc/courier/imapd.pem", "a.example") == (
        "/etc/courier/imapd.pem.a.example")


def test_stage_is_a_value():
    assert Stage("default", (None,)) == Stage("default", (None,))


# --- what --domain writes ------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("mail.example.org", "mail.example.org"),
    ("Mail.Example.ORG", "mail.example.org"),
    ("192.0.2.1", "192.0.2.1"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("2001:DB8:0::1", "2001:db8::1"),
])
def test_normalise_domain(given, expected):
    assert normalise_domain(given, lower) == expected


def test_normalise_domain_takes_the_converters_a_label():
    assert normalise_domain("münchen.de", lambda name: "xn--mnchen-3ya.de") == (
        "xn--mnchen-3ya.de")


@pytest.mark.parametrize("given, words", [
    ("", "empty"),
    ("a/b.example", "'/'"),
    ("a..example", "empty label"),
    (".example", "empty label"),
    ("example.", "empty label"),
    ("*.example.org", "parent domain"),
    ("a b.example", "blanks"),
    ("a\nb", "control"),
    ("-a.example", "not a valid domain name"),
    ("a_b.example", "not a valid domain name"),
    ("x" * 64 + ".example", "not a valid domain name"),
    ("münchen.de", "IDNA"),
])
def test_normalise_domain_refuses(given, words):
    with pytest.raises(DomainError) as raised:
        normalise_domain(given, lambda name: name.lower() if name.isascii() else None)
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)


# --- --check's verdicts on siblings ----------------------------------------------

@pytest.mark.parametrize("ssllib", ["openssl", "gnutls"])
def test_capitals_are_never_picked(ssllib):
    assert "capitals" in never_picked("Mail.example.org", ssllib)
    assert never_picked("mail.example.org", ssllib) is None


def test_u_label_file_is_picked_by_gnutls_only():
    assert never_picked("münchen.de", "gnutls") is None
    assert "xn--" in never_picked("münchen.de", "openssl")


@pytest.mark.parametrize("suffix", ["::ffff:127.0.0.1", ".example", "example.", "a..b"])
def test_names_no_lookup_reaches(suffix):
    assert never_picked(suffix, "gnutls") is not None
    assert never_picked(suffix, "openssl") is not None


@pytest.mark.parametrize("suffix, leftover", [
    ("old", True), ("mail.example.org.old", True), ("rand", True),
    ("tmp.0123456789abcdef", True), ("mail.example.org.tmp.0123456789abcdef", True),
    ("next-key.pem", True), ("mail.example.org", False), ("127.0.0.1", False),
])
def test_leftovers(suffix, leftover):
    assert is_leftover(suffix) is leftover
