"""Accessibility: axe-core (the copy axe-playwright-python ships; no CDN) finds
no WCAG 2.0/2.1 A or AA, or WCAG 2.2 AA, violation, and the calculator works
from the keyboard alone.

Where axe looks:
  - every page of site/ (its 404 page served under site_url's path, as the
    published server would), in the light and the dark palette (the header's
    toggle, as a reader switches);
  - the calculator page in every state: empty, each conformance case of
    calculator/cases.json, answers for each pathway that no case reaches
    (found with spine_hemangioma.evaluate over every combination), a link with bad
    parameters (the note), loading, and failing to load (the wasm blocked,
    the page's bound lowered), plus the copy-summary fallback box;
  - the embed page (the same widget in its own colours) in one state of each
    kind, light and dark (the reader's setting), and compact with theme=dark;
  - every page of the offline bundle (the dist/ zip unpacked), from file://.
axe cannot see behind SVG text, so the diagram's text contrast over its
translucent boxes is computed here (a highlighted path, both palettes).
States are set in one loaded page through its link decoder (history +
popstate, what the back button does): Python starts once per page.

The keyboard walk (Tab, Shift+Tab, arrow keys, Space; no mouse) answers a
case to a complete result, every focus stop shows a focus ring (outline or
box-shadow on :focus-visible, 3:1 against the background), a sweep each way
reaches every visible control, and the result region (aria-live) announces
the result by changing in place.
"""

from __future__ import annotations

import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

import axe_playwright_python
import pytest
import spine_hemangioma
from conftest import _LOCAL_ORIGINS, PageProbe, _new_probe
from mkdocs.utils.yaml import yaml_load
from playwright.sync_api import expect

from generator.offline import DIST_DIR, read_edition

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Rules switched off, each with its reason. None: a violation is fixed at its source.
DISABLED_RULES: dict[str, str] = {}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": TAGS},
    "resultTypes": ["violations"],
    "rules": {rule: {"enabled": False} for rule in DISABLED_RULES},
}
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text("utf-8"))["cases"]
QUESTIONS = spine_hemangioma.questions()
FIELDS = [q["id"] for q in QUESTIONS]  # the form's order
VALUES = {q["id"]: [o["value"] for o in q["options"]] for q in QUESTIONS}
CALCULATOR, EMBED = "calculator/index.html", "embed/index.html"
READY_MS = 60_000  # Pyodide on a loaded two-core machine; the page's own bound is 45 s
FAILURE_BOUND_MS = 4000
SCHEMES = {"light": "default", "dark": "slate"}  # mkdocs-material's names


def _site_url_path() -> str:
    with (REPO_ROOT / "mkdocs.yml").open("rb") as fd:
        return urlsplit(yaml_load(fd)["site_url"]).path


SITE_URL_PATH = _site_url_path()


# --- axe ----------------------------------------------------------------------------


def axe_violations(page, context: str | None = None) -> list[str]:
    """axe's violations on the page (or inside the `context` selector), one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate(
        "([context, options]) => axe.run(context || document, options)", [context, AXE_OPTIONS]
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}: "
        + " / ".join(line.strip() for line in node["failureSummary"].splitlines()[1:3])
        for v in results["violations"]
        for node in v["nodes"]
    ]


def settle(page) -> None:
    """Wait out CSS transitions (the theme fades colours): axe must see final colours."""
    page.wait_for_function(
        "() => document.getAnimations().every((a) => a.playState !== 'running')", timeout=5000
    )


def set_palette(page, scheme: str) -> None:
    """Switch mkdocs-material's palette with its header toggle, as a reader does."""
    body = page.locator("body")
    if body.get_attribute("data-md-color-scheme") != SCHEMES[scheme]:
        page.locator("form[data-md-component='palette'] label:visible").click()
        expect(body).to_have_attribute("data-md-color-scheme", SCHEMES[scheme])
        # The pointer leaves the toggle: its tooltip would otherwise fade in
        # while axe reads the colours (a half-faded tooltip is not a state).
        page.mouse.move(0, 0)
        expect(page.locator(".md-tooltip2--active")).to_have_count(0)
    settle(page)


