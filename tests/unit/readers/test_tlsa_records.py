"""mkcert.readers.tlsa_records: zone-file TLSA records, as name servers and dig write them."""

import os
import shutil
import subprocess
import time

import pytest

from mkcert.errors import ConfigError, MkcertError
from mkcert.readers.tlsa_records import (MAX_RECORDS_BYTES, owner_matches, parse_records,
                                         read_records)

DIGEST = "ab" * 32
NAME = "_25._tcp.mx.example.org."


def fields(records):
    return [(r.owner, r.usage, r.selector, r.matching, r.data.hex(), r.line) for r in records]


def test_one_line_as_tlsa_prints_it():
    text = f"{NAME} IN TLSA 3 1 1 {DIGEST} ; current key\n"
    assert fields(parse_records(text, "z")) == [(NAME, 3, 1, 1, DIGEST, 1)]


def test_ttl_and_class_in_either_order_and_any_case():
    text = (f"{NAME} 3600 IN TLSA 3 1 1 {DIGEST}\n"
            f"{NAME} in 1h30m tlsa 3 1 1 {DIGEST.upper()}\n"
            f"{NAME} TLSA 2 0 2 {'cd' * 64}\n"
            f"{NAME} CLASS1 300 TLSA 3 0 0 3082\n")
    assert [(r.usage, r.selector, r.matching, r.data.hex()) for r in parse_records(text, "z")] == [
        (3, 1, 1, DIGEST), (3, 1, 1, DIGEST), (2, 0, 2, "cd" * 64), (3, 0, 0, "3082")]


def test_data_split_by_blanks_and_parentheses_across_lines_with_comments():
    text = (f"; the MX's keys\n"
            f"{NAME} 300 IN TLSA ( 3 1 1 ; DANE-EE SPKI SHA-256\n"
            f"    {DIGEST[:20]} {DIGEST[20:40]} ; first half\n"
            f"    {DIGEST[40:]} )\n"
            f"{NAME} IN TLSA 3 1 1 {DIGEST[:32]} {DIGEST[32:]}\r\n")
    records = parse_records(text, "z")
    assert fields(records) == [(NAME, 3, 1, 1, DIGEST, 2), (NAME, 3, 1, 1, DIGEST, 5)]


def test_a_whole_zone_other_types_quotes_origin_and_inherited_owner():
    text = ("$ORIGIN example.org.\n$TTL 3600\n"
            "@ IN SOA ns1 hostmaster ( 2026113001 ; serial\n 7200 3600 1209600 3600 )\n"
            "  IN NS ns1\n"
            "  IN TXT \"v=spf1 mx -all ; not a comment ( nor a parenthesis\"\n"
            "mx IN A 192.0.2.1\n"
            f"_25._tcp.mx IN TLSA 3 1 1 {DIGEST}\n"
            f"           IN TLSA 3 1 2 {'ef' * 64}\n"
            "www 60 IN CNAME mx\n")
    records = parse_records(text, "zone")
    assert fields(records) == [(NAME, 3, 1, 1, DIGEST, 8), (NAME, 3, 1, 2, "ef" * 64, 9)]
    assert records[0].where() == "zone:8"
    assert records[0].fields_text() == f"3 1 1 {DIGEST}"


def test_dig_output():
    text = (";; ANSWER SECTION:\n"
            f"{NAME} 3581 IN TLSA 3 1 1 {DIGEST[:56].upper()} {DIGEST[56:].upper()}\n"
            "\n;; Query time: 0 msec\n")
    assert fields(parse_records(text, "dig")) == [(NAME, 3, 1, 1, DIGEST, 2)]


def test_generic_rdata_of_rfc_3597():
    data = "030101" + DIGEST
    text = (f"{NAME} IN TYPE52 \\# 35 {data}\n"
            f"{NAME} IN TLSA \\# 35 {data[:10]} {data[10:]}\n")
    assert fields(parse_records(text, "z")) == [(NAME, 3, 1, 1, DIGEST, 1),
                                                 (NAME, 3, 1, 1, DIGEST, 2)]


@pytest.mark.parametrize("text, line, words", [
    (f"{NAME} IN TLSA 3 1 1\n", 1, "needs usage, selector, matching type and data"),
    (f"{NAME} IN TLSA 3 1 x {DIGEST}\n", 1, "matching type 'x' is not a number"),
    (f"{NAME} IN TLSA 256 1 1 {DIGEST}\n", 1, "usage '256' is not a number from 0 to 255"),
    (f"{NAME} IN TLSA -1 1 1 {DIGEST}\n", 1, "usage '-1'"),
    (f"\n{NAME} IN TLSA 3 1 1 {DIGEST[:-2]}\n", 2, "holds 32 bytes, this record 31"),
    (f"{NAME} IN TLSA 3 1 2 {DIGEST}\n", 1, "holds 64 bytes, this record 32"),
    (f"{NAME} IN TLSA 3 1 1 {DIGEST[:-1]}g\n", 1, "is not hexadecimal bytes"),
    (f"{NAME} IN TLSA 3 1 1 {DIGEST}a\n", 1, "is not hexadecimal bytes"),
    (f"{NAME} IN TLSA ( 3 1 1\n {DIGEST}\n", 1, "parenthesis is never closed"),
    (f"{NAME} IN TLSA 3 1 1 {DIGEST} )\n", 1, "closing parenthesis without an opening"),
    (f"{NAME} IN TLSA ( 3 1 ( 1 {DIGEST} ) )\n", 1, "parenthesis inside parentheses"),
    ("$ORIGIN example.org\n", 1, "$ORIGIN needs an absolute name"),
    ("\n\n$INCLUDE other.zone\n", 3, "$INCLUDE is not followed"),
    (f"{NAME} IN TLSA \\# 3 030101\n", 1, "shorter than its three fields"),
    (f"{NAME} IN TLSA \\# 36 030101{DIGEST}\n", 1, "not 36 hexadecimal bytes"),
    (f"ok IN A 192.0.2.1\n{NAME} IN TLSA 3 1 1 {DIGEST}\0\n", 2, "a NUL byte"),
])
def test_bad_records_name_file_and_line(text, line, words):
    with pytest.raises(ConfigError) as caught:
        parse_records(text.encode("latin-1"), "records.zone")
    message = str(caught.value)
    assert message.startswith(f"records.zone:{line}: "), message
    assert words in message
    assert "\n" not in message


