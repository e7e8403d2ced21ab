"""Bounded input (decision.md section 5): documents over 64 kB, and names or
values over MAX_TEXT characters, are refused with one short line, in little
memory, by `python -m spine_hemangioma` and by evaluate_json alike.

Memory is what is asserted: the command line's peak resident size (from
wait4) and evaluate_json's peak allocation (tracemalloc) stay bounded however
large the input. How fast that is belongs to the benchmark, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc

import pytest
from build_copy import REPO_ROOT
from spine_hemangioma import evaluate, evaluate_json
from spine_hemangioma.errors import MAX_DOCUMENT, MAX_PROBLEMS, MAX_TEXT, AnswerError

# A Python process that imports the package takes ~20 MB; the input never adds much.
MAX_RSS_KB = 64 * 1024
# One line: a few problems of a few hundred characters each.
MAX_MESSAGE = 2000
TOO_LONG = 'answers: too long (more than 64 kB); expected {"mri": "typical", "symptoms": "pain"}'
MB = 1024 * 1024


def big_value(size: int) -> bytes:
    return b'{"mri": "' + b"a" * size + b'"}'


def many_fields(count: int) -> bytes:
    return json.dumps({f"field{i}": "typical" for i in range(count)}).encode()


# (id, argument or None, stdin, the message's start); inputs made when a test runs
CASES = [
    ("100 MB value on stdin", None, lambda: big_value(100 * MB), TOO_LONG),
    ("100 MB of whitespace on stdin", None, lambda: b" " * (100 * MB), TOO_LONG),
    ("65 kB document on stdin", None, lambda: big_value(MAX_DOCUMENT), TOO_LONG),
    ("100 kB value as argument", lambda: big_value(100_000), lambda: b"", TOO_LONG),
    ("200,000 unknown fields", None, lambda: many_fields(200_000), TOO_LONG),
    (
        "2,000 unknown fields under 64 kB",
        None,
        lambda: many_fields(2000),
        "unknown field 'field0'; fields: ",
    ),
    (
        "a long field name",
        None,
        lambda: json.dumps({"m" * 5000: "typical"}).encode(),
        f"a field name of 5000 characters; at most {MAX_TEXT}",
    ),
    (
        "a long value",
        None,
        lambda: json.dumps({"mri": "t" * 5000}).encode(),
        f"mri: a value of 5000 characters; at most {MAX_TEXT}",
    ),
]

# Run by a small Python process: a child's peak resident size counts its
# parent's at fork, so the parent must not be pytest holding the input.
MEASURE = """
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "spine_hemangioma", *sys.argv[1:]],
                      capture_output=True)
sys.stdout.buffer.write(proc.stdout); sys.stderr.buffer.write(proc.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(proc.returncode)
"""


def run_measured(args: list[str], stdin: bytes, tmp_path) -> tuple[int, bytes, bytes, int]:
    """Exit status, stdout, stderr and peak resident size (kB) of the command line,
    its standard input read from a file."""
    given = tmp_path / "stdin"
    given.write_bytes(stdin)
    with given.open("rb") as f:
        proc = subprocess.run(
            [sys.executable, "-c", MEASURE, *args],
            cwd=REPO_ROOT,
            stdin=f,
            capture_output=True,
            timeout=60,
            check=False,
        )
    *err, rss = proc.stderr.splitlines(keepends=True)
    return proc.returncode, proc.stdout, b"".join(err), int(rss)


@pytest.mark.parametrize(
    ("arg", "stdin", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_command_line_refuses_oversize_input_in_little_memory(arg, stdin, message, tmp_path):
    status, out, err, rss_kb = run_measured([arg().decode()] if arg else [], stdin(), tmp_path)
    assert (status, out) == (2, b"")
    line = err.decode("utf-8")
    assert line.startswith(f"spine_hemangioma: error: {message}")
    assert line.count("\n") == 1
    assert len(line) < MAX_MESSAGE
    assert rss_kb < MAX_RSS_KB, f"peak resident size {rss_kb} kB"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * (100 * MB), TOO_LONG),
        ("é" * (MAX_DOCUMENT // 2 + 1), TOO_LONG),  # under the bound in characters, over in bytes
        (big_value(100 * MB), TOO_LONG),
        (many_fields(2000).decode(), "unknown field 'field0'"),
    ],
    ids=["100 MB text", "64 kB of two-byte characters", "100 MB bytes", "2,000 unknown fields"],
)
def test_evaluate_json_refuses_oversize_input_in_little_memory(text, message):
    evaluate_json("{}")  # the content loaded before measuring
    tracemalloc.start()
    try:
        answer = json.loads(evaluate_json(text))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer["error"].startswith(message)
    assert len(answer["error"]) < MAX_MESSAGE
    assert peak < MB, f"peak allocation {peak} bytes"


def test_many_problems_are_counted_not_listed():
    answers = {f"field{i}": "typical" for i in range(50)}
    with pytest.raises(AnswerError) as info:
        evaluate(answers)
    assert len(info.value.problems) == MAX_PROBLEMS
    assert info.value.more == 50 - MAX_PROBLEMS
    assert str(info.value).endswith(f" | and {50 - MAX_PROBLEMS} more problems")


def test_one_problem_past_the_limit_is_named_in_the_singular():
    answers = {f"field{i}": "typical" for i in range(MAX_PROBLEMS + 1)}
    with pytest.raises(AnswerError, match=r" \| and 1 more problem$"):
        evaluate(answers)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"m" * 5000: "typical"}, f"a field name of 5000 characters; at most {MAX_TEXT}"),
        ({"mri": "t" * 5000}, f"mri: a value of 5000 characters; at most {MAX_TEXT}"),
    ],
    ids=["name", "value"],
)
def test_long_names_and_values_are_refused_before_any_comparison(answers, message):
    with pytest.raises(AnswerError) as info:
        evaluate(answers)
    assert str(info.value) == message