def both_palettes(page, context: str | None = None) -> dict[str, list[str]]:
    """Violations in the palette the page opened in, then in the other one."""
    found = {}
    first = page.locator("body").get_attribute("data-md-color-scheme")
    order = ["light", "dark"] if first != SCHEMES["dark"] else ["dark", "light"]
    for scheme in order:
        set_palette(page, scheme)
        found[scheme] = axe_violations(page, context)
    return found


# --- States of the calculator ---------------------------------------------------------


def valid_part(answers: dict) -> dict:
    """The answers a link's decoder keeps: known fields with allowed values."""
    return {k: v for k, v in answers.items() if v in VALUES.get(k, ())}


def _pathway_answers() -> dict[str, dict[str, str]]:
    """For each pathway, the fewest answers that reach it (every combination tried)."""
    best: dict[str, dict[str, str]] = {}
    for combo in itertools.product(*VALUES.values()):
        answers = dict(zip(FIELDS, combo, strict=True))
        result = spine_hemangioma.evaluate(answers)
        if result["status"] != "complete":
            continue
        kept = {f: v for f, v in answers.items() if f not in result["unused"]}
        pathway = result["pathway"]
        if pathway not in best or len(kept) < len(best[pathway]):
            best[pathway] = kept
    return best


def _case_pathway(case: dict) -> str | None:
    return spine_hemangioma.evaluate(case["answers"]).get("pathway")


BAD_LINK = {"mri": "typical", "symptoms": "pian", "<b>x</b>": "1", "level": "spinal"}
# Every conformance case, then answers for each pathway that no case reaches.
STATES = (
    [("empty", {})]
    + [(f"case-{c['name'].replace(' ', '-')}", c["answers"]) for c in CASES]
    + [
        (f"pathway-{p}", a)
        for p, a in sorted(_pathway_answers().items())
        if p not in {_case_pathway(c) for c in CASES}
    ]
    + [("bad-link-note", BAD_LINK)]
)


def _kind(answers: dict) -> str:
    """What a state shows: empty, the note, a question, a gap, or a routine/urgent pathway."""
    valid = valid_part(answers)
    result = spine_hemangioma.evaluate(valid)
    if valid != answers:
        return "note"
    if result["status"] != "complete":
        return "question" if answers else "empty"
    return "gap" if result["gaps"] else result["urgency"]


def _size(answers: dict) -> int:
    """How many items the state's result lists."""
    result = spine_hemangioma.evaluate(valid_part(answers))
    parts = ("steps", "alternatives", "warnings", "outcomes", "gaps")
    return sum(len(result.get(part, [])) for part in parts)


# The embed shows the same widget in its own colours: of each kind of state,
# the one that shows the most.
EMBED_STATES = [
    max((s for s in STATES if _kind(s[1]) == kind), key=lambda s: _size(s[1]))
    for kind in dict.fromkeys(_kind(a) for _, a in STATES)
]


SET_STATE = """(query) => {
  history.replaceState(null, "", location.pathname + query);
  dispatchEvent(new PopStateEvent("popstate"));
}"""


def show_state(page, answers: dict) -> None:
    """The page as a link with these answers leaves it, without reloading Python."""
    page.evaluate(SET_STATE, "?" + urlencode(answers) if answers else "")
    valid = valid_part(answers)
    result = spine_hemangioma.evaluate(valid)
    region = page.locator(".sh-result")
    expect(region).to_have_attribute("data-status", result["status"])
    expect(region).to_have_attribute("data-pathway", result.get("pathway") or "")
    note = page.locator(".sh-note")
    if valid != answers:
        expect(note).to_be_visible()
    else:
        expect(note).to_be_hidden()


# The links a result shows (references, the algorithm page), as the page resolved them.
RESULT_LINKS = """() => [...document.querySelectorAll(
  "[data-spine-calc] .sh-result a[href], a[data-sh-link]")].map((a) => a.href)"""


