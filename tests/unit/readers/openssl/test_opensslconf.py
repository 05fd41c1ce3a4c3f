"""Unit tests of the OpenSSL config parser's API and error reporting.

Behaviour against OpenSSL itself is in test_openssl_corpus.py; these pin the
interface other modules rely on and the things OpenSSL cannot show (line
numbers in our messages, the include callback, loops).
"""

import pytest

from mkcert.errors import ConfigError
from mkcert.readers.openssl.syntax import logical_lines, parse, strip_comment

SEED = """RANDFILE = /usr/lib/courier/pop3d.rand

[ req ]
default_bits = 1024 # Use 2056 if you're paranoid
encrypt_key = yes
distinguished_name = req_dn
"""


def test_default_section_and_fallback():
    config = parse(SEED, "pop3d.cnf")
    assert config.get("req", "default_bits") == "1024"
    assert config.get("req", "RANDFILE") == "/usr/lib/courier/pop3d.rand"
    assert config.get("default", "RANDFILE") == "/usr/lib/courier/pop3d.rand"
    assert config.get("req", "missing", "fallback") == "fallback"
    assert config.path == "pop3d.cnf"


def test_section_entries_in_order_with_lines():
    config = parse(SEED, "pop3d.cnf")
    assert config.section("req") == [("default_bits", "1024", 4), ("encrypt_key", "yes", 5),
                                     ("distinguished_name", "req_dn", 6)]
    assert config.section("nothing") is None
    assert config.line_of("req", "encrypt_key") == 5
    assert config.line_of("req", "RANDFILE") == 1


def test_repeated_key_last_wins_and_moves_to_end():
    config = parse("[s]\na = 1\nb = 2\na = 3\n", "x.cnf")
    assert config.section("s") == [("b", "2", 3), ("a", "3", 4)]


def test_undefined_variable_names_file_and_line():
    with pytest.raises(ConfigError) as caught:
        parse("[s]\n\nv = $nope\n", "/etc/courier/imapd.cnf")
    assert caught.value.path == "/etc/courier/imapd.cnf"
    assert caught.value.line == 3
    assert "$nope" in str(caught.value)
    assert str(caught.value).startswith("/etc/courier/imapd.cnf:3: ")


def test_environment_only_from_argument():
    text = "[s]\nv = $ENV::MKCERT_X\n"
    assert parse(text, "x", environ={"MKCERT_X": "y"}).get("s", "v") == "y"
    with pytest.raises(ConfigError):
        parse(text, "x")
    assert parse(text, "x", environ={"MKCERT_X": "y"}).get("ENV", "MKCERT_X") == "y"


def test_continuation_line_number_is_the_first_line():
    config = parse("[s]\na = 1 \\\n 2\nb = 3\n", "x")
    assert config.section("s") == [("a", "1  2", 2), ("b", "3", 4)]


def test_include_goes_through_the_callback():
    files = {"/inc/a.cnf": "[dn]\nCN = included\n"}
    asked = []

    def read_include(path):
        asked.append(path)
        return [(path, files[path])] if path in files else []

    config = parse(".include /inc/a.cnf\n.include /inc/none.cnf\n[req]\n", "main.cnf",
                   read_include=read_include)
    assert asked == ["/inc/a.cnf", "/inc/none.cnf"]
    assert config.get("dn", "CN") == "included"
    entry = config.entry("dn", "CN")
    assert (entry.path, entry.line) == ("/inc/a.cnf", 2)
    assert config.where("dn", "CN") == ("/inc/a.cnf", 2)
    assert any("none.cnf" in warning for warning in config.warnings)


def test_includedir_and_environment_prefix():
    asked = []

    def read_include(path):
        asked.append(path)
        return []

    parse(".pragma includedir:/etc/ssl\n.include x.cnf\n", "m", read_include=read_include)
    parse(".include x.cnf\n", "m", environ={"OPENSSL_CONF_INCLUDE": "/env/"},
          read_include=read_include)
    assert asked == ["/etc/ssl/x.cnf", "/env/x.cnf"]


def test_include_loop_is_an_error():
    def read_include(path):
        return [(path, ".include " + path + "\n")]

    with pytest.raises(ConfigError) as caught:
        parse(".include /loop.cnf\n", "/loop.cnf", read_include=read_include)
    assert "loop" in str(caught.value)


def test_runaway_expansion_is_an_error():
    lines = ["a = " + "x" * 16] + [f"{chr(98 + i)} = " + f"${chr(97 + i)}" * 8 for i in range(5)]
    with pytest.raises(ConfigError) as caught:
        parse("\n".join(lines) + "\n", "x")
    assert caught.value.line == 5  # e: 8 x 8192 bytes + 1 exceeds 65536, as in OpenSSL


def test_strip_comment_respects_quotes_and_escapes():
    assert strip_comment('a = "x#y" # z') == 'a = "x#y" '
    assert strip_comment("a = x\\#y#z") == "a = x\\#y"


def test_logical_lines_handle_crlf_and_missing_newline():
    assert list(logical_lines("a\r\nb\\\r\nc\nd")) == [(1, "a"), (2, "bc"), (4, "d")]


def test_include_reader_failure_names_the_include_line():
    from mkcert.errors import MkcertError

    def read_include(path):
        raise MkcertError(f"cannot read config {path}: permission denied")

    with pytest.raises(ConfigError) as caught:
        parse("[req]\n.include /etc/ssl/extra.cnf\n", "main.cnf", read_include=read_include)
    assert (caught.value.path, caught.value.line) == ("main.cnf", 2)
    assert "permission denied" in str(caught.value)
