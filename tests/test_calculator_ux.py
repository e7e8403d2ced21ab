"""The calculator as a clinician uses it (issue 13), in Chromium, on the built site/:

- the result's pathway title and urgency lie inside the viewport after the last
  answer, with nothing on top of them, for every pathway, at 1366x900, at
  390x844 and in a 700x600 iframe of a course page without the host script;
- the path taken differs from the rest of the diagram by more than colour (both
  palettes), and its diagram sits right under the result;
- no diagram text under 12 CSS px on a 390 px phone;
- history: one entry per completed result; Back leaves the page after one
  press per completed result;
- print: answers and result on at most two A4 pages, none blank, no diagram;
- the embed: Canvas's resize message to the embedding origin only, links in a
  new tab, no stray pilcrow, the disclaimer before any result, the copy box in
  view; the instructors' page in its own nav section, its copy button, and a
  snippet naming the address it is served from; SITE_URL;
- one result everywhere (decision.md section 7): for every reachable path and
  every public case, data-pathway, data-urgency, data-warnings and data-gaps
  equal what `python -m spine_hemangioma` prints for the same answers, and an
  answer off the path is shown and marked, never dropped;
- the ignored-parameter note stays short and inert for any link;
- axe finds no violation in the new states.

Expected values come from the decision module (its command line or
spine_hemangioma.evaluate), never typed here. States are set through the page's
link decoder (history + popstate, what the back button does) or by clicking.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import spine_hemangioma
from cases import VERTEBROPLASTY_CLICKS
from conftest import _LOCAL_ORIGINS, PageProbe, _new_probe
from playwright.sync_api import expect
from spine_hemangioma import diagram
from spine_hemangioma.content import CONTENT_DIR, load, load_from
from test_a11y import axe_violations, set_palette
from test_calculator_browser import CALC, click_answers, open_calculator, reset
from test_embed_browser import (  # noqa: F401 (fixtures: pytest finds them by name)
    EMBED,
    PUBLISHED,
    frame_tag,
    host,
    origin,
    snippet,
    wait_frame_ready,
    write_host,
)

from generator import calculator_page
from generator.pages import GeneratorError, load_diagram, render_pages
from generator.write import write_pages

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text("utf-8"))["cases"]
GUIDE = load().guide
QUESTIONS = spine_hemangioma.questions()
VALUES = {q["id"]: [o["value"] for o in q["options"]] for q in QUESTIONS}
LAYOUTS = {"desktop": (1366, 900), "phone": (390, 844)}
EMBED_FRAME = (700, 600)
MIN_TEXT_PX = 12
MAX_PRINT_PAGES = 2


# --- The answer space, as the module answers it -----------------------------------------


def _space() -> list[tuple[dict, dict]]:
    """Every combination of answers, with the module's result for it."""
    combos = itertools.product(*VALUES.values())
    return [
        (answers, spine_hemangioma.evaluate(answers))
        for answers in (dict(zip(VALUES, c, strict=True)) for c in combos)
    ]


SPACE = _space()


def _size(result: dict) -> int:
    return sum(len(result.get(k) or []) for k in ("steps", "evidence", "alternatives",
                                                   "warnings", "outcomes", "gaps"))  # fmt: skip


def _by_pathway(pick) -> dict[str, dict]:
    """One answer set per pathway the module reaches: the one `pick` prefers."""
    out: dict[str, tuple[dict, dict]] = {}
    for answers, result in SPACE:
        if result["status"] != "complete":
            continue
        best = out.get(result["pathway"])
        if best is None or pick(result) > pick(best[1]):
            out[result["pathway"]] = (answers, result)
    return {p: out[p][0] for p in sorted(out)}


# The first combination found per pathway (a walk clicks only what its path asks).
WALKS = _by_pathway(lambda r: 0)
# The longest result per pathway: the hardest to print on two pages.
LONGEST = _by_pathway(_size)


def _signatures() -> list[dict]:
    """Every reachable path of the tree, once per (path, warnings, gaps): full
    answer sets (off-path answers included) and the same path's answers alone."""
    seen, out = set(), []
    for answers, result in SPACE:
        key = (
            tuple(result["path"]),
            tuple(sorted(w["id"] for w in result.get("warnings", []))),
            tuple(sorted(g["id"] for g in result.get("gaps", []))),
        )
        if key not in seen:
            seen.add(key)
            out.append(answers)
            read = result.get("read") or [f for f in answers if f not in result["unused"]]
            minimal = {f: answers[f] for f in read}
            if minimal != answers:
                out.append(minimal)
    return out


