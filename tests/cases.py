"""The public conformance cases (calculator/cases.json), and how a result is held to one.

calculator/cases.json is the repo's copy of ../shared/spec/cases.json
(test_decision.py checks the two agree). Every test that runs the cases, in
Python, under Node or in a browser, reads them and checks them here, so the
meaning of each `expect` key is written once (cases.json "about").
"""

from __future__ import annotations

import json
from pathlib import Path

CASES_FILE = Path(__file__).resolve().parent.parent / "calculator" / "cases.json"
_DATA = json.loads(CASES_FILE.read_text(encoding="utf-8"))
CASES: list[dict] = _DATA["cases"]
BAD_INPUT: list[dict] = _DATA["bad_input"]
# One path to a complete result (vertebroplasty), question by question in the
# order a reader clicks: the browser tests of history and answering walk it.
VERTEBROPLASTY_CLICKS: list[tuple[str, str]] = [
    ("mri", "typical"),
    ("symptoms", "pain"),
    ("instability", "no"),
    ("recurrent", "no"),
    ("preference", "treatment"),
    ("fracture", "yes"),
    ("extension", "intraosseous"),
]
# Lists of items a case names by id, in any order.
ITEM_IDS = {"alternatives": "pathway", "warnings": "id"}


def mismatches(result: dict, expect: dict) -> list[str]:
    """What in `result` breaks `expect` (empty when the result holds)."""
    out = []
    for name, expected in expect.items():
        if name in ITEM_IDS:
            got = sorted(item[ITEM_IDS[name]] for item in result.get(name, []))
            ok = got == sorted(expected)
        elif name == "unused":
            got = sorted(result.get("unused", []))
            ok = got == sorted(expected)
        elif name == "gaps_nonempty":
            got = bool(result.get("gaps"))
            ok = got == expected
        elif name == "first_step_mentions":
            steps = result.get("steps") or [{"text": ""}]
            got = steps[0]["text"]
            ok = expected.lower() in got.lower()
        else:
            got = result.get(name)
            ok = got == expected
        if not ok:
            out.append(f"{name}: expected {expected!r}, got {got!r}")
    return out


# decision.md section 4: the keys of each kind of result, and of each item.
COMPLETE_KEYS = {
    "status", "pathway", "title", "urgency", "steps", "evidence", "alternatives", "warnings",
    "outcomes", "gaps", "path", "refs", "read", "unused", "version", "source_date", "disclaimer",
}  # fmt: skip
INCOMPLETE_KEYS = {
    "status", "next_question", "urgency", "path", "unused", "version", "source_date", "disclaimer",
}  # fmt: skip
ITEM_KEYS = {
    "steps": {"text", "refs"},
    "evidence": {"text", "refs"},
    "outcomes": {"text", "refs"},
    "alternatives": {"pathway", "title", "text", "refs"},
    "warnings": {"id", "text", "refs"},
    "gaps": {"id", "text", "refs"},
}