def test_a_hostile_line_is_quoted_short_on_one_line():
    bad = "\x1b[2J" + "x" * 10_000 + "\u0085"
    with pytest.raises(ConfigError) as caught:
        parse_records(f"{NAME} IN TLSA 3 1 1 {bad}\n".encode("latin-1", "replace"), "z")
    message = str(caught.value)
    assert "\x1b" not in message and len(message) < 500 and message.isprintable()


def test_other_bytes_and_records_are_not_the_readers_business():
    text = b"caf\xc3\xa9 IN TXT \"\xff\xfe\"\nmx IN AAAA 2001:db8::1\n"
    assert parse_records(text, "z") == []


def test_relative_owner_without_origin_matches_the_names_it_begins():
    assert owner_matches("_25._tcp.mx", NAME)
    assert owner_matches("_25._TCP.MX.example.org.", NAME)
    assert not owner_matches("_25._tcp.mx.example.org", "_25._tcp.mx.example.com.")
    assert not owner_matches("_25._tcp.mx.example.org.", "_25._tcp.mx.example.org.uk.")
    assert not owner_matches("_25._tcp.m", NAME)
    assert not owner_matches("_587._tcp.mx", NAME)
    assert not owner_matches(None, NAME)


@pytest.mark.parametrize("shape", ["one long line", "many records", "open parenthesis",
                                   "unclosed quotes", "parentheses only"])
def test_huge_hostile_input_is_read_in_linear_time(shape):
    size = 4 << 20
    unit = {"one long line": "a",
            "many records": f"{NAME} IN TLSA 3 1 1 {DIGEST}\n",
            "open parenthesis": "x IN TXT ( \"a\" \n",
            "unclosed quotes": "x IN TXT \"\\\"\\\"\\\n",
            "parentheses only": "x IN TXT ()()\n"}[shape]
    text = (unit * (size // len(unit) + 1)).encode()
    started = time.monotonic()
    try:
        records = parse_records(text, "big")
    except ConfigError as exc:
        assert str(exc).startswith("big:")
    else:
        if shape == "many records":
            assert len(records) == size // len(unit) + 1
    assert time.monotonic() - started < 30


def test_read_records_is_bounded_and_says_what_went_wrong(tmp_path):
    path = tmp_path / "records.zone"
    path.write_text(f"{NAME} IN TLSA 3 1 1 {DIGEST}\n")
    assert fields(read_records(str(path))) == [(NAME, 3, 1, 1, DIGEST, 1)]
    with pytest.raises(MkcertError, match=r"^cannot read TLSA records .*: No such file"):
        read_records(str(tmp_path / "absent"))
    with pytest.raises(MkcertError, match="it is a directory"):
        read_records(str(tmp_path))
    with pytest.raises(MkcertError, match="not a regular file"):
        read_records("/dev/zero")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(MkcertError, match="not a regular file"):
        read_records(str(fifo))
    os.unlink(fifo)
    with open(path, "wb") as handle:
        handle.truncate(MAX_RECORDS_BYTES + 1)
    with pytest.raises(MkcertError, match=r"larger than 8 MiB$"):
        read_records(str(path))
    path.unlink()


@pytest.mark.skipif(shutil.which("nsd-checkzone") is None, reason="needs nsd-checkzone")
def test_a_zone_nsd_accepts_reads_the_same_records(tmp_path):
    """A name server is the oracle of the syntax: what it loads, we read alike."""
    zone = tmp_path / "example.org.zone"
    zone.write_text("$ORIGIN example.org.\n$TTL 300\n"
                    "@ IN SOA ns1 hostmaster ( 1 7200 3600 1209600 300 )\n"
                    "  IN NS ns1\nns1 IN A 192.0.2.53\n"
                    f"_25._tcp.mx IN TLSA ( 3 1 1 ; comment\n {DIGEST[:30]}\n {DIGEST[30:]} )\n"
                    f"  IN TLSA 2 1 2 {'ef' * 64}\n")
    checked = subprocess.run(["nsd-checkzone", "-p", "example.org", str(zone)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("TLSA") == 2
    ours = [(r.owner, r.fields_text()) for r in read_records(str(zone))]
    # nsd prints the zone with $ORIGIN lines and relative names of its own
    theirs = [(r.owner, r.fields_text()) for r in parse_records(checked.stdout, "nsd")]
    assert ours == theirs == [(NAME, f"3 1 1 {DIGEST}"), (NAME, f"2 1 2 {'ef' * 64}")]
    zone.unlink()