PATH_ANSWERS = _signatures()


def cli(answers: dict) -> dict:
    """What `python -m spine_hemangioma` prints for these answers."""
    proc = subprocess.run(
        [sys.executable, "-m", "spine_hemangioma", json.dumps(answers)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def expected_data(result: dict) -> dict:
    complete = result["status"] == "complete"
    return {
        "status": result["status"],
        "pathway": result.get("pathway") or "",
        "urgency": result.get("urgency") or "",
        "warnings": " ".join(sorted(w["id"] for w in result.get("warnings", [])))
        if complete
        else "",
        "gaps": " ".join(sorted(g["id"] for g in result.get("gaps", []))) if complete else "",
    }


def expected_marks(answers: dict, result: dict) -> dict:
    """How the page must mark each answer: "unused", "pitfall" (given, neither
    read by the path nor unused: a pitfall's condition read it), or "" (read by
    the path, or not decided yet on an incomplete path)."""
    unused, read = set(result.get("unused", [])), result.get("read")
    marks = {}
    for field in answers:
        if field in unused:
            marks[field] = "unused"
        elif read is not None and field not in read:
            marks[field] = "pitfall"
        else:
            marks[field] = ""
    return marks


# --- Page helpers -----------------------------------------------------------------------------

SHOWN = """(root) => {
  const r = root.querySelector(".sh-result");
  return {
    data: {status: r.dataset.status, pathway: r.dataset.pathway, urgency: r.dataset.urgency,
           warnings: r.dataset.warnings, gaps: r.dataset.gaps},
    fields: Object.fromEntries([...root.querySelectorAll("fieldset[data-field]")]
      .filter((f) => f.querySelector("input:checked"))
      .map((f) => [f.dataset.field, {
        value: f.querySelector("input:checked").value, visible: f.checkVisibility(),
        use: f.dataset.use === "path" ? "" : f.dataset.use,
        legend: f.querySelector("legend").textContent}])),
  };
}"""

SET_STATE = """(query) => {
  history.pushState(null, "", location.pathname + (query ? "?" + query : ""));
  dispatchEvent(new PopStateEvent("popstate"));
}"""


def show_state(page, answers: dict) -> None:
    """The page decodes a link for these answers (the back button's way)."""
    page.evaluate(SET_STATE, urlencode(answers))


# The title and urgency of the result: inside the viewport, and at five points
# of each the topmost element is that element (nothing covers it).
IN_VIEW = """(root) => {
  const r = root.querySelector(".sh-result");
  return [".sh-title", ".sh-urgent, .sh-urgency"].map((sel) => {
    const el = r.querySelector(sel);
    if (!el) return `${sel}: missing`;
    const b = el.getBoundingClientRect();
    if (b.top < 0 || b.left < 0 || b.bottom > innerHeight || b.right > innerWidth) {
      return `${sel}: outside the viewport (${b.top}..${b.bottom} of ${innerHeight})`;
    }
    const points = [[b.left + 3, b.top + 3], [b.right - 3, b.top + 3],
      [(b.left + b.right) / 2, (b.top + b.bottom) / 2], [b.left + 3, b.bottom - 3],
      [b.right - 3, b.bottom - 3]];
    for (const [x, y] of points) {
      const hit = document.elementFromPoint(x, y);
      if (!hit || !el.contains(hit)) {
        const by = hit ? hit.outerHTML.slice(0, 60) : "nothing";
        return `${sel}: covered at ${Math.round(x)},${Math.round(y)} by ${by}`;
      }
    }
    return "ok";
  });
}"""


@pytest.fixture(scope="module")
def layout_pages(chromium_browser, site_url) -> Iterator[dict]:
    """One calculator page per layout, loaded on first use."""
    pages: dict[str, PageProbe] = {}
    contexts = []

    def get(name: str) -> PageProbe:
        if name not in pages:
            width, height = LAYOUTS[name]
            context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url[:-1])
            probe.page.set_viewport_size({"width": width, "height": height})
            open_calculator(probe, site_url + CALC)
            contexts.append(context)
            pages[name] = probe
        return pages[name]

    yield get
    for context in contexts:
        context.close()
    for probe in pages.values():
        assert probe.console_errors == []
        assert probe.outside_requests == []


@pytest.fixture(scope="module")
def framed(chromium_browser, snippet, site_url, host) -> Iterator[PageProbe]:  # noqa: F811
    """A course page (second origin) with the snippet's iframe at 700x600 and
    without the host script, as a learning platform that strips scripts shows it."""
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
    for url in (site_url, host[1]):
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin(url))
    tag = frame_tag(snippet, site_url, "calc")
    width, height = EMBED_FRAME
    tag = re.sub(r' width="[^"]*"', f' width="{width}"', tag)
    tag = re.sub(r' height="[^"]*"', f' height="{height}"', tag)
    probe.page.set_viewport_size({"width": 1280, "height": 900})
    probe.page.goto(write_host(host, "framed.html", tag))
    wait_frame_ready(probe.page, "calc")
    yield probe
    context.close()
    assert probe.console_errors == []
    assert probe.outside_requests == []


