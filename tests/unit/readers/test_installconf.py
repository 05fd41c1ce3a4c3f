"""The deploy hook's config, ``mkcert-install.conf``: PEM -> certbot lineage (mkcert.readers.installconf)."""

import pytest

from mkcert.errors import ConfigError
from mkcert.readers.installconf import parse

CONF = "/etc/courier/mkcert-install.conf"
CERTS = "/etc/courier"


def entries(text, certsdir=CERTS):
    return [(e.pem, e.lineage, e.line) for e in parse(text, CONF, certsdir)]


def test_the_documented_example():
    text = ("# PEM                      LINEAGE\n"
            "imapd                      mail.example.org\n"
            "pop3d                      mail.example.org\n"
            "\n"
            "/etc/courier/esmtpd.pem    /etc/letsencrypt/live/mail.example.org\n")
    assert entries(text) == [
        ("/etc/courier/imapd.pem", "mail.example.org", 2),
        ("/etc/courier/pop3d.pem", "mail.example.org", 3),
        ("/etc/courier/esmtpd.pem", "/etc/letsencrypt/live/mail.example.org", 5)]


def test_service_names_live_in_certsdir():
    assert entries("imapd a.example\n", certsdir="/srv/courier/share") == [
        ("/srv/courier/share/imapd.pem", "a.example", 1)]


def test_blanks_tabs_comments_and_crlf():
    text = "  \t\n#only a comment\n\timapd\t a.example  # trailing words\r\n   # indented\n"
    assert entries(text) == [("/etc/courier/imapd.pem", "a.example", 3)]


def test_paths_are_normalised_and_lineage_kinds_told_apart():
    (entry,) = parse("/etc//courier/./imapd.pem /etc/letsencrypt/live/a.example/\n",
                     CONF, CERTS)
    assert (entry.pem, entry.lineage) == ("/etc/courier/imapd.pem",
                                          "/etc/letsencrypt/live/a.example")
    assert entry.lineage_is_path
    (named,) = parse("imapd a.example-0001\n", CONF, CERTS)
    assert not named.lineage_is_path and named.lineage == "a.example-0001"


def test_several_pems_may_take_one_lineage():
    text = "imapd a.example\npop3d a.example\nesmtpd a.example\n"
    assert [pem for pem, _, _ in entries(text)] == [
        "/etc/courier/imapd.pem", "/etc/courier/pop3d.pem", "/etc/courier/esmtpd.pem"]


def test_empty_config_has_no_entries():
    assert entries("") == [] and entries("# nothing yet\n\n") == []


@pytest.mark.parametrize("text, line, words", [
    ("imapd\n", 1, "expected two fields"),
    ("imapd a.example b.example\n", 1, "found 3"),
    ("# ok\nimapd a.example\npop3d = a.example\n", 3, "found 3"),
    ("imapd.pem a.example\n", 1, "relative path"),
    ("certs/imapd.pem a.example\n", 1, "relative path"),
    ("/etc/courier/imapd a.example\n", 1, "must end in NAME.pem"),
    ("/etc/courier/.pem a.example\n", 1, "must end in NAME.pem"),
    ("-imapd a.example\n", 1, "not a service name"),
    ("imap$d a.example\n", 1, "not a service name"),
    ("imapd live/a.example\n", 1, "relative path"),
    ("imapd ../a.example\n", 1, "relative path"),
    ("imapd ..\n", 1, "not a certbot certificate name"),
    ("imapd -a.example\n", 1, "not a certbot certificate name"),
    ("imapd /\n", 1, "not a certbot live directory"),
    ("imapd a.example\n\nimapd b.example\n", 3, "listed twice (first at line 1)"),
    ("imapd a.example\n/etc/courier/imapd.pem a.example\n", 2, "listed twice"),
    ("/etc/courier/x/../imapd.pem a\nimapd a\n", 2, "listed twice"),
])
def test_mistakes_name_file_and_line(text, line, words):
    with pytest.raises(ConfigError) as caught:
        parse(text, CONF, CERTS)
    message = str(caught.value)
    assert message.startswith(f"{CONF}:{line}: "), message
    assert words in message
    assert "\n" not in message



def test_per_domain_targets():
    text = ("imapd@Mail.Example.ORG\n"
            "pop3d@mail.example.org  mail.example.org\n"
            "/etc/courier/esmtpd.pem.mail.example.org /etc/letsencrypt/live/m\n")
    found = parse(text, CONF, CERTS)
    assert [(e.pem, e.lineage, e.domain, e.per_domain) for e in found] == [
        ("/etc/courier/imapd.pem.mail.example.org", None, "mail.example.org", True),
        ("/etc/courier/pop3d.pem.mail.example.org", "mail.example.org", "mail.example.org", True),
        ("/etc/courier/esmtpd.pem.mail.example.org", "/etc/letsencrypt/live/m", None, True)]


def test_service_names_follow_the_service_config():
    def service_files(name):
        return f"/srv/tls/{name}.crt", f"/srv/tls/{name}.key"

    (plain, domain) = parse("imapd a\nimapd@m.example a\n", CONF, CERTS, service_files)
    assert (plain.pem, plain.keyfile) == ("/srv/tls/imapd.crt", "/srv/tls/imapd.key")
    assert (domain.pem, domain.keyfile) == ("/srv/tls/imapd.crt.m.example",
                                            "/srv/tls/imapd.key.m.example")


@pytest.mark.parametrize("text, words", [
    ("imapd@a/b.example\n", "'/'"),
    ("imapd@\n", "empty name"),
    ("im$apd@a.example\n", "not a service name"),
    ("imapd@a.example\nimapd@A.example x\n", "listed twice"),
    ("/etc/courier/imapd.key a\n", "must end in NAME.pem"),
    ("/etc/courier/imapd.pem. a\n", "must end in NAME.pem"),
])
def test_per_domain_mistakes(text, words):
    with pytest.raises(ConfigError) as caught:
        parse(text, CONF, CERTS)
    assert words in str(caught.value)
