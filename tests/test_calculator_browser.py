"""The calculator page of the built site/ in Chromium (shared fixtures of
conftest.py): every conformance case answered by clicking and by a pre-filled
link, the back button, hostile link parameters, a bounded failure when
Python cannot start, Reset, Copy summary and keyboard use; no console error
and no request outside the local server.

The result a page shows is compared with CPython's spine_hemangioma.evaluate
for the same answers, so the browser and the reference agree item by item.
Most tests share one page (Pyodide starts once, ~3 s) and reset it in between.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import spine_hemangioma
from cases import VERTEBROPLASTY_CLICKS
from conftest import (
    _LOCAL_ORIGINS,
    RUNTIME_FETCHED_ONCE,
    RUNTIME_FETCHES_JS,
    PageProbe,
    _new_probe,
)
from playwright.sync_api import expect
from spine_hemangioma.content import load

REPO_ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text(encoding="utf-8"))["cases"]
CONTENT = load()
ALGORITHM = CONTENT.algorithm
QUESTIONS = {q.id: q for q in ALGORITHM.questions}
FIELDS = [q.id for q in ALGORITHM.questions]  # the form's order
PATHWAY_TITLES = {p.id: p.title for p in ALGORITHM.pathways}
# Which field each path id reads (a node or a leaf's rule), as the form shows them.
READS = {n.id: n.field for n in ALGORITHM.nodes} | {
    r.id: r.field for leaf in ALGORITHM.leaves for r in leaf.rules
}
READY_MS = 45_000  # the page's own bound on loading Python
# "[3]", or "[2†]" as the page marks a reference the source does not identify.
CITATION = re.compile(r"\[(\d+(?:,\s*\d+)*)†?\]")
UNIDENTIFIED = {r.number for r in CONTENT.guide.references if r.provenance == "not identified"}
MARKDOWN_EMPHASIS = re.compile(r"\*([^*]+)\*")
CALC = "calculator/"


# --- What the page shows, and what CPython says it should show ---------------------

# The result region as data: per list, each item's text and the fragments
# (#ref-N) of its citation links.
READ_RESULT = """(root) => {
  const r = root.querySelector(".sh-result");
  const part = (title) => {
    const s = [...r.querySelectorAll("section.sh-part")]
      .find((s) => s.querySelector("h3").textContent === title);
    return s ? [...s.querySelectorAll("li")].map((li) => [
      li.textContent,
      [...li.querySelectorAll("a.sh-ref")].map((a) => a.hash),
    ]) : [];
  };
  const title = r.querySelector(".sh-title");
  const disclaimer = r.querySelector(".sh-disclaimer");
  return {
    status: r.dataset.status, pathway: r.dataset.pathway, urgency: r.dataset.urgency,
    title: title ? title.textContent : null,
    urgent_banner: !!r.querySelector(".sh-urgent"),
    steps: part("Steps"), alternatives: part("Alternatives"),
    warnings: part("Pitfalls to avoid"), outcomes: part("Expected outcomes"),
    gaps: part("Where the source is silent"),
    disclaimer: disclaimer ? disclaimer.textContent : null,
    text: r.innerText,
  };
}"""

# Answers of the visible questions (every answer stays in view: one the path
# does not read is marked "not used" or "read by a pitfall only").
STATE = """(root) => ({
  checked: Object.fromEntries([...root.querySelectorAll("input:checked")]
    .filter((i) => i.checkVisibility()).map((i) => [i.name, i.value])),
  visible: [...root.querySelectorAll("fieldset[data-field]")]
    .filter((f) => f.checkVisibility()).map((f) => f.dataset.field),
})"""


def plain(text: str) -> str:
    """Text without citation markers, whitespace collapsed."""
    return " ".join(CITATION.sub(" ", text).split())


def item_view(text: str, refs) -> tuple[str, list[int]]:
    inline = {int(n) for m in CITATION.findall(text) for n in m.split(",")}
    return plain(text), sorted(inline | set(refs))


def rendered_items(items) -> list[tuple[str, list[int]]]:
    return [
        (plain(text), sorted(int(h.removeprefix("#ref-")) for h in hashes))
        for text, hashes in items
    ]


def expected_view(result: dict) -> dict:
    """What the page must show for a CPython result."""
    view = {
        "status": result["status"],
        "pathway": result.get("pathway") or "",
        "urgency": result.get("urgency") or "",
        "urgent_banner": result.get("urgency") == "urgent",
    }
    if result["status"] != "complete":
        return view
    items = {
        k: [item_view(x["text"], x["refs"]) for x in result[k]]
        for k in ("steps", "warnings", "outcomes", "gaps")
    }
    items["alternatives"] = [
        item_view(f"{PATHWAY_TITLES[a['pathway']]}: {a['text']}", a["refs"])
        for a in result["alternatives"]
    ]
    return (
        view | items | {"title": f"Pathway: {result['title']}", "disclaimer": result["disclaimer"]}
    )


def shown_view(page) -> dict:
    shown = page.locator("[data-spine-calc]").evaluate(READ_RESULT)
    view = {k: shown[k] for k in ("status", "pathway", "urgency", "urgent_banner")}
    if shown["status"] != "complete":
        return view
    items = {
        k: rendered_items(shown[k])
        for k in ("steps", "alternatives", "warnings", "outcomes", "gaps")
    }
    return view | items | {"title": shown["title"], "disclaimer": shown["disclaimer"]}


def expected_visible(answers: dict, result: dict) -> list[str]:
    """The questions the page shows, in the order the path asks them: always
    read, read on the path, and the next one; then every other answered one,
    in the form's order."""
    fields = [*ALGORITHM.always_read, *(READS[i] for i in result.get("path", []) if i in READS)]
    if result.get("next_question"):
        fields.append(result["next_question"])
    fields += [f for f in FIELDS if f in answers]
    return list(dict.fromkeys(fields))