def frame_of(probe: PageProbe):
    return wait_frame_ready(probe.page, "calc")


# --- 1. The result is where the eyes are ---------------------------------------------------


@pytest.mark.parametrize("pathway", WALKS)
@pytest.mark.parametrize("layout", [*LAYOUTS, "iframe"])
def test_result_in_view_after_the_last_answer(layout_pages, framed, layout, pathway):
    answers = WALKS[pathway]
    page = frame_of(framed) if layout == "iframe" else layout_pages(layout).page
    reset(page)
    click_answers(page, answers)
    root = page.locator("[data-spine-calc]")
    expect(root.locator(".sh-result")).to_have_attribute("data-pathway", pathway)
    assert root.evaluate(IN_VIEW) == ["ok", "ok"]
    if layout == "iframe":  # and the frame itself is in the course page's view
        box = framed.page.locator("#calc").bounding_box()
        assert box["y"] >= 0
        assert box["y"] + box["height"] <= 900


BAR = """(root) => {
  const bar = root.querySelector(".sh-bar");
  const b = bar.getBoundingClientRect();
  return {visible: bar.checkVisibility(), text: bar.textContent,
          in_view: b.top >= 0 && b.bottom <= innerHeight};
}"""


@pytest.mark.parametrize("layout", ["phone", "iframe"])
def test_status_line_while_scrolling_the_form(layout_pages, framed, layout):
    """Back at the top of the form, the pathway and urgency stay in sight."""
    page = frame_of(framed) if layout == "iframe" else layout_pages(layout).page
    pathway = (
        "embolization-laminectomy" if "embolization-laminectomy" in WALKS else next(iter(WALKS))
    )
    answers = WALKS[pathway]
    show_state(page, answers)
    page.evaluate("scrollTo(0, 0)")
    root = page.locator("[data-spine-calc]")
    page.locator("fieldset[data-field]").first.scroll_into_view_if_needed()
    bar = root.evaluate(BAR)
    result = spine_hemangioma.evaluate(answers)
    assert bar["visible"], bar
    assert bar["in_view"], bar
    assert result["title"] in bar["text"]
    assert ("URGENT" if result["urgency"] == "urgent" else "routine") in bar["text"]
    page.locator(".sh-bar-go").click()
    assert root.evaluate(IN_VIEW) == ["ok", "ok"]
    assert axe_violations(page, "[data-spine-calc]") == []


# --- 2. The path taken is unmistakable ---------------------------------------------------

