"""Every relative link in README.md and docs/*.md leads to a file, and to a heading there.

Anchors are matched against the ids GitHub gives headings: the heading's
text (without markup) in lower case, everything but letters, digits,
spaces, hyphens and underscores dropped, spaces made hyphens, and -1, -2,
... appended to repeats.  Lines inside fenced code blocks are neither
headings nor links.  Every page of docs/ must be reachable from the README.
"""

import os
import re

import pytest

from conftest import ROOT

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _pages():
    docs = os.path.join(ROOT, "docs")
    return ["README.md"] + sorted(os.path.join("docs", n) for n in os.listdir(docs)
                                  if n.endswith(".md"))


def _prose_lines(text):
    """(line number, line) of what is not inside a fenced code block."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None and opened and opened.group(1)[0] == fence[0] \
                and len(opened.group(1)) >= len(fence) and not line.strip()[len(opened.group(1)):]:
            fence = None
        elif fence is None:
            yield number, line


def slug(heading):
    """The id GitHub gives a heading of this text."""
    text = _INLINE_CODE.sub(lambda m: m.group(2), heading)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[*_]{1,3}(\S(?:.*?\S)?)[*_]{1,3}", r"\1", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text):
    seen, found = {}, set()
    for _, line in _prose_lines(text):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
    return found


def links(text):
    """(line number, target) of every link outside code."""
    for number, line in _prose_lines(text):
        for match in _LINK.finditer(_INLINE_CODE.sub("", line)):
            yield number, match.group(2)


def _read(relative):
    with open(os.path.join(ROOT, relative), encoding="utf-8") as handle:
        return handle.read()


def _broken(page):
    problems = []
    for number, target in links(_read(page)):
        if not target or _EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        where = f"{page}:{number}: {target}"
        if resolved.startswith(".."):
            problems.append(f"{where}: leaves the repository")
        elif not os.path.exists(os.path.join(ROOT, resolved)):
            problems.append(f"{where}: no such file")
        elif anchor and not resolved.endswith(".md"):
            problems.append(f"{where}: an anchor into a file that is not Markdown")
        elif anchor and anchor not in anchors(_read(resolved)):
            problems.append(f"{where}: no heading #{anchor} in {resolved}")
    return problems


@pytest.mark.parametrize("page", _pages())
def test_every_relative_link_leads_to_a_file_and_heading(page):
    problems = _broken(page)
    assert not problems, "\n".join(problems)


def test_every_docs_page_is_reachable_from_the_readme():
    reached, todo = set(), ["README.md"]
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        for _, target in links(_read(page)):
            path = target.partition("#")[0]
            if path and not _EXTERNAL.match(target) and path.endswith(".md"):
                resolved = os.path.normpath(os.path.join(os.path.dirname(page), path))
                if os.path.exists(os.path.join(ROOT, resolved)):
                    todo.append(resolved)
    assert [page for page in _pages() if page not in reached] == []


@pytest.mark.parametrize("heading, expected", [
    ("Using a certificate from Let's Encrypt", "using-a-certificate-from-lets-encrypt"),
    ("Monitoring with `--check`", "monitoring-with---check"),
    ("The timer (Debian)", "the-timer-debian"),
    ("DH parameters: `mkdhparams`", "dh-parameters-mkdhparams"),
    ("Installing a certificate: `--install`", "installing-a-certificate---install"),
    ("Plain scripts or entry points?", "plain-scripts-or-entry-points"),
    ("Final numbers (HEAD 2d30c16 and after)", "final-numbers-head-2d30c16-and-after"),
    ("A [linked](x.md) *word*", "a-linked-word"),
])
def test_slug_is_githubs(heading, expected):
    assert slug(heading) == expected


def test_headings_in_code_blocks_are_not_anchors_and_repeats_are_numbered():
    text = "# One\n\n```console\n# mkimapdcert --check\n```\n\n## One\n\n## Two `x`\n"
    assert anchors(text) == {"one", "one-1", "two-x"}


def test_links_in_code_are_not_links():
    text = "[a](a.md) `[b](b.md)`\n```\n[c](c.md)\n```\n[d](d.md#e)\n"
    assert list(links(text)) == [(1, "a.md"), (5, "d.md#e")]
