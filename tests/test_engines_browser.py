"""The site in Firefox and WebKit (tests/engines.py), served and from file://
(the unzipped offline bundle, with each browser's default file policy): every
guide page, a footer link, search, the calculator for the public cases and one
case of every pathway of the tree (by link and by clicking), the failure
message when the wasm cannot load, and the embed on a second origin (result,
height messages, resize by the host script). No console error and no CSP
violation on any page or state, wherever the engine can tell (see engines.py).

Expected results come from CPython's spine_hemangioma.evaluate for the same
answers; the cases from the shared conformance table and from the tree.
"""

from __future__ import annotations

import functools
import html
import http.server
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from urllib.request import urlopen

import pytest
import spine_hemangioma
from cases import CASES as PUBLIC_CASES
from conftest import RUNTIME_FETCHED_ONCE, RUNTIME_FETCHES_JS, SITE_DIR, _QuietHandler
from engines import Driver, DriverError, missing, start
from spine_hemangioma.content import load

from generator.calculator_page import EMBED_PAGE
from generator.calculator_page import site_url as published_site_url
from generator.pages import render_pages

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT = load()
ALGORITHM = CONTENT.algorithm
NOTICE = CONTENT.guide.source.notice
PUBLISHED = published_site_url(REPO_ROOT / "mkdocs.yml")
ENGINES = ["firefox", "webkit", "webkit-console"]
MODES = ["served", "file"]
PAGES = [p for p in render_pages(CONTENT) if not p.startswith("includes/") and p != EMBED_PAGE]
# A start takes 3-8 s here; the page sets no bound of its own (loader.js: a slow
# link that keeps delivering is no failure), so this is a busy machine's margin.
READY_MS = 60_000
FAILURE_MS = 20_000  # a missing file is reported when it fails (loader.js), not after a bound
WASM = re.compile(r"pyodide\.asm\.wasm")
HEIGHT = "spine-hemangioma:height"
MIN_HEIGHT, MAX_HEIGHT = 200, 10_000  # embed-host.js's clamp
EMBED_DELAY_S = 1.0


# --- The cases: the public table, then one per pathway the tree can reach ---------------


# Which field each path id reads (a node, or a rule of a leaf).
READS = {n.id: n.field for n in ALGORITHM.nodes} | {
    r.id: r.field for leaf in ALGORITHM.leaves for r in leaf.rules
}


def on_path(answers: dict) -> dict:
    """The answers the form shows: the questions always asked and those of the path."""
    path = spine_hemangioma.evaluate(answers).get("path", [])
    fields = {*ALGORITHM.always_read, *(READS[i] for i in path if i in READS)}
    return {k: v for k, v in answers.items() if k in fields}


def pathway_cases() -> list[dict]:
    """For each pathway a leaf of the tree gives, the shortest answers that reach it."""
    questions = ALGORITHM.questions
    assert math.prod(len(q.options) for q in questions) <= 100_000
    best: dict[str, dict] = {}
    for combo in itertools.product(*[[o.value for o in q.options] for q in questions]):
        answers = dict(zip([q.id for q in questions], combo, strict=True))
        result = spine_hemangioma.evaluate(answers)
        if result["status"] != "complete":
            continue
        short = on_path(answers)
        if result["pathway"] not in best or len(short) < len(best[result["pathway"]]):
            best[result["pathway"]] = short
    assert set(best) == {leaf.pathway for leaf in ALGORITHM.leaves}, "a leaf cannot be reached"
    return [{"name": f"pathway {p}", "answers": a} for p, a in sorted(best.items())]


PUBLIC = PUBLIC_CASES
_COVERED = {c["expect"].get("pathway") for c in PUBLIC}
CASES = [
    *({"name": c["name"], "answers": c["answers"], "expect": c["expect"]} for c in PUBLIC),
    *(c for c in pathway_cases() if c["name"].removeprefix("pathway ") not in _COVERED),
]
CASE_IDS = [re.sub(r"\W+", "-", c["name"]).strip("-") for c in CASES]


# --- What a page shows --------------------------------------------------------------------

RESULT = """(() => {
  const r = document.querySelector("[data-spine-calc] .sh-result");
  const title = r.querySelector(".sh-title");
  return {status: r.dataset.status, pathway: r.dataset.pathway, urgency: r.dataset.urgency,
          title: title ? title.textContent : null,
          steps: [...r.querySelectorAll("section.sh-part")]
            .filter((s) => s.querySelector("h3").textContent === "Steps")
            .map((s) => s.querySelectorAll("li").length)[0] || 0};
})()"""
READY = "!!document.querySelector('[data-spine-calc][data-ready=true]')"