HIGHLIGHT = """(svg) => {
  const read = (sel, prop) => [...svg.querySelectorAll(sel)].map((n) => getComputedStyle(n)[prop]);
  return {
    on_width: read("g.on > .box", "strokeWidth").map(parseFloat),
    off_width: read("g:not(.on) > .box", "strokeWidth").map(parseFloat),
    on_weight: read("g.on > text", "fontWeight").map(Number),
    off_weight: read("g:not(.on) > text", "fontWeight").map(Number),
    on_stroke: read("g.on > .box", "stroke"),
    off_stroke: read("g:not(.on) > .box", "stroke"),
  };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_highlighted_path_differs_by_more_than_colour(layout_pages, scheme):
    page = layout_pages("desktop").page
    set_palette(page, scheme)
    # The pathway reached by the most paths: its own diagram has paths not taken too.
    pathway = max(LONGEST, key=lambda p: diagram.path_svg(p).count("data-node="))
    show_state(page, LONGEST[pathway])
    for selector in (".sh-path-diagram svg", ".sh-diagram svg"):
        h = page.locator(selector).evaluate(HIGHLIGHT)
        assert h["on_width"], selector
        assert h["off_width"], selector
        assert min(h["on_width"]) > max(h["off_width"]), (selector, h)
        assert min(h["on_weight"]) > max(h["off_weight"]), (selector, h)
        assert not set(h["on_stroke"]) & set(h["off_stroke"]), (selector, h)
    # The path's own diagram sits right under the result, in its column.
    result = page.locator(".sh-result").bounding_box()
    figure = page.locator(".sh-path-diagram").bounding_box()
    assert 0 <= figure["y"] - (result["y"] + result["height"]) < 40
    assert abs(figure["x"] - result["x"]) < 2
    set_palette(page, "light")


# --- 3. A diagram readable on a phone -------------------------------------------------------

TEXT_SIZES = """(root) => [...root.querySelectorAll("svg.sh-algorithm")]
  .filter((svg) => svg.checkVisibility())
  .flatMap((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll("text")].map((t) =>
      [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]);
  })"""


def test_no_diagram_text_under_12px_on_a_phone(layout_pages):
    page = layout_pages("phone").page
    show_state(page, next(iter(LONGEST.values())))
    sizes = page.locator("[data-spine-calc]").evaluate(TEXT_SIZES)
    assert len({t for t, _ in sizes}) > 20, "both diagrams are on the page"
    small = [(t, round(px, 1)) for t, px in sizes if px < MIN_TEXT_PX - 0.01]
    assert small == []
    # Wider than the phone: they scroll sideways in their own frame, the page does not.
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert axe_violations(page, "[data-spine-calc]") == []


# --- 4. History: one entry per completed result --------------------------------------------

VERTEBROPLASTY = VERTEBROPLASTY_CLICKS
# id, clicks (field, value) or ("key", field, key presses), completed results
HISTORY = [
    ("one-result", VERTEBROPLASTY, 1),
    ("three-results", [*VERTEBROPLASTY, ("preference", "conservative"), ("symptoms", "none")], 3),
    (
        "arrow-keys-in-one-group",
        [*VERTEBROPLASTY, ("key", "preference", ["ArrowDown", "ArrowUp", "ArrowDown"])],
        2,
    ),
    ("unfinished", VERTEBROPLASTY[:3], 0),
]


@pytest.mark.parametrize(
    ("steps", "results"), [h[1:] for h in HISTORY], ids=[h[0] for h in HISTORY]
)
def test_history_one_entry_per_completed_result(browser_page, site_url, steps, results):
    page = browser_page.page
    page.goto(site_url)  # where the reader came from
    open_calculator(browser_page, site_url + CALC)
    start = page.evaluate("history.length")
    root = page.locator("[data-spine-calc]")
    shown = []
    for step in steps:
        if step[0] == "key":
            _, field, keys = step
            root.locator(f'input[name="{field}"]:checked').focus()
            for key in keys:
                page.keyboard.press(key)
        else:
            field, value = step
            root.locator(f'fieldset[data-field="{field}"] label').filter(
                has=page.locator(f'input[value="{value}"]')
            ).click()
        shown.append(root.locator(".sh-result").get_attribute("data-pathway"))
    added = page.evaluate("history.length") - start
    assert added == max(0, results - 1), f"{added} entries added"
    # Back: one press per completed result (the page itself holds the first), then out.
    presses = 0
    while urlsplit(page.url).path.endswith("/" + CALC):
        page.go_back()
        presses += 1
        assert presses <= max(results, 1)
    assert page.url == site_url
    assert presses == max(results, 1)
    assert browser_page.console_errors == []


# --- 5. Print: two A4 pages at most -----------------------------------------------------------


def pdf_pages(pdf: bytes) -> list[int]:
    """Per page of a Chromium PDF, how many text-showing operators it draws."""
    starts = {int(m.group(1)): m.end() for m in re.finditer(rb"(?m)^(\d+) 0 obj\b", pdf)}

    def stream(number: int) -> bytes:
        at = starts[number]
        head = pdf[at : pdf.index(b"stream", at)]
        length = int(re.search(rb"/Length (\d+)", head).group(1))
        begin = pdf.index(b"stream", at) + len(b"stream")
        begin += 2 if pdf[begin : begin + 2] == b"\r\n" else 1
        data = pdf[begin : begin + length]
        return zlib.decompress(data) if b"/FlateDecode" in head else data

    pages = []
    for at in starts.values():
        head = pdf[at : pdf.index(b"endobj", at)].split(b"stream", 1)[0]
        if not re.search(rb"/Type\s*/Page\b(?!s)", head):
            continue
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", head).group(1)
        refs = [int(n) for n in re.findall(rb"(\d+) 0 R", contents)]
        pages.append(sum(len(re.findall(rb"\bT[jJ]\b", stream(n))) for n in refs))
    return pages


@pytest.mark.parametrize("pathway", LONGEST)
def test_print_fits_two_a4_pages(layout_pages, pathway):
    page = layout_pages("desktop").page
    answers = LONGEST[pathway]
    show_state(page, answers)
    expect(page.locator(".sh-result")).to_have_attribute("data-pathway", pathway)
    pages = pdf_pages(page.pdf(format="A4"))
    assert 1 <= len(pages) <= MAX_PRINT_PAGES, f"{len(pages)} pages"
    assert all(pages), f"a blank page: text operators per page {pages}"
    page.emulate_media(media="print")
    try:
        expect(page.locator(".sh-diagram")).to_be_hidden()
        expect(page.locator(".sh-path-diagram")).to_be_hidden()
        expect(page.locator(".sh-result .sh-title")).to_be_visible()
        # Every answer is printed, the unanswered choices are not.
        for field, value in answers.items():
            label = next(o["label"] for q in QUESTIONS if q["id"] == field for o in q["options"]
                         if o["value"] == value)  # fmt: skip
            expect(page.locator(f'fieldset[data-field="{field}"] label:visible')).to_have_text(
                label
            )
        result = spine_hemangioma.evaluate(answers)
        basis = page.locator(".sh-result .sh-basis:not(.sh-refnote)")
        expect(basis).to_be_visible()
        expect(basis).to_contain_text(f"version {result['version']}")
        expect(basis).to_contain_text(result["source_date"][:4])
    finally:
        page.emulate_media(media="null")  # not "screen": page.pdf() would print screen styles


# --- 6. The embed in a course page ---------------------------------------------------------

# A page of a third origin that sends its iframe on to the calculator: the
# calculator's referrer is then that third origin, while its parent is the host.
GO = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script>location.replace(new URLSearchParams(location.search).get("to"));</script>"""


