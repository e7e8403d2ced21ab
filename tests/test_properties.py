"""Hostile input, generated (Hypothesis).

The decision module: whatever it is given (any JSON value, objects with any
keys and values, any text, bytes), `evaluate` returns a result that keeps
the contract's invariants or raises AnswerError, and `evaluate_json` returns
a result or {"error": "<one line>"}; nothing else ever escapes. Which answers
are valid is decided here independently, from questions().

The calculator page's link decoder (readUrl in calculator/web/calculator.js),
through the page's behaviour in one loaded page: for any query string, the
checked radios are exactly the first known-field/allowed-value pair of each
field, the note lists every other parameter name in order (the page's own
parameters aside), and the URL is rewritten to the answers on the path.
"""

from __future__ import annotations

import json
import math
import pickle
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import spine_hemangioma
from cases import COMPLETE_KEYS, INCOMPLETE_KEYS, ITEM_KEYS
from conftest import _LOCAL_ORIGINS, PageProbe, _new_probe
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from spine_hemangioma import DISCLAIMER, AnswerError, evaluate, evaluate_json
from spine_hemangioma.content import load
from spine_hemangioma.errors import MAX_PROBLEMS

ALGORITHM = load().algorithm
FIELDS = [q["id"] for q in spine_hemangioma.questions()]  # the form's order
VALUES = {q["id"]: [o["value"] for o in q["options"]] for q in spine_hemangioma.questions()}
PATHWAYS = {p.id for p in ALGORITHM.pathways}
# Which field each path id reads, as the page shows the questions.
READS = {n.id: n.field for n in ALGORITHM.nodes} | {
    r.id: r.field for leaf in ALGORITHM.leaves for r in leaf.rules
}

# Pure Python, microseconds per call: many examples cost little. No example
# database: a failure prints its input, and the suite writes no files.
FAST = settings(max_examples=400, deadline=None, database=None)


# --- Strategies ------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Names and values near the real ones, where mistakes are likeliest.
field_names = (
    st.sampled_from(FIELDS)
    | st.sampled_from(FIELDS).map(str.upper)
    | st.sampled_from(FIELDS).map(lambda f: f[:-1])
    | st.sampled_from(["__proto__", "constructor", "toString", "", " mri"])
    | st.text(max_size=12)
)
field_values = (
    st.sampled_from([v for vs in VALUES.values() for v in vs])
    | st.sampled_from([v for vs in VALUES.values() for v in vs]).map(str.title)
    | json_values
)
valid_answers = st.fixed_dictionaries(
    {}, optional={f: st.sampled_from(values) for f, values in VALUES.items()}
)
mixed_answers = st.dictionaries(field_names, field_values, max_size=10)
# Python values JSON cannot carry: a caller of evaluate() may pass them anyway.
odd_values = st.one_of(
    st.binary(max_size=10),
    st.tuples(st.text(max_size=4)),
    st.frozensets(st.integers(), max_size=3),
    st.integers(min_value=10**60, max_value=10**60 + 5),
    st.dictionaries(st.integers() | st.none() | st.tuples(st.integers()), st.text(), max_size=3),
)
any_answers = valid_answers | mixed_answers | json_values | odd_values


def json_object_text(pairs: list[tuple[str, object]], space: str) -> str:
    """An object's JSON text from pairs, duplicates kept (json.dumps would merge them)."""
    return "{" + f",{space}".join(f"{json.dumps(k)}:{space}{json.dumps(v)}" for k, v in pairs) + "}"


@st.composite
def answer_texts(draw) -> str | bytes:
    """Text for evaluate_json: valid answers, near misses, broken JSON, any text."""
    kind = draw(st.sampled_from(["object", "pairs", "value", "mutated", "text", "bytes"]))
    if kind == "object":
        return json.dumps(draw(valid_answers | mixed_answers))
    if kind == "pairs":  # duplicate fields included
        pairs = draw(st.lists(st.tuples(field_names, field_values), max_size=6))
        return json_object_text(pairs, draw(st.sampled_from(["", " ", "\n"])))
    if kind == "value":
        return json.dumps(draw(json_values))
    if kind == "mutated":  # valid JSON with a character dropped or inserted
        text = json.dumps(draw(valid_answers))
        at = draw(st.integers(0, len(text)))
        insert = draw(st.sampled_from(["", "{", "}", '"', ",", ":", "\\", "\x00", "é"]))
        return text[:at] + insert + text[at + (not insert) :]
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    return draw(st.text(max_size=40))


# --- The oracle and the contract -----------------------------------------------------


def is_valid(answers: object) -> bool:
    """decision.md section 1: an object of strings, known fields, allowed values."""
    return isinstance(answers, dict) and all(
        isinstance(k, str) and k in VALUES and isinstance(v, str) and v in VALUES[k]
        for k, v in answers.items()
    )