# A page has finished loading once mkdocs-material has read the search index
# (its results line then shows the config's "Type to start searching"; from
# file:// the index is a script, search_index.js, and the line keeps
# "Initializing search" until the search is used) and, on the calculator page,
# once the calculator has its runtime or has given up. A test waits for that
# before it leaves a page, as a reader who reads it does: leaving earlier cuts
# off a read the page has under way, and the engine logs that as an error of
# the page being left, which no reader sees (found by looping these tests;
# the pages work the same either way):
# - WebKit: mkdocs-material fetches the index as a Blob (XHR), then reads it
#   with blob.text(); in a document being unloaded that read fails,
#   "NotReadableError: The I/O read operation failed", thrown from the
#   bundle's RxJS (5 of 120 leaves right after the load event here: 3 of 60
#   with the service worker, 2 of 60 without it);
# - Firefox: the service worker answers the calculator's Pyodide files from
#   its cache, and Firefox copies each body into the page's request; a copy
#   cut off by the navigation is logged as "A ServiceWorker intercepted the
#   request and encountered an unexpected error" (6 of 10 controlled
#   calculator pages left 0.3 s after their load event; 0 of 10 left ready);
# - WebKit: a page left while it fetches sw.js (the registration, or on a later
#   page its update check) logs "Cannot load sw.js due to access control
#   checks"; served pages say in <html data-service-worker> when that is done
#   (generator/sw/register.js).
SETTLED = """(() => {
  const meta = document.querySelector(".md-search-result__meta");
  const config = JSON.parse(document.getElementById("__config").textContent);
  const indexRead = location.protocol === "file:"
    || meta.textContent.trim() === config.translations["search.result.placeholder"];
  const calc = document.querySelector("[data-spine-calc]");
  const status = calc && calc.querySelector(".sh-result").dataset.status;
  const worker = document.documentElement.dataset.serviceWorker;
  const swDone = location.protocol === "file:"
    || ["registered", "failed", "skipped"].includes(worker);
  return indexRead && swDone && (!calc || calc.dataset.ready === "true" || status === "failed");
})()"""
STATE = """(() => {
  const root = document.querySelector("[data-spine-calc]");
  return {
    checked: Object.fromEntries([...root.querySelectorAll("input:checked")]
      .filter((i) => i.checkVisibility()).map((i) => [i.name, i.value])),
    visible: [...root.querySelectorAll("fieldset[data-field]")]
      .filter((f) => f.checkVisibility()).map((f) => f.dataset.field),
  };
})()"""


def expected(answers: dict) -> dict:
    result = spine_hemangioma.evaluate(answers)
    complete = result["status"] == "complete"
    return {
        "status": result["status"],
        "pathway": result.get("pathway") or "",
        "urgency": result.get("urgency") or "",
        "title": f"Pathway: {result['title']}" if complete else None,
        "steps": len(result["steps"]) if complete else 0,
    }


def check_result(driver: Driver, case: dict, answers: dict, frame: str | None = None) -> None:
    """The page shows what CPython gives for the answers it holds, and what the table says."""
    shown = driver.eval(RESULT, frame)
    assert shown == expected(answers)
    for key in ("status", "pathway", "urgency"):
        if key in case.get("expect", {}):
            assert shown[key] == case["expect"][key], key


def assert_clean(driver: Driver, where: str, allowed: re.Pattern | None = None) -> None:
    """No console error or CSP violation since the last check (if the engine can tell)."""
    errors = driver.errors()
    if errors is None:
        return
    if allowed:
        errors = [e for e in errors if not allowed.search(e)]
    assert errors == [], f"{driver.name}, {where}"


# --- Engines, servers, URLs ------------------------------------------------------------------


@pytest.fixture(scope="session")
def display_env() -> Iterator[dict[str, str]]:
    """An X display (Xvfb) for the WebKit engines; the environment that names it."""
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.fail("Xvfb not found: run `make engines`")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=[write_end],
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        display = pipe.readline().strip()
    if not display:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield {**os.environ, "DISPLAY": f":{display}"}
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session", params=ENGINES)
def engine(request, display_env) -> Iterator[Driver]:
    reason = missing(request.param)
    if reason:
        pytest.fail(reason)
    driver = start(request.param, display_env)
    yield driver
    driver.close()


@pytest.fixture
def driver(engine) -> Driver:
    """The engine on a fresh page, its console read up to now."""
    engine.new_page()
    engine.errors()
    return engine


@pytest.fixture(scope="session")
def bases(site_url, offline_bundle) -> dict[str, str]:
    return {"served": site_url, "file": offline_bundle.resolve().as_uri() + "/"}