def test_canvas_resize_message_goes_to_the_embedding_origin_only(  # noqa: PLR0917 (fixtures)
    browser_page,
    snippet,  # noqa: F811
    site_url,
    host,  # noqa: F811
    static_server,
    tmp_path,
):
    page = browser_page.page
    (tmp_path / "go.html").write_text(GO, encoding="utf-8")
    go = static_server(tmp_path) + "go.html"
    direct = frame_tag(snippet, site_url, "direct", "?mri=typical&symptoms=none")
    forwarded = (
        f'<iframe id="forwarded" src="{go}?to={site_url}{EMBED}%3Fmri%3Dtypical" width="600"'
        ' height="400"></iframe>'
    )
    page.goto(write_host(host, "canvas.html", direct + "\n" + forwarded))
    wait_frame_ready(page, "direct")
    wait_frame_ready(page, "forwarded")
    page.locator("#direct").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => hostMessages.some((m) => m.frame === 'direct' && m.data && m.data.subject)"
    )
    page.locator("#forwarded").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    messages = page.evaluate("hostMessages")
    canvas = [m for m in messages if m["data"] and "subject" in m["data"]]
    assert canvas, messages
    for m in canvas:
        assert (m["frame"], m["origin"]) == ("direct", origin(site_url))
        assert set(m["data"]) == {"subject", "height"}
        assert m["data"]["subject"] == "lti.frameResize"
        assert isinstance(m["data"]["height"], int)
        assert m["data"]["height"] > 0
    # The forwarded calculator posts to its referrer's origin, not to its parent.
    assert [m for m in messages if m["frame"] == "forwarded"] == []
    ours = [m for m in messages if m["frame"] == "direct" and m["data"].get("type")]
    assert {m["data"]["height"] for m in ours} == {m["data"]["height"] for m in canvas}