def broken_result_links(page, root: Path, root_url: str) -> list[str]:
    """The result's links that open no file of `root` (served at root_url) or name
    no id in it."""
    broken = []
    for href in page.evaluate(RESULT_LINKS):
        parts = urlsplit(href)
        if not href.startswith(root_url):
            broken.append(f"{href}: outside {root_url}")
            continue
        target = root / unquote(parts.path.removeprefix(urlsplit(root_url).path))
        if target.is_dir():
            target /= "index.html"
        if not target.is_file():
            broken.append(f"{href}: no file")
        elif parts.fragment and f'id="{parts.fragment}"' not in target.read_text("utf-8"):
            broken.append(f"{href}: no id {parts.fragment!r}")
    return broken


def open_calculator(probe: PageProbe, url: str):
    probe.page.goto(url)
    expect(probe.page.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    return probe.page


@pytest.fixture(scope="module")
def site_probe(chromium_browser, site_url) -> Iterator[PageProbe]:
    """One tab for the site's pages; the 404 page's absolute links served from site/."""
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)

    def published(route) -> None:
        rel = urlsplit(route.request.url).path.removeprefix(SITE_URL_PATH)
        target = SITE_DIR / rel
        if target.is_dir():
            target /= "index.html"
        if target.is_file():
            route.fulfill(path=target)
        else:
            route.fulfill(status=404, body="not found")

    probe.page.route(f"{site_url}{SITE_URL_PATH.lstrip('/')}**", published)
    yield probe
    context.close()
    assert probe.outside_requests == []


@pytest.fixture(scope="module")
def calculator_page(chromium_browser, site_url) -> Iterator[PageProbe]:
    """The site's calculator page, opened from a conformance case's link, Python ready."""
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
    open_calculator(probe, f"{site_url}calculator/?{urlencode(CASES[0]['answers'])}")
    yield probe
    context.close()
    assert probe.outside_requests == []
    assert probe.console_errors == []


@pytest.fixture(scope="module")
def embed_page(chromium_browser, site_url) -> Iterator[PageProbe]:
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
    open_calculator(probe, f"{site_url}embed/")
    yield probe
    context.close()
    assert probe.outside_requests == []
    assert probe.console_errors == []


# --- Every page of the site -----------------------------------------------------------

SITE_PAGES = sorted(
    p.relative_to(SITE_DIR).as_posix()
    for p in SITE_DIR.rglob("*.html")
    if p.relative_to(SITE_DIR).as_posix() not in {CALCULATOR, EMBED}  # in every state below
)


@pytest.mark.parametrize("path", SITE_PAGES)
def test_site_page(site_probe, site_url, path):
    page = site_probe.page
    if path == "404.html":  # what the published server answers for a missing page
        url = f"{site_url}{SITE_URL_PATH.lstrip('/')}no-such-page/"
        page.route(url, lambda route: route.fulfill(path=SITE_DIR / "404.html", status=404))
    else:
        url = site_url + path.removesuffix("index.html")
    page.goto(url)
    expect(page.locator("article h1")).to_be_visible()
    assert both_palettes(page) == {"light": [], "dark": []}


# --- The calculator in every state --------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("state", "answers"), STATES, ids=[s for s, _ in STATES])
def test_calculator_state(calculator_page, site_url, state, answers, scheme):
    page = calculator_page.page
    set_palette(page, scheme)
    show_state(page, answers)
    # The whole page once per palette; then the widget, the only part that changes.
    assert axe_violations(page, None if state == "empty" else "[data-spine-calc]") == []
    assert broken_result_links(page, SITE_DIR, site_url) == []


def test_calculator_copy_fallback_box(calculator_page):
    # Without clipboard access the summary is shown selected in a text box.
    page = calculator_page.page
    show_state(page, CASES[2]["answers"])
    page.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new Error('denied')); }"
    )
    page.locator(".sh-copy").press("Enter")
    expect(page.locator(".sh-copy-area")).to_be_visible()
    assert both_palettes(page, "[data-spine-calc]") == {"light": [], "dark": []}