def page_url(mode: str, base: str, page: str) -> str:
    """The URL of a docs/ page: directory URLs when served, .html files offline."""
    stem = page.removesuffix(".md")
    if mode == "file":
        return f"{base}{stem}.html"
    if stem == "index":
        return base
    return base + (stem.removesuffix("index") if stem.endswith("/index") else f"{stem}/")


def calculator_url(mode: str, base: str, answers: dict | None = None) -> str:
    url = page_url(mode, base, "calculator/index.md")
    return f"{url}?{urlencode(answers)}" if answers else url


# What the calculator shows while it is not ready: its status line, and how
# much of the runtime Resource Timing saw arrive (a hang, or a slow machine).
NOT_READY = """(() => {
  const root = document.querySelector("[data-spine-calc]");
  const status = root && root.querySelector(".sh-status");
  const files = performance.getEntriesByType("resource")
    .filter((e) => /\\/pyodide\\//.test(e.name))
    .map((e) => e.name.split("/").pop() + " " + Math.round(e.responseEnd) + " ms");
  return {status: status ? status.textContent : null, sw: !!navigator.serviceWorker?.controller,
          files: files};
})()"""


def open_calculator(driver: Driver, url: str, frame: str | None = None) -> None:
    if frame is None:
        driver.goto(url)
    try:
        driver.wait(READY, frame, timeout_ms=READY_MS)
    except DriverError as e:
        raise DriverError(f"{e}; the calculator shows {driver.eval(NOT_READY, frame)}") from None
    if frame is None:
        driver.wait(SETTLED)  # the search index too (see SETTLED)


# --- Guide pages, navigation, search ------------------------------------------------------

PAGE_SHOWN = f"""(() => {{
  const h1 = document.querySelector("article h1");
  const notice = document.querySelector(".sh-notice .admonition-title");
  return !!h1 && !!notice && notice.textContent === {json.dumps(NOTICE)};
}})()"""


@pytest.mark.parametrize("mode", MODES)
def test_every_guide_page_loads_cleanly(driver, bases, mode):
    for page in PAGES:
        url = page_url(mode, bases[mode], page)
        assert driver.goto(url).split("#")[0] == url
        driver.wait(PAGE_SHOWN)
        driver.wait(SETTLED, timeout_ms=READY_MS)
        assert_clean(driver, page)


@pytest.mark.parametrize("mode", MODES)
def test_footer_link_leads_to_the_next_page(driver, bases, mode):
    driver.goto(page_url(mode, bases[mode], "index.md"))
    driver.wait(SETTLED)
    driver.click("a.md-footer__link--next")
    second = page_url(mode, bases[mode], PAGES[1])
    driver.wait(f"location.href === {json.dumps(second)}")
    driver.wait(PAGE_SHOWN)
    driver.wait(SETTLED)
    assert_clean(driver, "footer link")


@pytest.mark.parametrize("mode", MODES)
def test_search_finds_a_term(driver, bases, mode):
    driver.goto(page_url(mode, bases[mode], "index.md"))
    driver.type(".md-search__input", "vertebroplasty")
    driver.wait(
        "[...document.querySelectorAll('.md-search-result__item')]"
        ".some((item) => /vertebroplasty/i.test(item.textContent))",
        timeout_ms=20_000,
    )
    assert re.fullmatch(
        r"\d+ matching documents?",
        driver.eval("document.querySelector('.md-search-result__meta').textContent.trim()"),
    )
    assert_clean(driver, "search")


# --- The calculator ------------------------------------------------------------------------


def test_each_runtime_file_is_downloaded_once(driver, bases):
    """One download per file in this engine too. (A `<link rel=preload
    as=fetch>` for each, which Chromium and Firefox hand to loader.js's
    fetch(), made WebKit download every file twice: README, "Performance".)"""
    open_calculator(driver, calculator_url("served", bases["served"]))
    fetched = driver.eval(RUNTIME_FETCHES_JS)
    assert fetched == sorted(set(fetched)), "downloaded twice"
    assert len(fetched) == RUNTIME_FETCHED_ONCE, fetched
    assert_clean(driver, "calculator")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("mode", MODES)
def test_calculator_link_gives_the_case(driver, bases, mode, case):
    if driver.name == "webkit-console" and case is not CASES[0]:
        # Each link starts Python anew (seconds in WebKit): this console sees one
        # link per mode, and every result state in test_calculator_clicks_give_the_case.
        pytest.skip("webkit-console: one link per mode; the states by clicking")
    # The page keeps every answer of a link, read or not.
    answers = case["answers"]
    open_calculator(driver, calculator_url(mode, bases[mode], answers))
    check_result(driver, case, answers)
    assert driver.eval(STATE)["checked"] == answers
    assert_clean(driver, case["name"])