def test_citation_in_the_embed_opens_a_new_tab(framed, site_url):
    frame = frame_of(framed)
    case = next(c for c in CASES if c["expect"].get("status") == "complete")
    show_state(frame, case["answers"])
    links = frame.locator(".sh-result a")
    assert links.count() > 0
    for i in range(links.count()):
        expect(links.nth(i)).to_have_attribute("target", "_blank")
        expect(links.nth(i)).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    calc_url = frame.url
    with framed.page.context.expect_page() as opened:
        frame.locator(".sh-result a.sh-ref").first.click()
    new = opened.value
    new.wait_for_load_state()
    assert urlsplit(new.url).path.endswith("/references/")
    assert urlsplit(new.url).fragment.startswith("ref-")
    new.close()
    assert frame.url == calc_url
    expect(frame.locator("[data-spine-calc]")).to_have_attribute("data-ready", "true")


def test_embed_heading_and_disclaimer(framed):
    frame = frame_of(framed)
    reset(frame)
    title = frame.locator("h1")
    expect(title).to_have_text("Spine hemangioma pathway calculator")
    assert "¶" not in frame.locator("main").inner_text()
    expect(frame.locator(".headerlink")).to_have_count(0)
    # The full disclaimer, before any result, one click away.
    details = frame.locator("details.sh-embed-disclaimer")
    before = details.evaluate(
        "(d) => !!(d.compareDocumentPosition(document.querySelector('.sh-result'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert before
    details.locator("summary").click()
    first_words = " ".join(GUIDE.source.disclaimer.split()[:8])
    expect(details).to_contain_text(first_words)
    expect(details.get_by_text(first_words, exact=False)).to_be_visible()
    assert axe_violations(frame, "main") == []
    details.locator("summary").click()


def test_copy_box_in_view_inside_the_frame(framed):
    frame = frame_of(framed)
    show_state(frame, next(iter(WALKS.values())))
    frame.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new Error('no')); }"
    )
    frame.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    frame.locator(".sh-copy").click()
    area = frame.locator(".sh-copy-area")
    expect(area).to_be_focused()
    box = area.evaluate(
        "(a) => { const b = a.getBoundingClientRect(); return [b.top, b.bottom, innerHeight]; }"
    )
    assert 0 <= box[0] < box[2], box
    assert axe_violations(frame, "[data-spine-calc]") == []


# --- 7. The instructors' page ----------------------------------------------------------------

# The primary navigation's sections, each with the addresses it links to (its
# own, when a page is the section's index, and its pages').
NAV_SECTIONS = """() => Object.fromEntries(
  [...document.querySelectorAll("nav.md-nav--primary > ul > li.md-nav__item--section")]
    .map((li) => [li.querySelector(":scope > label, :scope > .md-nav__link").textContent.trim(),
    [...li.querySelectorAll(":scope > .md-nav__link a, :scope > nav > ul > li > a.md-nav__link")]
      .map((a) => a.href)]))"""


def test_embedding_page_is_for_instructors(browser_page, site_url):
    page = browser_page.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url[:-1])
    page.goto(site_url, wait_until="networkidle")
    sections = page.evaluate(NAV_SECTIONS)
    holder = [name for name, links in sections.items() if site_url + "embedding/" in links]
    assert holder == ["For instructors"], sections
    assert sections["For instructors"] == [site_url + "embedding/"]
    page.goto(site_url + "embedding/", wait_until="networkidle")
    # The snippet names the address this page is served from, not the built one.
    code = page.locator("pre code").first
    shown = code.inner_text().strip()
    assert f'src="{site_url}{EMBED}"' in shown
    assert f'src="{site_url}assets/calculator/embed-host.js"' in shown
    if site_url != PUBLISHED:
        assert PUBLISHED not in shown
    expect(page.locator("[data-sh-site-url]")).to_have_text(site_url)
    # Its copy button copies exactly that.
    page.evaluate("navigator.clipboard.writeText('')")
    page.locator("pre").first.hover()
    page.locator("pre").first.get_by_role("button", name="Copy to clipboard").click()
    assert page.evaluate("navigator.clipboard.readText()").strip() == shown
    assert browser_page.console_errors == []