def test_calculator_loading_and_failed(browser_page, site_url):
    page = browser_page.page
    held = []
    # Held while axe reads the loading state, then failed (a network fault).
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # noqa: PLW0108
    page.goto(f"{site_url}calculator/", wait_until="domcontentloaded")
    region = page.locator(".sh-result")
    expect(region).to_have_attribute("data-status", "loading")
    loading = axe_violations(page)
    assert region.get_attribute("data-status") == "loading", "axe ran past the loading state"
    assert loading == []
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the wasm request was never made"
    held[0].abort("failed")
    expect(region).to_have_attribute("data-status", "failed", timeout=FAILURE_BOUND_MS + 10_000)
    assert both_palettes(page) == {"light": [], "dark": []}


# --- The diagram's text ------------------------------------------------------------------

# axe cannot tell the background of SVG text ("incomplete"), so it is computed
# here: each text's fill over its box's translucent fill over the page.
DIAGRAM_TEXT = """(root) => {
  const svg = root.querySelector("svg.sh-algorithm");
  let page = "rgb(255, 255, 255)";
  for (let n = svg.parentElement; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (!/rgba\\(.*, 0\\)$|transparent/.test(c)) { page = c; break; }
  }
  return [...svg.querySelectorAll("text")].map((t) => {
    const box = t.parentElement.querySelector(":scope > .box");
    const style = box && getComputedStyle(box);
    return {
      text: t.textContent, fill: getComputedStyle(t).fill, page: page,
      box: style ? style.fill : null, box_opacity: style ? parseFloat(style.fillOpacity) : 0,
    };
  });
}"""


def diagram_contrast_problems(page) -> list[str]:
    texts = page.locator("[data-spine-calc]").evaluate(DIAGRAM_TEXT)
    assert texts, "no diagram text"
    problems = []
    for t in texts:
        background = over(t["page"], WHITE)
        if t["box"]:
            tint = over(t["box"], background)
            a = t["box_opacity"]
            background = tuple(c * a + b * (1 - a) for c, b in zip(tint, background, strict=True))
        ratio = contrast(over(t["fill"], background), background)
        if ratio < 4.5:  # the diagram's text is 12-14 px: normal text
            problems.append(f"{t['text']!r}: {ratio:.2f}:1")
    return problems


@pytest.mark.parametrize("scheme", SCHEMES)
def test_diagram_text_contrast(calculator_page, scheme):
    # The calculator's diagram, a path highlighted: its boxes are the darkest
    # (the embed has no diagram; the guide's pages draw it unhighlighted).
    page = calculator_page.page
    set_palette(page, scheme)
    show_state(page, CASES[3]["answers"])  # a highlighted path: darker boxes
    assert page.locator("svg.sh-algorithm .on").count() > 0
    assert diagram_contrast_problems(page) == []


# --- The embed page --------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("state", "answers"), EMBED_STATES, ids=[s for s, _ in EMBED_STATES])
def test_embed_state(embed_page, state, answers, scheme):
    # The embed has no palette toggle: it follows the reader's setting.
    page = embed_page.page
    page.emulate_media(color_scheme=scheme)
    show_state(page, answers)
    assert axe_violations(page, None if state == "empty" else "[data-spine-calc]") == []


# --- The offline bundle ------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(offline_bundle) -> Path:
    return offline_bundle


@pytest.fixture(scope="module")
def file_probe(chromium_browser) -> Iterator[PageProbe]:
    context, probe = _new_probe(chromium_browser, set())  # every http(s) request blocked
    yield probe
    context.close()
    assert probe.outside_requests == []


def _bundle_pages() -> list[str]:
    """The pages in the offline zip (none before `make site`: the fixture says so)."""
    edition = read_edition()
    zip_path = DIST_DIR / f"{edition.slug}.zip"
    if not zip_path.is_file():
        return ["index.html"]
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    return sorted(n.split("/", 1)[1] for n in names if n.endswith(".html"))


@pytest.mark.parametrize("path", _bundle_pages())
def test_offline_page(file_probe, bundle, path):
    page = file_probe.page
    page.goto((bundle / path).resolve().as_uri())
    if path in {CALCULATOR, EMBED}:
        expect(page.locator("[data-spine-calc]")).to_have_attribute(
            "data-ready", "true", timeout=READY_MS
        )
        show_state(page, KEYBOARD_CASE["answers"])  # a result with links and lists
        assert broken_result_links(page, bundle, bundle.resolve().as_uri() + "/") == []
    if path == EMBED:
        found = {}
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            found[scheme] = axe_violations(page)
        page.emulate_media(color_scheme="light")
    else:
        found = both_palettes(page)
    assert found == {"light": [], "dark": []}


