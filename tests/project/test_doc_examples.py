"""Every example the docs mark as a real run still runs and prints what they show.

See tests/support/doc_examples.py for the mark, the sandbox each block
runs in, and what is ignored in the comparison (dates, fingerprints, long
hex strings, the volatile columns of ``ls -l``).  The blocks run as root,
as the docs show them (``# `` prompts, files given to other users).
"""

import os

import pytest

import doc_examples
from conftest import ROOT, _cannot_run


def _marked_blocks():
    found = []
    for name in doc_examples.marked_files():
        with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
            for line, steps in doc_examples.blocks(handle.read()):
                found.append(pytest.param(steps, id=f"{name}:{line}"))
    return found


BLOCKS = _marked_blocks()


def test_the_docs_mark_examples_of_every_kind():
    """A mark that stopped matching (a typo, a changed fence) would test nothing."""
    assert len(BLOCKS) >= 5
    commands = " ".join(step.command for block in BLOCKS for step in block.values[0])
    for wanted in ("--check", "--renew", "--san", "--install", "mkdhparams", "certbot-deploy-hook"):
        assert wanted in commands, wanted


def test_every_mark_is_followed_by_a_console_block():
    for name in doc_examples.marked_files():
        with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
            text = handle.read()
        marks = sum(line.strip() == doc_examples.MARK for line in text.splitlines())
        assert marks == len(doc_examples.blocks(text)), (
            f"{name}: every {doc_examples.MARK} must stand right above a ```console block")


@pytest.mark.parametrize("text, expected", [
    ("-rw-r----- 1 root courier 1488 Nov 27 07:18 /etc/courier/imapd.pem",
     "-rw-r----- <ls> /etc/courier/imapd.pem"),
    ("lrwxrwxrwx 1 root root 12 Jan  3  2025 link.pem -> imapd.pem", "lrwxrwxrwx <ls> link.pem -> imapd.pem"),
    ("expires 2027-11-27 05:26:53 UTC (364 days)", "expires <date> (364 days)"),
    ('"not_after": "2026-12-09T05:26:59+00:00",', '"not_after": "<date>",'),
    ("notBefore=Nov  7 05:27:02 2026 GMT", "notBefore=<date>"),
    ("SHA1 Fingerprint=D2:E0:7A:C1:2C:E7:CE:58:B1:45:87:1C:B0:0E:63:5E:0D:D5:94:76",
     "SHA1 Fingerprint=<fingerprint>"),
    ("3 1 1 0b9fa5a59eed715c26c1020c711b4f6ec42d58b0015e14337a39dad301c5afc3", "3 1 1 <hex>"),
    ("(364 days left; renewing within 30 days)", "(364 days left; renewing within 30 days)"),
])
def test_normalise_blots_out_what_differs_between_runs_only(text, expected):
    assert doc_examples.normalise(text) == expected


@pytest.mark.parametrize("steps", BLOCKS)
def test_a_marked_example_prints_what_the_docs_show(steps):
    if os.geteuid() != 0:
        _cannot_run("the docs' examples are runs as root")
    for step, printed in doc_examples.run_block(steps):
        shown = doc_examples.normalise("\n".join(step.output))
        got = doc_examples.normalise("\n".join(printed))
        assert got == shown, f"# {step.command}\n--- the docs show:\n{shown}\n--- it printed:\n{got}"