# SITE_URL value, expected site_url() or the error's text
SITE_URLS = [
    ("https://guide.example.edu/spine", "https://guide.example.edu/spine/"),
    ("http://intranet.local:8080/", "http://intranet.local:8080/"),
    ("guide.example.edu/spine", "expected the guide's published address"),
    ("https://x.org/a b", "expected the guide's published address"),
    ('https://x.org/"onload=alert(1)', "expected the guide's published address"),
    ("https://x.org/?q=1", "expected the guide's published address"),
    ("javascript:alert(1)", "expected the guide's published address"),
]


@pytest.mark.parametrize(("value", "expected"), SITE_URLS, ids=[v for v, _ in SITE_URLS])
def test_site_url_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(calculator_page.SITE_URL_ENV, value)
    config = REPO_ROOT / "mkdocs.yml"
    if expected.startswith("http"):
        assert calculator_page.site_url(config) == expected
    else:
        with pytest.raises(GeneratorError, match="^\\$SITE_URL: " + re.escape(expected)):
            calculator_page.site_url(config)


def test_site_url_without_the_environment(monkeypatch):
    monkeypatch.delenv(calculator_page.SITE_URL_ENV, raising=False)
    from mkdocs.config import load_config  # noqa: PLC0415

    built = load_config(str(REPO_ROOT / "mkdocs.yml")).site_url
    assert calculator_page.site_url(REPO_ROOT / "mkdocs.yml") == built


