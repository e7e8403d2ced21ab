"""Bad input: the error the caller gets, and the checks that raise it.

Every message is one line that names the field, what was given and what is
allowed, with a "did you mean" for near misses. All answers are checked before
any is used, so a caller never gets a partial result.

Input is bounded (decision.md section 5): a document over MAX_DOCUMENT bytes is
refused before it is parsed, a name or value over MAX_TEXT characters before
it is compared with anything, and a message lists at most MAX_PROBLEMS
problems (then how many more), so an answer stays short and quick whatever
the input's size.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .content import Question

# Shown in messages: what a valid answers object looks like.
EXAMPLE = '{"mri": "typical", "symptoms": "pain"}'
# Given text is echoed back; a long paste must not flood the one-line message.
MAX_ECHO = 40
# The bounds of decision.md section 5: the longest id or label is far below.
MAX_DOCUMENT = 64 * 1024  # bytes of JSON text
MAX_TEXT = 200  # characters of a field name or value
MAX_PROBLEMS = 5  # listed in one message; the rest are counted


class AnswerError(ValueError):
    """The answers are invalid; `problems` lists each, the message joins them on one line."""

    def __init__(self, problems: Sequence[str], more: int = 0) -> None:
        self.problems = tuple(problems[:MAX_PROBLEMS])
        # Problems found but not described (past MAX_PROBLEMS): only counted.
        self.more = more + len(problems) - len(self.problems)
        tail = [f"and {self.more} more problem{'s' * (self.more != 1)}"] if self.more else []
        super().__init__(" | ".join([*self.problems, *tail]))


class AlgorithmError(Exception):
    """The algorithm data cannot be walked: a bug in the content, never bad input."""


def echo(value: str) -> str:
    """A given text quoted for a message, shortened when long."""
    return repr(value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…")


def describe(value: Any) -> str:
    """A value in JSON's words ("number 3", "null"), for "expected text, got ..."."""
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, int) and abs(value) >= 10**MAX_ECHO:
        # repr() of an int past 4300 digits raises ValueError; nobody reads that many.
        return f"a number of more than {MAX_ECHO} digits"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"text {echo(value)}"
    kinds = ((type(None), "null"), (Mapping, "an object"), (list | tuple, "a list"))
    return next((name for t, name in kinds if isinstance(value, t)), f"a {type(value).__name__}")


def did_you_mean(given: str, allowed: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''; case is ignored."""
    near = difflib.get_close_matches(given.lower(), allowed, n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


def parse_json(text: Any) -> Any:
    """The value of JSON text (str or UTF-8 bytes), or AnswerError saying why not."""
    if not isinstance(text, str | bytes | bytearray):
        raise AnswerError([f"answers: expected JSON text, got {describe(text)}"])
    check_size(text)
    if not text.strip():
        raise AnswerError([f"answers: empty; expected a JSON object such as {EXAMPLE}"])
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        # Some of json's messages already end in "at" ("Invalid control character at").
        reason = e.msg.removesuffix(" at")
        raise AnswerError(
            [f"answers: not valid JSON: {reason} at line {e.lineno}, column {e.colno}"]
        ) from None
    except UnicodeDecodeError:
        raise AnswerError(["answers: not valid JSON: the bytes are not UTF-8 text"]) from None
    except RecursionError:
        raise AnswerError(["answers: not valid JSON: nested too deeply"]) from None
    except AnswerError:
        raise  # a duplicate field, from _no_duplicates: already a clear message
    except ValueError:
        # Python refuses to read an integer of more than 4300 digits (CVE-2020-10735).
        raise AnswerError(["answers: not valid JSON: a number is too long"]) from None


def check_size(text: str | bytes | bytearray) -> None:
    """AnswerError if the JSON text is over MAX_DOCUMENT bytes; the text is not copied."""
    # Characters first: a str of more characters than the bound has more bytes too.
    size = len(text)
    if size <= MAX_DOCUMENT and isinstance(text, str):
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT:
        raise AnswerError(
            [f"answers: too long (more than {MAX_DOCUMENT // 1024} kB); expected {EXAMPLE}"]
        )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would silently keep the last of two answers to one question.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise AnswerError([f"answers: field {echo(key)} is given twice"])
        seen[key] = value
    return seen


def check_answers(questions: Mapping[str, Question], answers: Any) -> dict[str, str]:
    """The answers as a plain dict, or AnswerError listing every problem found."""
    if not isinstance(answers, Mapping):
        raise AnswerError(
            [f"answers: expected an object such as {EXAMPLE}, got {describe(answers)}"]
        )
    fields = list(questions)
    problems: list[str] = []
    more = 0
    for name, value in answers.items():
        question = questions.get(name) if isinstance(name, str) else None
        if len(problems) == MAX_PROBLEMS and (question is None or value not in question.values):
            more += 1  # counted, not described: a message stays short
        elif isinstance(name, str) and len(name) > MAX_TEXT:
            problems.append(f"a field name of {len(name)} characters; at most {MAX_TEXT}")
        elif question is None:
            hint = did_you_mean(name, fields) if isinstance(name, str) else ""
            shown = echo(name) if isinstance(name, str) else describe(name)
            problems.append(f"unknown field {shown}{hint}; fields: {', '.join(fields)}")
        elif not isinstance(value, str):
            problems.append(f"{name}: expected text, got {describe(value)}")
        elif len(value) > MAX_TEXT:
            problems.append(f"{name}: a value of {len(value)} characters; at most {MAX_TEXT}")
        elif value not in question.values:
            allowed = question.values
            problems.append(
                f"{name}: {echo(value)} is not allowed{did_you_mean(value, allowed)};"
                f" allowed: {', '.join(allowed)}"
            )
    if problems:
        raise AnswerError(problems, more)
    return dict(answers)