# --- Keyboard only ------------------------------------------------------------------------

# The focused element, and how its focus shows.
FOCUS = """() => {
  const el = document.activeElement;
  const root = document.querySelector("[data-spine-calc]");
  if (!el || el === document.body || !root.contains(el)) return null;
  const s = getComputedStyle(el);
  let bg = "rgba(0, 0, 0, 0)";
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (!/rgba\\(.*, 0\\)$|transparent/.test(c)) { bg = c; break; }
  }
  return {
    tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "",
    value: el.value || "", checked: !!el.checked, text: el.textContent.trim().slice(0, 30),
    focus_visible: el.matches(":focus-visible"),
    outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 ? s.outlineColor : null,
    box_shadow: s.boxShadow !== "none",
    background: bg,
  };
}"""
# Every visible control of the widget the sweeps did not reach (a radio group
# counts as reached when any of its radios was).
UNREACHED = """(stops) => {
  const root = document.querySelector("[data-spine-calc]");
  const focusable = "input, button, select, textarea, a[href], [tabindex]:not([tabindex='-1'])";
  return [...root.querySelectorAll(focusable)]
    .filter((el) => el.checkVisibility() && !el.disabled)
    .filter((el) => !(el.type === "radio" ? stops.some((s) => s.name === el.name)
                                           : window.__stops.includes(el)))
    .map((el) => el.outerHTML.slice(0, 80));
}"""
RECORD = "() => { window.__stops.push(document.activeElement); }"
# Every text the result region shows, in order, as a screen reader gets the changes.
LISTEN = """() => {
  const region = document.querySelector(".sh-result");
  window.__region = region;
  window.__announced = [];
  new MutationObserver(() => window.__announced.push(region.textContent))
    .observe(region, { childList: true, subtree: true, characterData: true });
}"""


WHITE = (255.0, 255.0, 255.0)


def over(css: str, below: tuple[float, ...]) -> tuple[float, ...]:
    """A CSS rgb()/rgba() colour painted over an opaque colour, with its alpha."""
    numbers = [float(x) for x in re.findall(r"[\d.]+", css)]
    alpha = numbers[3] if len(numbers) > 3 else 1.0
    return tuple(c * alpha + b * (1 - alpha) for c, b in zip(numbers[:3], below, strict=True))


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG contrast ratio of two opaque colours."""

    def lum(rgb: tuple[float, ...]) -> float:
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def focus_problem(stop: dict) -> str | None:
    """Why a focus stop's focus would not show, or None."""
    if not stop["focus_visible"]:
        return "not :focus-visible"
    if stop["outline"]:
        background = over(stop["background"], WHITE)
        ratio = contrast(over(stop["outline"], background), background)
        return None if ratio >= 3 else f"focus outline contrast {ratio:.2f}:1 < 3:1"
    return None if stop["box_shadow"] else "no outline and no box-shadow"