def test_site_url_sets_canonical_links_sitemap_and_snippet(tmp_path, monkeypatch):
    """`SITE_URL=... make site`: mkdocs (canonical links, sitemap) and the
    snippet get the same address. The pages rendered as the build renders
    them, onto a copy of docs/, built by mkdocs into tmp_path."""
    address = "https://courses.example.edu/spine-guide/"
    monkeypatch.setenv(calculator_page.SITE_URL_ENV, address)
    docs = tmp_path / "docs"
    shutil.copytree(REPO_ROOT / "docs", docs, ignore=shutil.ignore_patterns("pyodide"))
    write_pages(render_pages(load_from(CONTENT_DIR), load_diagram()), docs)
    # mkdocs resolves the config's relative paths (the theme) next to it.
    for name in ("generator", "calculator"):
        (tmp_path / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"INHERIT: {REPO_ROOT / 'mkdocs.yml'}\ndocs_dir: {docs}\n", "utf-8")
    env = {**calculator_page.os.environ, calculator_page.SITE_URL_ENV: address}
    env.setdefault("SOURCE_DATE_EPOCH", "1765065600")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "-q",
            "-f",
            str(config),
            "-d",
            str(tmp_path / "site"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    site = tmp_path / "site"
    page = (site / "calculator" / "index.html").read_text("utf-8")
    assert f'<link rel="canonical" href="{address}calculator/">' in page
    assert f"<loc>{address}calculator/</loc>" in (site / "sitemap.xml").read_text("utf-8")
    embedding = (site / "embedding" / "index.html").read_text("utf-8")
    assert f"src=&quot;{address}embed/&quot;" in embedding
    assert "example.org" not in embedding


# --- One result everywhere (decision.md section 7) ----------------------------------------


@pytest.fixture(scope="module")
def pages_for_cli(layout_pages, framed) -> dict:
    return {"calculator": layout_pages("desktop").page, "embed": frame_of(framed)}


CLI_ANSWERS = [("case-" + c["name"], c["answers"]) for c in CASES] + [
    (f"path-{i}", a) for i, a in enumerate(PATH_ANSWERS)
]


@pytest.mark.parametrize("where", ["calculator", "embed"])
def test_page_equals_the_command_line(pages_for_cli, where):
    """Every reachable path and every public case: the page's data-* attributes
    equal the command line's result, and every answer stays in view, marked
    as the result used it."""
    page = pages_for_cli[where]
    root = page.locator("[data-spine-calc]")
    problems = []
    for name, answers in CLI_ANSWERS:
        show_state(page, answers)
        expected = cli(answers)
        shown = root.evaluate(SHOWN)
        if shown["data"] != expected_data(expected):
            problems.append((name, answers, shown["data"], expected_data(expected)))
        kept = {f: v["value"] for f, v in shown["fields"].items()}
        if kept != answers:
            problems.append((name, "answers kept", kept))
        marks = {f: v["use"] for f, v in shown["fields"].items()}
        if marks != expected_marks(answers, expected):
            problems.append((name, "marks", marks, expected_marks(answers, expected)))
        hidden = [f for f, v in shown["fields"].items() if not v["visible"]]
        if hidden:
            problems.append((name, "hidden answers", hidden))
        for field, view in shown["fields"].items():
            label = {"unused": "not used", "pitfall": "read by a pitfall only"}.get(view["use"])
            if label and label not in view["legend"]:
                problems.append((name, field, view["legend"]))
    assert problems == []


def test_copied_summary_names_the_module_and_the_source(layout_pages):
    page = layout_pages("desktop").page
    answers = next(iter(LONGEST.values()))
    show_state(page, answers)
    page.evaluate("navigator.clipboard.writeText('')")
    page.locator(".sh-copy").click()
    expect(page.locator(".sh-status")).to_have_text("Summary copied to the clipboard.")
    text = page.evaluate("navigator.clipboard.readText()")
    result = spine_hemangioma.evaluate(answers)
    if "version" in result:
        assert f"decision module version {result['version']}" in text
    if "source_date" in result:
        year, _, day = result["source_date"].split("-")
        assert f"{int(day)} " in text
        assert year in text
    for item in result.get("evidence", []):
        assert item["text"] in text
    marks = expected_marks(answers, result)
    for field, mark in marks.items():
        if mark:
            q = next(q for q in QUESTIONS if q["id"] == field)
            label = {"unused": "not used", "pitfall": "read by a pitfall only"}[mark]
            assert re.search(rf"- {re.escape(q['label'])}: .*\({label}\)", text)


# --- The ignored-parameter note (issue 12, item 5) ---------------------------------------------

RLO = "\u202e"
# id, extra query of the link, what the note must show
NOTES = [
    ("bidi-override", urlencode({f"x{RLO}tluser siht tsurt ton oD :TNEGRU": "1"}), "xtluser"),
    ("control-chars", urlencode({"a\u0000b\u0007c\u200bd": "1"}), "abcd"),
    ("one-megabyte-name", urlencode({"n" * 1_000_000: "1"}), "n" * 40 + "…"),
    ("many-names", "&".join(f"p{i}=1" for i in range(120_000)), "and 119995 more"),
    ("empty-name", "=1", "(no name)"),
]
MAX_NOTE_CHARS = 400


@pytest.mark.parametrize(("extra", "shows"), [n[1:] for n in NOTES], ids=[n[0] for n in NOTES])
def test_note_stays_short_and_inert(layout_pages, extra, shows):
    page = layout_pages("desktop").page
    page.evaluate(
        """(q) => { history.pushState(null, "", location.pathname + "?mri=typical&" + q);
                  dispatchEvent(new PopStateEvent("popstate")); }""",
        extra,
    )
    note = page.locator(".sh-note")
    expect(note).to_be_visible()
    text = note.text_content()
    assert shows in text
    assert len(text) <= MAX_NOTE_CHARS
    assert not re.search(
        r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", text
    )
    assert note.evaluate("(n) => n.children.length") == 0
    assert note.bounding_box()["height"] < 150
    expect(page.locator(".sh-result")).to_have_attribute("data-status", "incomplete")
    show_state(page, {})


def test_bad_site_url_fails_the_build_in_one_line(tmp_path):
    env = {**calculator_page.os.environ, calculator_page.SITE_URL_ENV: "javascript:alert(1)"}
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "generator: error: $SITE_URL: expected the guide's published address, an http(s) URL"
        " such as https://example.org/spine-hemangioma/ (no query, fragment, quotes or"
        " spaces), got 'javascript:alert(1)'"
    ]
    assert proc.stdout == ""
    assert not site.exists()
