"""Property test: ``prompt = yes`` answered through stdin agrees with ``openssl req``.

Random questions with defaults, ``_min``/``_max`` and ``_value``, answered
with random lines (empty, ``.``, too long, non-ASCII, or too few lines): the
subject, or the refusal, must be OpenSSL's.
"""

import os
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "openssl_corpus"))

import oracle  # noqa: E402

FIELDS = ["C", "ST", "O", "OU", "CN", "emailAddress", "title", "foo", "1.2.3.4"]
ANSWER = st.one_of(st.sampled_from(["", ".", "US", "x", "caf\u00e9", "toolong" * 3,
                                    "a@b.example", " spaced "]),
                   st.text(alphabet="abcXYZ 019.-\u00fc", max_size=10))


@st.composite
def questionnaires(draw):
    lines = ["[req]", "distinguished_name = dn", "[dn]"]
    for index, field in enumerate(draw(st.lists(st.sampled_from(FIELDS), min_size=1,
                                                max_size=4))):
        key = f"{index}.{field}"
        lines.append(f"{key} = Question {index}")
        if draw(st.booleans()):
            lines.append(f"{key}_default = {draw(st.sampled_from(['DE', 'dflt', 'x' * 70]))}")
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"{key}_min = {draw(st.integers(0, 4))}")
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"{key}_max = {draw(st.integers(0, 8))}")
        if draw(st.integers(0, 5)) == 0:
            lines.append(f"{key}_value = {draw(st.sampled_from(['preset', 'p' * 9]))}")
    answers = draw(st.lists(ANSWER, max_size=8))
    return "\n".join(lines) + "\n", answers


@settings(max_examples=int(os.environ.get("MKCERT_EXAMPLES", 60)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(questionnaires())
def test_answers_match_openssl(questionnaire):
    text, answers = questionnaire
    problems = oracle.compare_request(oracle.Case(text, "prompt.cnf", stdin=answers))
    assert not problems, (f"{oracle.openssl_version()}:\n{text}answers={answers!r}\n"
                          + "; ".join(problems))