def click_answers(driver: Driver, answers: dict, frame: str | None = None) -> dict:
    """Answer the visible questions one by one, in the form's order, by their labels."""
    clicked: dict[str, str] = {}
    for _ in range(len(ALGORITHM.questions) + 1):
        state = driver.eval(STATE, frame)
        pending = [f for f in state["visible"] if f in answers and f not in state["checked"]]
        if not pending:
            return clicked
        field, value = pending[0], answers[pending[0]]
        driver.click(f'fieldset[data-field="{field}"] label:has(input[value="{value}"])', frame)
        checked = f'input[name="{field}"][value="{value}"]:checked'
        driver.wait(f"!!document.querySelector({json.dumps(checked)})", frame)
        clicked[field] = value
    raise AssertionError(f"questions still unanswered: {pending}")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("mode", MODES)
def test_calculator_clicks_give_the_case(engine, bases, mode, case):
    """One page per engine and mode for every case (Python starts once), reset in between."""
    url = calculator_url(mode, bases[mode])
    if not engine.eval(f"location.href.startsWith({json.dumps(url)}) && {READY}"):
        engine.new_page()
        engine.errors()
        open_calculator(engine, url)
    engine.click(".sh-reset")
    engine.wait("document.querySelectorAll('[data-spine-calc] input:checked').length === 0")
    clicked = click_answers(engine, case["answers"])
    assert clicked == on_path(case["answers"])
    check_result(engine, case, clicked)
    assert_clean(engine, case["name"])


def copy_without_wasm(source: Path, dest: Path) -> Path:
    """A copy of a built tree without the wasm runtime (a 404, a script that fails)."""
    shutil.copytree(source, dest, ignore=lambda _d, names: [n for n in names if WASM.match(n)])
    assert not [p for p in dest.rglob("*") if WASM.match(p.name)]
    return dest


@pytest.fixture(scope="session")
def without_wasm(tmp_path_factory, static_server, offline_bundle) -> dict[str, str]:
    root = tmp_path_factory.mktemp("no-wasm")
    served = copy_without_wasm(SITE_DIR, root / "site")
    bundle = copy_without_wasm(offline_bundle, root / offline_bundle.name)
    return {"served": static_server(served), "file": bundle.resolve().as_uri() + "/"}


@pytest.mark.parametrize("mode", MODES)
def test_calculator_without_wasm_says_it_could_not_start(driver, without_wasm, mode):
    driver.goto(calculator_url(mode, without_wasm[mode]))
    failed = "document.querySelector('.sh-result').dataset.status === 'failed'"
    driver.wait(failed, timeout_ms=FAILURE_MS)
    driver.wait(SETTLED)
    text = driver.eval("document.querySelector('.sh-result').textContent")
    assert "Could not download the calculator" in text
    assert WASM.search(text), text
    assert driver.eval("document.querySelector('[data-spine-calc]').dataset.ready") is None
    href = driver.eval("document.querySelector('.sh-result a[href*=algorithm]').href")
    assert href == page_url(mode, without_wasm[mode], "algorithm.md")
    # Only the missing file itself may be reported.
    assert_clean(driver, "without wasm", allowed=WASM)


