"""Command line: `python -m spine_hemangioma '<answers JSON>'`, or the JSON on stdin.

The only place where bad input becomes one line on stderr and exit status 2.
Standard input is read up to 64 kB and one byte: a longer document is refused
without being read whole. Invalid package content (an edited content/*.toml)
is one line too, naming the file and field, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import AnswerError, evaluate, questions, tree
from .content import ContentError
from .errors import EXAMPLE, MAX_DOCUMENT, parse_json

PROG = "spine_hemangioma"
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse would print the usage too: one line is the contract.
        self.exit(EXIT_BAD_INPUT, f"{PROG}: error: {message} (see --help)\n")


def _parser() -> _Parser:
    parser = _Parser(
        prog="python -m spine_hemangioma",
        description="Management algorithm for symptomatic spine hemangiomas: answers in, "
        "the result out, both as JSON. Exit status 0, or 2 for bad input.",
        epilog=tree().disclaimer,
    )
    parser.add_argument(
        "answers",
        nargs="?",
        help=f"the answers as a JSON object, e.g. '{EXAMPLE}'; read from standard input "
        "when omitted",
    )
    parser.add_argument(
        "--questions",
        action="store_true",
        help="print the questions (ids, labels, options) as JSON and exit",
    )
    return parser


def _read_stdin(parser: _Parser) -> bytes:
    # Waiting on a terminal for JSON nobody is typing would look like a hang.
    if sys.stdin is None or sys.stdin.isatty():
        parser.error("no answers: give them as an argument or on standard input")
    # One byte past the bound is enough to refuse a document; the rest is never read.
    return sys.stdin.buffer.read(MAX_DOCUMENT + 1)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        return _main(argv)
    except ContentError as e:
        more = len(e.problems) - 1
        extra = f" (and {more} more problem{'s' * (more != 1)})" if more else ""
        print(f"{PROG}: error: invalid content: {e.problems[0]}{extra}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.questions:
        if args.answers is not None:
            parser.error("--questions takes no answers")
        output: object = questions()
    else:
        text = args.answers if args.answers is not None else _read_stdin(parser)
        try:
            output = evaluate(parse_json(text))
        except AnswerError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    # JSON may carry any character escaped; a non-UTF-8 terminal still gets valid output.
    utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    print(json.dumps(output, indent=2, ensure_ascii=not utf8))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