def check_case(page, case: dict, answers: dict) -> None:
    """The page shows the case's expected result, item by item as CPython gives it
    for the answers the page holds."""
    expect_ = case["expect"]
    root = page.locator("[data-spine-calc]")
    result_el = root.locator(".sh-result")
    expect(result_el).to_have_attribute("data-status", expect_["status"])
    for key in ("pathway", "urgency"):
        if key in expect_:
            expect(result_el).to_have_attribute(f"data-{key}", expect_[key])
    reference = spine_hemangioma.evaluate(answers)
    if "warnings" in expect_:
        assert sorted(w["id"] for w in reference["warnings"]) == sorted(expect_["warnings"])
    if "alternatives" in expect_:
        assert sorted(a["pathway"] for a in reference["alternatives"]) == sorted(
            expect_["alternatives"]
        )
    if "next_question" in expect_:
        assert reference["next_question"] == expect_["next_question"]
        label = QUESTIONS[expect_["next_question"]].label
        expect(result_el).to_contain_text(label)
    assert shown_view(page) == expected_view(reference)
    state = root.evaluate(STATE)
    assert state["checked"] == answers
    assert state["visible"] == expected_visible(answers, reference)
    assert dict(parse_qsl(urlsplit(page.url).query)) == answers


def case_url(site_url: str, answers: dict, extra: str = "") -> str:
    query = urlencode(answers) + (("&" + extra) if extra and answers else extra)
    return f"{site_url}{CALC}?{query}" if query else f"{site_url}{CALC}"