def parsed_answers(text: str | bytes) -> tuple[bool, object]:
    """(True, value) when `text` is one JSON value with no field given twice."""
    duplicate = False

    def pairs_hook(pairs):
        nonlocal duplicate
        duplicate |= len({k for k, _ in pairs}) != len(pairs)
        return dict(pairs)

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError):  # bad JSON, bad bytes, a too long number
        return False, None
    return not duplicate, value


def check_error(message: str) -> None:
    assert isinstance(message, str)
    assert message.strip(), "an empty error message"
    assert len(message.splitlines()) == 1, f"not one line: {message!r}"
    assert "Traceback" not in message


def check_result(answers: dict, r: dict) -> None:
    """The invariants of decision.md section 4 for valid answers."""
    assert r["status"] in {"complete", "incomplete"}
    assert set(r) == (COMPLETE_KEYS if r["status"] == "complete" else INCOMPLETE_KEYS)
    assert r["disclaimer"] == DISCLAIMER
    assert r["unused"] == sorted(set(r["unused"]))
    assert set(r["unused"]) <= set(answers)
    symptoms = answers.get("symptoms")
    assert r["urgency"] == (None if symptoms is None else
                            "urgent" if symptoms == "deficit" else "routine")  # fmt: skip
    assert all(isinstance(i, str) for i in r["path"])
    if r["status"] == "incomplete":
        assert r["next_question"] in VALUES
        assert r["next_question"] not in answers
        return
    assert r["pathway"] in PATHWAYS
    assert isinstance(r["title"], str)
    assert r["title"]
    assert r["path"], "a complete result walked no path"
    cited = set()
    for part, keys in ITEM_KEYS.items():
        for item in r[part]:
            assert set(item) == keys, (part, item)
            assert isinstance(item["text"], str)
            # An alternative whose reason the result already shows cites it by number only.
            assert item["text"] or (part == "alternatives" and item["refs"]), (part, item)
            assert item["refs"] == sorted(set(item["refs"])), (part, item)
            assert all(isinstance(n, int) and n > 0 for n in item["refs"]), (part, item)
            cited |= set(item["refs"])
    # Steps to take, or what the source does not say (a gap): never nothing.
    assert r["steps"] or r["gaps"], "a complete result that says nothing"
    assert r["refs"] == sorted(cited)
    assert {a["pathway"] for a in r["alternatives"]} <= PATHWAYS | {"embolization-alone"}
    assert r["pathway"] not in {a["pathway"] for a in r["alternatives"]}
    if symptoms == "deficit":
        assert r["pathway"] != "vertebroplasty"


# --- evaluate and evaluate_json ----------------------------------------------------


@FAST
@given(any_answers)
@example({"mri": 10**5000})  # repr() of that int raises ValueError
@example({10**5000: "typical"})
@example({"mri": math.nan, "symptoms": -math.inf})
@example({"mri": "typical", "mri ": "typical", "MRI": "typical"})
def test_evaluate_gives_a_result_or_the_clear_error(answers):
    before = pickle.dumps(answers)  # repr() fails on huge ints, == on NaN
    result, error = outcome(answers)
    if error is not None:
        assert not is_valid(answers), f"valid answers refused: {error}"
        check_error(str(error))
        # At most MAX_PROBLEMS described, the rest counted: the message stays short.
        more = f" | and {error.more} more problem{'s' * (error.more != 1)}" if error.more else ""
        assert str(error) == " | ".join(error.problems) + more
        assert len(error.problems) <= MAX_PROBLEMS
        if isinstance(answers, dict):  # one problem per bad entry
            bad = {k: v for k, v in answers.items() if not is_valid({k: v})}
            assert len(error.problems) + error.more == len(bad), error.problems
    else:
        assert is_valid(answers), f"invalid answers accepted: {answers!r}"
        check_result(answers, result)
        assert evaluate(answers) == result, "not deterministic"
        assert json.loads(evaluate_json(json.dumps(answers))) == result
    assert pickle.dumps(answers) == before, "evaluate changed its input"


def outcome(answers: object) -> tuple[dict | None, AnswerError | None]:
    """evaluate's result or its AnswerError; any other exception fails the test."""
    try:
        return evaluate(answers), None
    except AnswerError as e:
        return None, e


@FAST
@given(answer_texts())
@example("1" * 5000)  # Python refuses to read an int of more than 4300 digits
@example('{"mri": ' + "9" * 5000 + "}")
@example("[" * 100_000)
@example('{"mri": "typical", "mri": "typical"}')
@example(b"\xff\xfe{")
@example('{"mri": "\\ud800"}')
def test_evaluate_json_gives_json_with_a_result_or_an_error(text):
    out = evaluate_json(text)
    assert isinstance(out, str)
    result = json.loads(out)
    ok, value = parsed_answers(text)
    if ok and is_valid(value):
        assert result == evaluate(value)
        check_result(value, result)
    else:
        assert set(result) == {"error"}, f"{text!r} gave a result: {result}"
        check_error(result["error"])


