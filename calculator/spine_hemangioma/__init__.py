"""Management algorithm for symptomatic spine hemangiomas (educational).

    evaluate(answers) -> dict          the result of decision.md section 4
    evaluate_json(text) -> str         the same, JSON in and out; {"error": ...} for bad input
    questions() -> list[dict]          id, label, help, options [{value, label}] for a UI
    AnswerError                        bad answers; the message is one line
    DISCLAIMER                         the source's notice and disclaimer, on every result
    __version__                        the module's version, in every result

Standard library only: the same code runs under CPython and in the browser
through Pyodide.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TypedDict

from . import engine
from ._version import __version__
from .content import load
from .engine import Incomplete, Result
from .errors import AnswerError, parse_json

__all__ = ["DISCLAIMER", "AnswerError", "__version__", "evaluate", "evaluate_json", "questions"]


class OptionDict(TypedDict):
    value: str
    label: str


class QuestionDict(TypedDict):
    id: str
    label: str
    help: str
    options: list[OptionDict]


@cache
def tree() -> engine.Tree:
    """The package's algorithm, loaded and indexed once per process."""
    return engine.Tree.of(load())


DISCLAIMER = tree().disclaimer


def evaluate(answers: object) -> Result | Incomplete:
    """The result for a mapping of answers; AnswerError if any answer is invalid."""
    return engine.evaluate(tree(), answers)


def evaluate_json(text: str) -> str:
    """The browser's entry point: answers as JSON text in, the result as JSON text out.

    Bad input gives {"error": "<one line>"}, never an exception.
    """
    try:
        result: object = evaluate(parse_json(text))
    except AnswerError as e:
        result = {"error": str(e)}
    return json.dumps(result, ensure_ascii=False)


def questions() -> list[QuestionDict]:
    """Every question with its options, in the order a form shows them."""
    return [
        QuestionDict(
            id=q.id,
            label=q.label,
            help=q.help,
            options=[OptionDict(value=o.value, label=o.label) for o in q.options],
        )
        for q in load().algorithm.questions
    ]
