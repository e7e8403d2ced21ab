"""The boundaries: bad input through evaluate(), evaluate_json() and the command
line (one table, golden/bad_inputs.json), and `python -m spine_hemangioma` itself."""

from __future__ import annotations

import io
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from spine_hemangioma import DISCLAIMER, AnswerError, evaluate, evaluate_json, questions
from spine_hemangioma.__main__ import main

REPO_ROOT = Path(__file__).resolve().parent.parent
BAD_INPUTS = json.loads(
    (Path(__file__).parent / "golden" / "bad_inputs.json").read_text(encoding="utf-8")
)["cases"]
DEFICIT_NO_SURGERY = '{"mri": "typical", "symptoms": "deficit", "surgery_feasible": "no"}'


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "spine_hemangioma", *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[bytes], message: str) -> None:
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr.decode("utf-8") == f"spine_hemangioma: error: {message}\n"


def run_main(monkeypatch, argv: list[str], stdin: bytes = b"", stdout=None) -> int:
    """main() in this process (for coverage), its stdin a pipe carrying `stdin`."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    if stdout is not None:
        monkeypatch.setattr(sys, "stdout", stdout)
    try:
        return main(argv)
    except SystemExit as e:  # argparse's own exits (--help, usage errors)
        return e.code


# --- One table of bad inputs, three ways in -------------------------------------------


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: c["name"])
def test_bad_input_through_the_python_api(case):
    assert json.loads(evaluate_json(case["text"])) == {"error": case["message"]}
    try:
        answers = json.loads(case["text"])
    except json.JSONDecodeError:
        return  # not JSON: only evaluate_json can be given it
    if "given twice" not in case["message"]:  # json.loads keeps the last of the two
        with pytest.raises(AnswerError) as info:
            evaluate(answers)
        assert str(info.value) == case["message"]
        assert info.value.problems == tuple(case["message"].split(" | "))


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: c["name"])
def test_bad_input_as_the_argument(case):
    assert_one_line_error(run_cli(case["text"]), case["message"])


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: c["name"])
def test_bad_input_on_stdin(case, monkeypatch, capsys):
    assert run_main(monkeypatch, [], stdin=case["text"].encode()) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"spine_hemangioma: error: {case['message']}\n")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: evaluate({"mri": {"typical"}}), "mri: expected text, got a set"),
        (lambda: evaluate({1: "typical"}), "unknown field number 1; fields: mri, symptoms,"),
        (lambda: evaluate(("mri", "typical")), "answers: expected an object such as"),
        (lambda: evaluate_json(3), "answers: expected JSON text, got number 3"),
        (lambda: evaluate_json(b"\xff"), "answers: not valid JSON: the bytes are not UTF-8"),
        (lambda: evaluate_json("[" * 60_000), "answers: not valid JSON: nested too deeply"),
    ],
    ids=["set value", "number as field", "tuple", "json not text", "not utf-8", "deep"],
)
def test_bad_python_values(call, message):
    try:
        got = json.loads(call())["error"]
    except AnswerError as e:
        got = str(e)
    assert got.startswith(message)
    assert "\n" not in got


def test_evaluate_json_takes_utf8_bytes():
    assert json.loads(evaluate_json(b'{"mri": "typical"}')) == evaluate({"mri": "typical"})


# --- The command line ---------------------------------------------------------------------


def test_answers_as_argument_or_on_stdin_print_the_result():
    by_argument = run_cli(DEFICIT_NO_SURGERY)
    on_stdin = run_cli(stdin=DEFICIT_NO_SURGERY.encode())
    for proc in (by_argument, on_stdin):
        assert (proc.returncode, proc.stderr) == (0, b"")
        assert json.loads(proc.stdout) == evaluate(json.loads(DEFICIT_NO_SURGERY))
    assert by_argument.stdout == on_stdin.stdout


def test_non_utf8_stdin_is_one_line_error():
    proc = run_cli(stdin=b'{"mri": "\xff"}')
    assert_one_line_error(proc, "answers: not valid JSON: the bytes are not UTF-8 text")


def test_help_shows_usage_and_the_disclaimer():
    proc = run_cli("--help")
    assert (proc.returncode, proc.stderr) == (0, b"")
    text = " ".join(proc.stdout.decode("utf-8").split())
    assert text.startswith("usage: python -m spine_hemangioma [-h] [--questions] [answers]")
    assert DISCLAIMER in text


def test_questions_flag_prints_the_questions():
    proc = run_cli("--questions")
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert json.loads(proc.stdout) == questions()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{}", "{}"], "unrecognized arguments: {} (see --help)"),
        (["--bogus"], "unrecognized arguments: --bogus (see --help)"),
        (["--questions", "{}"], "--questions takes no answers (see --help)"),
    ],
    ids=["two answers", "unknown option", "questions with answers"],
)
def test_usage_errors_are_one_line(argv, message, monkeypatch, capsys):
    assert run_main(monkeypatch, argv) == 2
    assert capsys.readouterr() == ("", f"spine_hemangioma: error: {message}\n")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stdin", [_Terminal(), None], ids=["terminal", "closed"])
def test_no_answers_and_no_pipe_is_an_error_not_a_wait(stdin, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert capsys.readouterr() == (
        "",
        "spine_hemangioma: error: no answers: give them as an argument or on standard input"
        " (see --help)\n",
    )


@pytest.mark.parametrize(("encoding", "dash"), [("utf-8", "—"), ("ascii", "\\u2014")])
def test_output_is_json_in_any_stdout_encoding(monkeypatch, encoding, dash):
    stdout = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    answers = '{"mri": "typical", "symptoms": "pain", "instability": "yes"}'
    assert run_main(monkeypatch, [answers], stdout=stdout) == 0
    stdout.flush()
    text = stdout.buffer.getvalue().decode(encoding)
    assert json.loads(text) == evaluate(json.loads(answers))
    assert dash in text


def test_the_module_runs_as_a_script(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["spine_hemangioma", "--questions"])
    monkeypatch.delitem(sys.modules, "spine_hemangioma.__main__", raising=False)
    with pytest.raises(SystemExit) as info:
        runpy.run_module("spine_hemangioma", run_name="__main__")
    assert info.value.code == 0
    assert json.loads(capsys.readouterr().out) == questions()