# --- The embed on a second origin ---------------------------------------------------------

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A course page</title>
<link rel="icon" href="data:,">
<script>
window.hostMessages = [];
addEventListener("message", (e) => {{
  const frame = [...document.querySelectorAll("iframe")].find((f) => f.contentWindow === e.source);
  hostMessages.push({{origin: e.origin, data: e.data, frame: frame ? frame.id : null}});
}});
</script></head>
<body><h1>Week 3: spine lesions</h1>
{body}
</body></html>
"""
HEIGHT_APPLIED = """(() => {
  const mine = hostMessages.filter((m) => m.frame === "calc" && m.data && m.data.type);
  if (!mine.length) return false;
  const h = Math.max(200, Math.min(10000, Math.round(mine[mine.length - 1].data.height)));
  return document.getElementById("calc").style.height === h + "px";
})()"""
CONTENT_HEIGHT = "Math.ceil(document.documentElement.getBoundingClientRect().height)"


@functools.cache
def snippet(site_url: str) -> str:
    """The snippet as the embedding page shows it, pointing at the local site."""
    with urlopen(site_url + "embedding/") as response:
        block = re.search(r"<pre[^>]*>(.*?)</pre>", response.read().decode("utf-8"), re.S)
    assert block, "no code block on the embedding page"
    text = html.unescape(re.sub(r"<[^>]+>", "", block.group(1))).strip()
    assert PUBLISHED in text
    return text.replace(PUBLISHED, site_url)


class _SlowEmbed(_QuietHandler):
    """The site, its embed page a second late: the host script starts while the
    iframe still shows its initial about:blank, as on a slow network."""

    def do_GET(self):
        if urlsplit(self.path).path.rstrip("/").endswith("/embed"):
            time.sleep(EMBED_DELAY_S)
        super().do_GET()


@pytest.fixture(scope="module")
def slow_site_url() -> Iterator[str]:
    handler = functools.partial(_SlowEmbed, directory=str(SITE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def host(static_server, tmp_path_factory, slow_site_url) -> str:
    """A course page on a second origin with the snippet's iframe (a pre-filled case)
    and host script; its URL."""
    site_url = slow_site_url
    root = tmp_path_factory.mktemp("course")
    code = snippet(site_url)
    frame = re.search(r"<iframe .*?</iframe>", code, re.S).group(0)
    query = urlencode(EMBED_CASE["answers"])
    frame = frame.replace(f'src="{site_url}embed/"', f'src="{site_url}embed/?{query}"')
    frame = frame.replace("<iframe ", '<iframe id="calc" ').replace(' loading="lazy"', "")
    script = re.search(r"<script .*?</script>", code, re.S).group(0)
    (root / "course.html").write_text(HOST_PAGE.format(body=f"{frame}\n{script}"), encoding="utf-8")
    return static_server(root) + "course.html"


EMBED_CASE = next(c for c in CASES if c.get("expect", {}).get("status") == "complete")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The frame's last posted height and its box, read in one go: where the engine cannot
# reach into the frame the calculator may still be loading, and a height posted
# between two reads made them disagree (WebKit, 748 against 724).
LAST_HEIGHT_AND_BOX = """[
  hostMessages.filter((m) => m.frame === 'calc' && m.data.type).pop().data.height,
  document.getElementById('calc').getBoundingClientRect().height,
]"""


def settled_height(driver: Driver, frame: str | None) -> tuple[int, float]:
    """The frame's last posted height once the host applied it (and, where the engine
    reaches into frames, once it is the content's height), with the frame's box then."""
    for _ in range(50):
        driver.wait(HEIGHT_APPLIED)
        last, box = driver.eval(LAST_HEIGHT_AND_BOX)
        if frame is None or last == driver.eval(CONTENT_HEIGHT, frame):
            return last, box
        time.sleep(0.1)
    raise AssertionError("the frame's height never settled")


def test_embed_resizes_on_a_second_origin(driver, slow_site_url, host):
    site_url = slow_site_url
    driver.goto(host)
    frame = "calc" if driver.frames else None
    if frame:
        open_calculator(driver, host, frame)
        check_result(driver, EMBED_CASE, EMBED_CASE["answers"], frame)
    height, box = settled_height(driver, frame)
    messages = driver.eval("hostMessages")
    assert messages, "no message reached the host"
    for m in messages:
        assert (m["frame"], m["origin"]) == ("calc", origin(site_url))
        if "subject" in m["data"]:  # the same height for LMSs that resize frames (Canvas)
            assert set(m["data"]) == {"subject", "height"}
            assert m["data"]["subject"] == "lti.frameResize"
            continue
        assert set(m["data"]) == {"type", "version", "height"}
        assert (m["data"]["type"], m["data"]["version"]) == (HEIGHT, 1)
    assert box == max(MIN_HEIGHT, min(MAX_HEIGHT, height))
    if frame:
        # Back to the empty form: shorter, and the host follows.
        driver.click(".sh-reset", frame)
        driver.wait("document.querySelector('.sh-result').dataset.status === 'incomplete'", frame)
        after, _ = settled_height(driver, frame)
        assert after < height
    assert_clean(driver, "embed")


# --- What the fixes rest on -------------------------------------------------------------


@pytest.mark.parametrize("tree", ["site", "offline"])
def test_no_page_asks_for_a_prefetch(offline_bundle, tree):
    """Firefox prefetches rel=prev/next links, which the pages' policies refuse."""
    root = SITE_DIR if tree == "site" else offline_bundle
    pages = sorted(root.rglob("*.html"))
    assert len(pages) >= len(PAGES)
    prefetching = [
        p.relative_to(root).as_posix()
        for p in pages
        if re.search(r'<link rel="?(?:prev|next|prefetch)\b', p.read_text(encoding="utf-8"))
    ]
    assert prefetching == []