class Keyboard:
    """Key presses only; each focus stop inside the widget is recorded and checked."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.evaluate("() => { window.__stops = []; }")

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        stop = self.page.evaluate(FOCUS)
        if stop:
            self.page.evaluate(RECORD)
            problem = focus_problem(stop)
            if problem:
                self.problems.append(f"{stop['tag']} {stop['name'] or stop['text']}: {problem}")
        return stop

    def into_widget(self, key: str = "Tab") -> dict:
        for _ in range(200):
            stop = self.press(key)
            if stop:
                return stop
        raise AssertionError("the keyboard never reached the calculator")

    def sweep(self, key: str) -> list[dict]:
        """From the current stop, every stop until focus leaves the widget."""
        stops = [self.page.evaluate(FOCUS)]
        while (stop := self.press(key)) is not None:
            stops.append(stop)
            assert len(stops) < 200, "focus never leaves the widget"
        return stops


FORM_ORDER = (
    "() => [...document.querySelectorAll('fieldset[data-field]')].map((f) => f.dataset.field)"
)


def _position(order: list[str], stop: dict | None) -> int:
    """Where a stop is in the form: its question's place (the page orders the
    questions as the path asks them); buttons and links after."""
    if stop is None:
        return -1
    return order.index(stop["name"]) if stop["name"] in order else len(order)


def answer_by_keyboard(keys: Keyboard, answers: dict) -> None:
    """Answer each question the calculator asks next, moving with Tab/Shift+Tab and
    choosing with the arrow keys or Space."""
    stop = keys.into_widget()
    checked: dict[str, str] = {}
    for _ in range(len(FIELDS) + 1):
        result = spine_hemangioma.evaluate(checked)
        if result["status"] == "complete":
            return
        field = result["next_question"]
        for _ in range(60):
            if stop and stop["name"] == field:
                break
            order = keys.page.evaluate(FORM_ORDER)
            forward = _position(order, stop) < order.index(field)
            stop = keys.press("Tab" if forward else "Shift+Tab")
        else:
            raise AssertionError(f"Tab never reached the question {field!r}")
        values, want = VALUES[field], answers[field]
        move = values.index(want) - values.index(stop["value"])
        if move == 0:
            stop = keys.press("Space")
        for _ in range(abs(move)):
            stop = keys.press("ArrowDown" if move > 0 else "ArrowUp")
        expect(keys.page.locator(f'input[name="{field}"][value="{want}"]')).to_be_checked()
        checked[field] = want
    raise AssertionError(f"no complete result after answering {checked}")


KEYBOARD_CASE = max(CASES, key=lambda c: len(c["answers"]))


def keyboard_walk(page) -> None:
    show_state(page, {})  # a fresh form (the page's own Reset, without the mouse)
    page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.evaluate(LISTEN)
    keys = Keyboard(page)
    answer_by_keyboard(keys, KEYBOARD_CASE["answers"])
    expected = spine_hemangioma.evaluate(KEYBOARD_CASE["answers"])
    region = page.locator(".sh-result")
    expect(region).to_have_attribute("data-status", "complete")
    expect(region).to_have_attribute("data-pathway", expected["pathway"])
    # Announced: the live region stayed in place and its text became the result.
    expect(region).to_have_attribute("aria-live", "polite")
    assert page.evaluate("window.__region === document.querySelector('.sh-result')")
    announced = page.evaluate("window.__announced")
    assert announced, "the result region never changed"
    assert expected["title"] in announced[-1]
    assert page.evaluate("!document.querySelector('.sh-result').closest('[aria-hidden=true]')")
    # A sweep each way from the first stop reaches every visible control.
    page.locator(f'input[name="{FIELDS[0]}"]:checked').focus()
    forward = keys.sweep("Tab")
    keys.press("Shift+Tab")  # back into the widget, at its last stop
    backward = keys.sweep("Shift+Tab")
    assert [s["name"] or s["text"] for s in backward] == [
        s["name"] or s["text"] for s in reversed(forward)
    ]
    assert page.evaluate(UNREACHED, forward) == []
    assert {s["tag"] for s in forward} >= {"input", "button", "a"}, "no result links reached"
    assert keys.problems == []


def test_keyboard_only_calculator(calculator_page):
    page = calculator_page.page
    for scheme in SCHEMES:
        set_palette(page, scheme)
        keyboard_walk(page)


def test_keyboard_only_embed(embed_page):
    page = embed_page.page
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        keyboard_walk(page)


def test_embed_compact_dark(embed_page, site_url):
    # The host's choice (theme=dark) over the reader's light setting, compact.
    page = embed_page.page
    page.emulate_media(color_scheme="light")
    open_calculator(embed_page, f"{site_url}embed/?theme=dark&compact=1")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator("html")).to_have_attribute("data-compact", "true")
    found = {}
    for state, answers in [STATES[0], ("urgent", CASES[3]["answers"]), STATES[-1]]:
        show_state(page, answers)
        found[state] = axe_violations(page)
    assert found == {state: [] for state in found}
