"""Management algorithm for symptomatic spine hemangiomas (educational).

    evaluate(answers) -> dict          the result of decision.md section 4
    evaluate_json(text) -> str         the same, JSON in and out; {"error": ...} for bad input
    questions() -> list[dict]          id, label, help, options [{value, label}] for a UI
    AnswerError                        bad answers; the message is one line
    DISCLAIMER                         the source's notice and disclaimer, on every result
    __version__                        the module's version, in every result

Standard library only: the same code runs under CPython and in the browser
through Pyodide. Importing the package reads nothing: the content is loaded
and validated on first use, so invalid content is a ContentError its caller
reports, never a traceback at import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TypedDict

from . import engine
from ._version import __version__
from .content import Content, load
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


# Set only by `using()`: the site build draws the diagram of `--content DIR`.
_current: ContextVar[engine.Tree | None] = ContextVar("spine_hemangioma_tree", default=None)


@cache
def _package_tree() -> engine.Tree:
    return engine.Tree.of(load())


def tree() -> engine.Tree:
    """The algorithm answered from: the package's own, loaded and indexed once per
    process on first use (or, inside `using()`, that content's)."""
    return _current.get() or _package_tree()


@contextmanager
def using(content: Content) -> Iterator[engine.Tree]:
    """Within the block, `tree()` (and so the diagram) is the given content's."""
    token = _current.set(engine.Tree.of(content))
    try:
        yield tree()
    finally:
        _current.reset(token)


def __getattr__(name: str) -> str:
    # DISCLAIMER comes from the content: read when first asked for, not at import.
    if name == "DISCLAIMER":
        return tree().disclaimer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def evaluate(answers: object) -> Result | Incomplete:
    """The result for a mapping of answers; AnswerError if any answer is invalid."""
    return engine.evaluate(tree(), answers)


def evaluate_json(text: str) -> str:
    """The browser's entry point: answers as JSON text in, the result as JSON text out.

    Bad input gives {"error": "<one line>"}, never an exception; JSON text over
    64 kB is refused before it is parsed.
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
        for q in tree().algorithm.questions
    ]