@FAST
@given(
    st.none() | st.booleans() | st.integers() | st.floats() | odd_values
    | st.lists(json_values, max_size=2) | st.dictionaries(st.text(max_size=4), json_values)
)  # fmt: skip
def test_evaluate_json_of_a_value_that_is_not_text_is_an_error(value):
    if isinstance(value, bytes):
        return  # bytes are JSON text too (UTF-8): answer_texts() covers them
    result = json.loads(evaluate_json(value))
    assert set(result) == {"error"}
    check_error(result["error"])


# --- The calculator page's link decoder -----------------------------------------------

READY_MS = 45_000
EMBED = "embed/"  # the widget with page parameters of its own (data-extra-params)
# For a query: the checked radios, the note (shown, text), the URL, the result.
PAGE_STATE = """(query) => {
  history.replaceState(null, "", location.pathname + query);
  dispatchEvent(new PopStateEvent("popstate"));
  const root = document.querySelector("[data-spine-calc]");
  const note = root.querySelector(".sh-note");
  const result = root.querySelector(".sh-result");
  return {
    checked: [...root.querySelectorAll("input:checked")].map((i) => [i.name, i.value]),
    note: note.hidden ? null : note.textContent,
    search: location.search,
    status: result.dataset.status,
    pathway: result.dataset.pathway,
    extra: root.dataset.extraParams,
  };
}"""

# Names: the fields, the page's own parameters, lookalikes, prototype names, anything.
query_names = field_names | st.sampled_from(["compact", "theme", "hasOwnProperty", "a&b", "x=y"])
query_values = (
    st.sampled_from([v for vs in VALUES.values() for v in vs])
    | st.sampled_from(["1", "dark", "<img src=x onerror=alert(1)>", "", " typical", "a+b"])
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
)


# calculator.js's note: each ignored name once, at most NOTE_NAMES of them shown,
# cleaned of invisible characters (an empty one as "(no name)"), then a count.
NOTE_NAMES = 5
INVISIBLE = re.compile(
    "[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def expected_note(ignored: list[str]) -> str | None:
    unique = list(dict.fromkeys(ignored))
    if not unique:
        return None
    names = [INVISIBLE.sub("", n) or "(no name)" for n in unique[:NOTE_NAMES]]
    count, rest = len(unique), len(unique) - len(names)
    lead = (
        "an unknown or invalid link parameter: "
        if count == 1
        else f"{count} unknown or invalid link parameters: "
    )
    return f"Ignored {lead}{', '.join(names)}" + (f" and {rest} more" if rest else "") + "."


def expected_state(pairs: list[tuple[str, str]], extra: list[str]) -> dict:
    """What readUrl and the page make of the query's pairs (calculator.js)."""
    answers: dict[str, str] = {}
    ignored = []
    for name, value in pairs:
        if name in extra:
            continue
        if name in VALUES and value in VALUES[name] and name not in answers:
            answers[name] = value
        else:
            ignored.append(name)
    # decision.md section 7: the form and the URL keep every valid answer (the
    # page's own parameters first, then the answers in the form's order), and
    # the module gets them all.
    result = evaluate(answers)
    kept = [(n, v) for n, v in pairs if n in extra] + [
        (f, answers[f]) for f in FIELDS if f in answers
    ]
    return {
        "checked": sorted(answers.items()),
        "note": expected_note(ignored),
        "search": ("?" + urlencode(kept)) if kept else "",
        "status": result["status"],
        "pathway": result.get("pathway", ""),
    }


@pytest.fixture(scope="module")
def embed_page(chromium_browser, site_url) -> Iterator[PageProbe]:
    """One embed page with Python ready, for every example."""
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
    probe.page.goto(site_url + EMBED)
    expect(probe.page.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    yield probe
    context.close()
    assert probe.outside_requests == []


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    pairs=st.lists(st.tuples(query_names, query_values), max_size=8)
    | st.lists(st.tuples(st.sampled_from(FIELDS), query_values), max_size=10)
)
@example(pairs=[("mri", "typical"), ("mri", "atypical"), ("symptoms", "pain"), ("theme", "dark")])
@example(pairs=[("__proto__", "x"), ("constructor", "typical"), ("", "")])
def test_link_decoder_keeps_exactly_the_valid_answers(embed_page, pairs):
    page = embed_page.page
    extra = page.locator("[data-spine-calc]").get_attribute("data-extra-params").split()
    query = urlencode(pairs)
    assert parse_qsl(query, keep_blank_values=True) == pairs  # the page reads these pairs
    state = page.evaluate(PAGE_STATE, "?" + query if query else "")
    want = expected_state(pairs, extra)
    got = {k: state[k] for k in ("note", "status", "pathway")}
    got["checked"] = sorted(map(tuple, state["checked"]))
    # The page writes the query with URLSearchParams: compare the pairs it holds.
    got["search"] = parse_qsl(urlsplit(state["search"]).query, keep_blank_values=True)
    want["search"] = parse_qsl(urlsplit(want["search"]).query, keep_blank_values=True)
    assert got == want
    assert embed_page.console_errors == []