def open_calculator(probe: PageProbe, url: str):
    probe.page.goto(url)
    expect(probe.page.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    return probe.page


def choose(page, field: str, value: str) -> None:
    """Click the label of one answer of one question."""
    fieldset = page.locator(f'[data-spine-calc] fieldset[data-field="{field}"]')
    fieldset.locator("label").filter(has=page.locator(f'input[value="{value}"]')).click()


def click_answers(page, answers: dict) -> dict:
    """Answer question by question, clicking the label of each visible question
    that the case answers, in the form's order; returns what was clicked."""
    clicked: dict[str, str] = {}
    root = page.locator("[data-spine-calc]")
    for _ in range(len(FIELDS) + 1):
        state = root.evaluate(STATE)
        pending = [f for f in state["visible"] if f in answers and f not in state["checked"]]
        if not pending:
            return clicked
        field, value = pending[0], answers[pending[0]]
        fieldset = root.locator(f'fieldset[data-field="{field}"]')
        expect(fieldset).to_be_visible()
        fieldset.locator("label").filter(has=page.locator(f'input[value="{value}"]')).click()
        expect(fieldset.locator(f'input[value="{value}"]')).to_be_checked()
        clicked[field] = value
    raise AssertionError(f"still unanswered questions after {len(FIELDS)} clicks: {pending}")


def reset(page) -> None:
    page.locator(".sh-reset").click()
    expect(page.locator("[data-spine-calc] input:checked")).to_have_count(0)


# --- One page for most tests ---------------------------------------------------------


@pytest.fixture(scope="module")
def shared_probe(chromium_browser, site_url) -> Iterator[PageProbe]:
    """One calculator page for the module, allowed to use the clipboard."""
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    open_calculator(probe, site_url + CALC)
    yield probe
    context.close()


@pytest.fixture
def calc(shared_probe, site_url) -> Iterator[PageProbe]:
    """The shared page, on the calculator, ready; this test's console errors and
    requests are checked at teardown."""
    errors, requests = len(shared_probe.console_errors), len(shared_probe.requests)
    page = shared_probe.page
    ready = page.evaluate("!!document.querySelector('[data-spine-calc][data-ready=true]')")
    if not (page.url.startswith(site_url + CALC) and ready):
        open_calculator(shared_probe, site_url + CALC)
    yield shared_probe
    assert shared_probe.console_errors[errors:] == []
    assert shared_probe.outside_requests == []
    assert [u for u in shared_probe.requests[requests:] if not u.startswith(site_url)] == []


# --- Conformance cases ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_answered_by_clicking(calc, case):
    page = calc.page
    reset(page)
    clicked = click_answers(page, case["answers"])
    check_case(page, case, clicked)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_prefilled_link_reproduces_the_result(calc, site_url, case):
    page = open_calculator(calc, case_url(site_url, case["answers"]))
    # Every answer of the link is kept, read or not (decision.md section 7).
    check_case(page, case, case["answers"])
    expect(page.locator(".sh-note")).to_be_hidden()


def test_back_button_restores_answers_and_result(calc):
    """One history entry per completed result (answers in the URL follow by
    replaceState meanwhile): Back walks through the completed results."""
    page = calc.page
    reset(page)
    start = page.evaluate("history.length")
    steps = [*VERTEBROPLASTY_CLICKS, ("preference", "conservative"), ("symptoms", "deficit")]
    root = page.locator("[data-spine-calc]")
    snapshots = []
    for field, value in steps:
        root.locator(f'fieldset[data-field="{field}"] label').filter(
            has=page.locator(f'input[value="{value}"]')
        ).click()
        snapshots.append((field, page.url, root.evaluate(STATE), shown_view(page)))
    # An entry stays when it holds a complete result and the next change is
    # to another question; the last one is the current entry.
    kept = [
        snap
        for snap, following in zip(snapshots, [*snapshots[1:], None], strict=True)
        if following is None or (snap[3]["status"] == "complete" and following[0] != snap[0])
    ]
    assert len(kept) == 3, [k[3]["pathway"] for k in kept]
    assert page.evaluate("history.length") - start == len(kept) - 1
    for _, url, state, view in reversed(kept[:-1]):
        page.go_back()
        expect(page).to_have_url(url)
        assert root.evaluate(STATE) == state
        assert shown_view(page) == view
    page.go_forward()
    expect(page).to_have_url(kept[1][1])
    assert shown_view(page) == kept[1][3]


# --- Hostile link parameters ---------------------------------------------------------

# Answers that reach a complete result, then parameters that must change nothing.
BASE = {
    "mri": "typical",
    "symptoms": "pain",
    "instability": "no",
    "recurrent": "no",
    "preference": "treatment",
    "extension": "intraosseous",
    "fracture": "yes",
}
PWN = "window.__pwned=1"
# id, extra query (raw, as a link would carry it), names the note must list
HOSTILE = [
    ("unknown-name", "foo=bar&symtoms=pain", ["foo", "symtoms"]),
    ("bad-value", "level=spinal&surgery_feasible=maybe", ["level", "surgery_feasible"]),
    ("xss-in-name", urlencode({f"<img src=x onerror={PWN}>": "1"}), [f"<img src=x onerror={PWN}>"]),
    (
        "xss-in-value",
        urlencode(
            {"level": f"<img src=x onerror={PWN}>", "surgery_feasible": f'"><script>{PWN}</script>'}
        ),
        ["level", "surgery_feasible"],
    ),
    (
        "duplicates",
        "mri=atypical&symptoms=deficit&preference=treatment",
        ["mri", "symptoms", "preference"],
    ),
    (
        "object-prototype-names",
        "constructor=1&__proto__=x&toString=typical&hasOwnProperty=no",
        ["constructor", "__proto__", "toString", "hasOwnProperty"],
    ),
    ("embed-only-options", "compact=1&theme=dark", ["compact", "theme"]),
    (
        "javascript-url",
        urlencode({"x": "javascript:" + PWN, "preference": "javascript:" + PWN}),
        ["x", "preference"],
    ),
]

INJECTED = """() => ({
  pwned: window.__pwned !== undefined,
  elements: document.querySelectorAll(
    'img[src="x"], [onerror], [data-spine-calc] script:not(.sh-data)').length,
  note_children: document.querySelector(".sh-note").children.length,
})"""


@pytest.fixture(scope="module")
def clean_base(shared_probe, site_url) -> dict:
    """What the page shows for BASE alone: URL, form and result."""
    page = open_calculator(shared_probe, case_url(site_url, BASE))
    root = page.locator("[data-spine-calc]")
    return {
        "url": page.url,
        "state": root.evaluate(STATE),
        "view": shown_view(page),
        "text": root.locator(".sh-result").inner_text(),
    }


@pytest.mark.parametrize(
    ("extra", "ignored"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_parameters_change_nothing(calc, site_url, clean_base, extra, ignored):
    first_request = len(calc.requests)
    page = open_calculator(calc, case_url(site_url, BASE, extra))
    root = page.locator("[data-spine-calc]")
    assert shown_view(page) == clean_base["view"]
    assert root.locator(".sh-result").inner_text() == clean_base["text"]
    assert root.evaluate(STATE) == clean_base["state"]
    expect(page).to_have_url(clean_base["url"])
    note = page.locator(".sh-note")
    expect(note).to_be_visible()
    text = note.text_content()
    for name in ignored:
        assert name in text, f"{name!r} not listed in the note: {text!r}"
    assert page.evaluate(INJECTED) == {"pwned": False, "elements": 0, "note_children": 0}
    assert not [u for u in calc.requests[first_request:] if urlsplit(u).path.endswith("/x")]


def test_answers_given_while_python_loads_are_kept(browser_page, site_url):
    """The form works before Python is ready; the result follows once it is."""
    page = browser_page.page
    held = []
    # Answered later, by hand (a lambda: Playwright cannot tag a builtin method).
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # noqa: PLW0108
    page.goto(site_url + CALC, wait_until="domcontentloaded")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the wasm request was never made"
    root = page.locator("[data-spine-calc]")
    first = {"mri": "typical", "symptoms": "deficit"}
    click_answers(page, first)
    expect(page).to_have_url(case_url(site_url, first))
    expect(root.locator(".sh-result")).to_have_attribute("data-status", "loading")
    expect(page.locator(".sh-status")).to_contain_text("answer the questions meanwhile")
    assert root.get_attribute("data-ready") is None
    held[0].continue_()
    expect(root).to_have_attribute("data-ready", "true", timeout=READY_MS)
    # The path is known now: its next question appears, and the answers stood.
    answers = first | {"surgery_feasible": "no"}
    click_answers(page, answers)
    check_case(page, {"answers": answers, "expect": {"status": "complete"}}, answers)
    expect(root.locator(".sh-result")).to_have_attribute("data-pathway", "radiation")
    assert browser_page.console_errors == []


# --- Failure to start ----------------------------------------------------------------

# A network fault is reported when it happens (loader.js), not after a bound.
FAILURE_BOUND_MS = 2000
FAILURE_MARGIN_MS = 3000


def test_blocked_wasm_shows_the_failure_at_once(browser_page, site_url):
    page = browser_page.page
    browser_page.block("pyodide.asm.wasm")
    started = time.monotonic()
    page.goto(site_url + CALC, wait_until="commit")
    result = page.locator(".sh-result")
    expect(result).to_have_attribute(
        "data-status", "failed", timeout=FAILURE_BOUND_MS + FAILURE_MARGIN_MS
    )
    elapsed_ms = (time.monotonic() - started) * 1000
    assert elapsed_ms < FAILURE_BOUND_MS, f"reported after {elapsed_ms:.0f} ms"
    expect(result).to_contain_text("Could not download the calculator")
    expect(result).to_contain_text("pyodide.asm.wasm: the connection failed")
    link = result.get_by_role("link", name="Management algorithm page")
    expect(link).to_have_attribute("href", re.compile(r"algorithm/$"))
    assert link.evaluate("(a) => a.href") == site_url + "algorithm/"
    assert browser_page.blocked, "the wasm request was never made"
    expect(page.locator("[data-spine-calc]")).not_to_have_attribute("data-ready", "true")
    # Only the blocked request itself is reported (by the browser and by Pyodide).
    unexpected = [
        e
        for e in browser_page.console_errors
        if not re.search(r"ERR_FAILED|Failed to fetch|wasm", e)
    ]
    assert unexpected == []


@pytest.mark.parametrize("path", [CALC, "embed/"])
def test_each_runtime_file_is_downloaded_once(browser_page, site_url, path):
    """One download per file: nothing (a preload hint, a fallback after a
    failed streaming compile) fetches up to 3.4 MB a second time."""
    page = browser_page.page
    page.goto(site_url + path)
    expect(page.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    fetched = page.evaluate(RUNTIME_FETCHES_JS)
    assert fetched == sorted(set(fetched)), "downloaded twice"
    assert len(fetched) == RUNTIME_FETCHED_ONCE, fetched
    assert browser_page.console_errors == []


def test_a_fault_of_the_module_while_answering_is_said_on_the_page(browser_page, site_url):
    """evaluate_json raising (a defect: bad answers come back as a result with an
    error) shows a message and the algorithm page's link in place of the
    result, not an uncaught error under a stale one; history and the form
    stay as for any change, and the next change is evaluated again."""
    page = open_calculator(browser_page, case_url(site_url, dict(VERTEBROPLASTY_CLICKS)))
    result = page.locator(".sh-result")
    expect(result).to_have_attribute("data-status", "complete")
    complete_url = page.url  # as the page wrote it (its own order of the answers)
    before = page.evaluate("history.length")
    page.evaluate(
        """() => SpineCalc.load().then((c) => c.pyodide.runPython(
          "import spine_hemangioma as s; s._real, s.evaluate = s.evaluate, lambda a: 1 / 0"))"""
    )
    choose(page, "extension", "extraosseous")
    expect(result).to_have_attribute("data-status", "failed")
    expect(result).to_contain_text(
        "The calculator could not evaluate these answers (internal error: "
        "ZeroDivisionError: division by zero)."
    )
    expect(result.get_by_role("link", name="Management algorithm page")).to_be_visible()
    expect(result.get_by_role("button", name="Retry")).to_have_count(0)
    for key in ("pathway", "urgency", "warnings", "gaps"):
        assert result.get_attribute(f"data-{key}") == "", key
    root = page.locator("[data-spine-calc]")
    assert root.locator("fieldset:not([data-use=''])").count() == 0
    assert root.locator(".sh-use").count() == 0
    assert "extension=extraosseous" in page.url
    # The complete result's entry is kept, as for any change to another question.
    assert page.evaluate("history.length") == before + 1
    assert browser_page.console_errors == []
    # Repaired, the next change is answered, and Back finds the complete result.
    page.evaluate(
        "() => SpineCalc.load().then((c) => c.pyodide.runPython("
        "'import spine_hemangioma as s; s.evaluate = s._real'))"
    )
    choose(page, "extension", "intraosseous")
    expect(result).to_have_attribute("data-status", "complete")
    expect(page.locator(".sh-status")).to_have_text("Calculator ready.")
    page.go_back()
    expect(page).to_have_url(complete_url)
    expect(result).to_have_attribute("data-status", "complete")


# --- Guide pages without the calculator ----------------------------------------------


@pytest.mark.parametrize("path", ["", "algorithm/", "cases/"])
def test_guide_page_loads_no_python(browser_page, site_url, path):
    browser_page.page.goto(site_url + path, wait_until="networkidle")
    assert browser_page.requests
    assert [
        u for u in browser_page.requests if "/pyodide/" in u or "/assets/calculator/" in u
    ] == []
    assert browser_page.console_errors == []


@pytest.mark.parametrize("path", [CALC, "embed/"])
def test_links_on_the_calculator_pages_resolve(browser_page, site_url, path):
    """Links in raw HTML are not rewritten by mkdocs: each must still lead somewhere."""
    page = browser_page.page
    page.route("**/pyodide/**", lambda route: None)  # not needed here: held back
    page.goto(site_url + path, wait_until="domcontentloaded")
    hrefs = page.eval_on_selector_all("main a[href]", "(links) => links.map((a) => a.href)")
    local = sorted({h.split("#")[0] for h in hrefs if h.startswith(site_url)})
    assert site_url + "algorithm/" in local
    assert [h for h in local if page.request.get(h).status != 200] == []


# --- Reset, Copy summary ----------------------------------------------------------------


def test_reset_clears_answers_and_the_url(calc, site_url):
    page = open_calculator(calc, case_url(site_url, BASE, "foo=1"))
    expect(page.locator(".sh-note")).to_be_visible()
    before = page.url
    reset(page)
    expect(page).to_have_url(site_url + CALC)
    root = page.locator("[data-spine-calc]")
    assert root.evaluate(STATE) == {"checked": {}, "visible": list(ALGORITHM.always_read)}
    expect(root.locator(".sh-result")).to_have_attribute("data-status", "incomplete")
    expect(root.locator(".sh-result")).to_have_attribute("data-pathway", "")
    expect(page.locator(".sh-note")).to_be_hidden()
    page.go_back()  # Reset is one step in the history, like an answer
    expect(page).to_have_url(before)
    expect(root.locator(".sh-result")).to_have_attribute("data-pathway", "vertebroplasty")


def plain_citation(n: int) -> str:
    ref = next(r for r in CONTENT.guide.references if r.number == n)
    return (
        MARKDOWN_EMPHASIS.sub(r"\1", ref.citation)
        if ref.citation
        else f"Reference {n}: not identified"
    )


def test_copy_summary_puts_the_result_on_the_clipboard(calc, site_url):
    page = open_calculator(calc, case_url(site_url, BASE))
    page.evaluate("navigator.clipboard.writeText('')")
    page.locator(".sh-copy").click()
    expect(page.locator(".sh-status")).to_have_text("Summary copied to the clipboard.")
    text = page.evaluate("navigator.clipboard.readText()")
    result = spine_hemangioma.evaluate(BASE)
    assert f"Pathway: {result['title']} (urgency: routine)" in text
    for step in result["steps"]:
        assert CITATION.sub("", step["text"]).strip() in CITATION.sub("", text)
    references = text.split("\nReferences:\n", 1)[1]
    for n in result["refs"]:
        mark = "†" if n in UNIDENTIFIED else ""
        assert f"[{n}{mark}] {plain_citation(n)}\n" in references
    assert "*" not in references, "Markdown left in the plain-text references"
    assert f"Link: {page.url}" in text
    assert text.rstrip().endswith(result["disclaimer"])
    for field, value in BASE.items():
        label = next(o.label for o in QUESTIONS[field].options if o.value == value)
        assert f"- {QUESTIONS[field].label}: {label}" in text


def test_copy_summary_without_clipboard_access_shows_it_to_copy(calc, site_url):
    page = open_calculator(calc, case_url(site_url, BASE))
    page.evaluate(
        """() => { navigator.clipboard.writeText = () => Promise.reject(new Error("denied")); }"""
    )
    for _ in range(2):
        page.locator(".sh-copy").click()
        expect(page.locator(".sh-status")).to_have_text(re.compile(r"^Copy the selected summary"))
    area = page.locator(".sh-copy-area")
    expect(area).to_have_count(1)  # one box, however many clicks
    expect(area).to_be_focused()
    text = area.input_value()
    assert "Pathway: Percutaneous vertebroplasty" in text
    assert page.evaluate("getSelection().toString() || document.activeElement.selectionEnd") in (
        text,
        len(text),
    )
    # A changed answer makes that summary stale: it goes.
    page.locator('fieldset[data-field="preference"] label').filter(
        has=page.locator('input[value="conservative"]')
    ).click()
    expect(area).to_have_count(0)


# --- Keyboard --------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  const root = document.querySelector("[data-spine-calc]");
  if (!el || !root.contains(el)) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), name: el.name || "", value: el.value || "",
    cls: [...el.classList].filter((c) => c.startsWith("sh-")).join(" "), checked: !!el.checked,
    focus_visible: el.matches(":focus-visible"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""
KEYBOARD_ANSWERS = {
    "mri": "typical",
    "symptoms": "pain",
    "instability": "no",
    "recurrent": "no",
    "preference": "treatment",
    "extension": "intraosseous",
    "fracture": "yes",
}


def tab_into_widget(page, key: str = "Tab") -> dict:
    for _ in range(300):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if focused:
            return focused
    raise AssertionError("Tab never reached the calculator")


def sweep(page) -> list[dict]:
    """From the first stop in the widget, every Tab stop until focus leaves it."""
    stops = []
    focused = page.evaluate(FOCUSED)
    while focused:
        stops.append(focused)
        assert len(stops) < 100
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
    return stops


def test_keyboard_only(calc, site_url):
    page = open_calculator(calc, site_url + CALC)
    root = page.locator("[data-spine-calc]")
    expect(root.locator(".sh-result")).to_have_attribute("aria-live", "polite")
    first = tab_into_widget(page)
    assert (first["tag"], first["name"]) == ("input", FIELDS[0])
    # Answer by keyboard alone: Space picks the focused (first) option, the
    # arrow keys move to the next ones; questions that appear above the focus
    # are reached by starting over from the top of the form.
    for _ in range(len(FIELDS) * 3):
        focused = page.evaluate(FOCUSED)
        if focused is None:  # left the widget: go back to its first stop
            page.keyboard.press("Shift+Tab")
            tab_into_widget(page, "Shift+Tab")
            while (page.evaluate(FOCUSED) or {}).get("name") != FIELDS[0]:
                page.keyboard.press("Shift+Tab")
            continue
        checked = root.evaluate(STATE)["checked"]
        field = focused["name"]
        if focused["tag"] == "input" and field in KEYBOARD_ANSWERS and field not in checked:
            # Tab lands on a group's first option, Shift+Tab on its last.
            values = [o.value for o in QUESTIONS[field].options]
            delta = values.index(KEYBOARD_ANSWERS[field]) - values.index(focused["value"])
            if delta == 0:
                page.keyboard.press("Space")
            for _ in range(abs(delta)):
                page.keyboard.press("ArrowDown" if delta > 0 else "ArrowUp")
            expect(
                root.locator(f'input[name="{field}"][value="{KEYBOARD_ANSWERS[field]}"]')
            ).to_be_checked()
        if root.evaluate(STATE)["checked"] == KEYBOARD_ANSWERS:
            break
        page.keyboard.press("Tab")
    expect(root.locator(".sh-result")).to_have_attribute("data-pathway", "vertebroplasty")
    assert root.evaluate(STATE)["checked"] == KEYBOARD_ANSWERS
    # One sweep from the top: one stop per visible question, then both buttons,
    # each with a visible focus ring.
    page.locator(f'input[name="{FIELDS[0]}"]:checked').focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    stops = sweep(page)
    visible = root.evaluate(STATE)["visible"]
    assert [s["name"] for s in stops if s["tag"] == "input"] == visible
    assert all(s["checked"] for s in stops if s["tag"] == "input")
    buttons = [s["cls"] for s in stops if s["tag"] == "button"]
    assert buttons == ["sh-reset", "sh-copy"]
    assert [s for s in stops if not (s["focus_visible"] and s["outline"])] == []
    # An arrow key changes an answer, and the result follows.
    page.locator('input[name="preference"]:checked').focus()
    page.keyboard.press("ArrowDown")
    expect(root.locator('input[name="preference"][value="conservative"]')).to_be_checked()
    expect(root.locator(".sh-result")).to_have_attribute("data-pathway", "conservative")
