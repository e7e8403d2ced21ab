"""The embed page of the built site/ in Chromium, inside a course page served from
a second local origin, built from the snippet the "Embed the calculator" page
gives: conformance cases answered in the iframe (pre-filled and by clicking),
plain and sandboxed; the height message and the resize by embed-host.js;
messages from elsewhere ignored; the page's own options; no request outside
the local servers.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import spine_hemangioma
from conftest import _LOCAL_ORIGINS, PageProbe, _new_probe
from playwright.sync_api import expect
from spine_hemangioma.content import load
from test_calculator_browser import CASES, READY_MS, check_case, click_answers, reset

from generator.calculator_page import site_url as published_site_url

REPO_ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = published_site_url(REPO_ROOT / "mkdocs.yml")
NOTICE = load().guide.source.notice
EMBED = "embed/"
MESSAGE_TYPE = "spine-hemangioma:height"
MIN_HEIGHT, MAX_HEIGHT = 200, 10_000  # embed-host.js's clamp
# How a course page may frame the calculator.
SANDBOXES = {"plain": None, "sandboxed": "allow-scripts allow-same-origin"}

# The host records every message it gets, and from which of its iframes.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A course page</title>
<link rel="icon" href="data:,">
<script>
window.hostMessages = [];
window.addEventListener("message", function (e) {{
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe"));
  var frame = frames.filter(function (f) {{ return f.contentWindow === e.source; }})[0];
  window.hostMessages.push({{origin: e.origin, data: e.data, frame: frame ? frame.id : null}});
}});
</script></head>
<body><h1>Week 3: spine lesions</h1>
{body}
</body></html>
"""
# A page that posts a fake height message to its parent, to any origin.
# Posts a height at once and again when asked, as the embed does (embed.js).
POSTER = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
</head><body><script>
function post() {
  parent.postMessage({type: "spine-hemangioma:height", version: 1,
    height: Number(new URLSearchParams(location.search).get("h"))}, "*");
}
addEventListener("message", (e) => {
  if (e.data && e.data.type === "spine-hemangioma:request-height") post();
});
post();
</script></body></html>
"""

LOAD_FRAME = "(id) => { const f = document.getElementById(id); f.src = f.dataset.laterSrc; }"
HEIGHT_APPLIED = """(id) => {
  const frame = document.getElementById(id);
  const mine = hostMessages.filter((m) => m.frame === id && m.data && m.data.type);
  if (!mine.length) return false;
  const h = Math.max(200, Math.min(10000, Math.round(mine[mine.length - 1].data.height)));
  return frame.style.height === h + "px";
}"""


def snippet_from(embedding_html: str) -> str:
    """The first code block of the embedding page, as text."""
    block = re.search(r"<pre[^>]*>(.*?)</pre>", embedding_html, re.S)
    assert block, "no code block on the embedding page"
    return html.unescape(re.sub(r"<[^>]+>", "", block.group(1))).strip()


@pytest.fixture(scope="module")
def snippet(site_url) -> str:
    """The snippet as the embedding page shows it."""
    from urllib.request import urlopen  # noqa: PLC0415 (the local server only)

    with urlopen(site_url + "embedding/") as response:
        return snippet_from(response.read().decode("utf-8"))


def frame_tag(snippet: str, site_url: str, frame_id: str, query: str = "", sandbox=None) -> str:
    """The snippet's iframe, pointing at the local site, with an id (and a sandbox)."""
    tag = re.search(r"<iframe .*?</iframe>", snippet).group(0)
    tag = tag.replace(f'src="{PUBLISHED}{EMBED}"', f'src="{site_url}{EMBED}{query}"')
    assert site_url in tag, tag
    attrs = f'id="{frame_id}"' + (f' sandbox="{sandbox}"' if sandbox else "")
    # Stacked frames below the fold would never load if lazy.
    return tag.replace("<iframe ", f"<iframe {attrs} ").replace(' loading="lazy"', "")


def host_script(snippet: str, site_url: str) -> str:
    tag = re.search(r"<script .*?</script>", snippet).group(0)
    return tag.replace(PUBLISHED, site_url)


@pytest.fixture(scope="module")
def host(static_server, tmp_path_factory) -> tuple[Path, str]:
    """A second origin for the course pages: its folder and base URL."""
    root = tmp_path_factory.mktemp("host")
    (root / "blank.html").write_text(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">', encoding="utf-8"
    )
    return root, static_server(root)


@pytest.fixture(scope="module")
def third(static_server, tmp_path_factory) -> str:
    """A third origin that posts fake height messages."""
    root = tmp_path_factory.mktemp("third")
    (root / "poster.html").write_text(POSTER, encoding="utf-8")
    return static_server(root)


def write_host(host: tuple[Path, str], name: str, body: str) -> str:
    root, url = host
    (root / name).write_text(HOST_PAGE.format(body=body), encoding="utf-8")
    return url + name


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def assert_local(probe: PageProbe, *bases: str) -> None:
    assert probe.outside_requests == []
    assert [u for u in probe.requests if not u.startswith(bases)] == []


def case_query(case: dict) -> str:
    return "?" + urlencode(case["answers"])


def wait_frame_ready(page, frame_id: str):
    """The Frame of iframe #frame_id once its calculator is ready."""
    expect(page.frame_locator(f"#{frame_id}").locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    return page.locator(f"#{frame_id}").element_handle().content_frame()


# --- Conformance cases in the iframe ---------------------------------------------------


@pytest.fixture(scope="module")
def prefilled_hosts(chromium_browser, snippet, site_url, host) -> Iterator[Callable]:
    """prefilled_hosts(sandbox) -> a course page with one iframe per conformance
    case, pre-filled through its src; loaded once per sandbox mode. The iframes
    get their src one after the other: seven Pythons starting at once on a busy
    machine would be a test of the machine."""
    loaded: dict[str, PageProbe] = {}
    contexts = []

    def get(mode: str) -> PageProbe:
        if mode not in loaded:
            context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
            contexts.append(context)
            frames = "\n".join(
                frame_tag(snippet, site_url, f"case{i}", case_query(c), SANDBOXES[mode]).replace(
                    " src=", " data-later-src="
                )
                for i, c in enumerate(CASES)
            )
            body = f"{frames}\n{host_script(snippet, site_url)}"
            probe.page.goto(write_host(host, f"prefilled-{mode}.html", body))
            for i in range(len(CASES)):
                probe.page.evaluate(LOAD_FRAME, f"case{i}")
                wait_frame_ready(probe.page, f"case{i}")
            loaded[mode] = probe
        return loaded[mode]

    yield get
    for context in contexts:
        context.close()
    for probe in loaded.values():
        assert_local(probe, site_url, host[1])
        assert probe.console_errors == []


@pytest.mark.parametrize("mode", SANDBOXES)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_prefilled_case_in_the_iframe(prefilled_hosts, mode, index):
    case = CASES[index]
    probe = prefilled_hosts(mode)
    frame = wait_frame_ready(probe.page, f"case{index}")
    check_case(frame, case, case["answers"])  # every answer kept, read or not
    assert probe.console_errors == []


CONTENT_HEIGHT = "Math.ceil(document.documentElement.getBoundingClientRect().height)"


def settled(page, frame, frame_id: str, timeout_s: float = 10) -> tuple[list[dict], int]:
    """The frame's messages once the last one gives its content's height and the
    host has applied it."""
    # Chromium holds back rendering, and so ResizeObserver, in cross-origin
    # frames out of view; a reader would scroll to it too.
    page.locator(f"#{frame_id}").scroll_into_view_if_needed()
    deadline = time.monotonic() + timeout_s
    while True:
        page.wait_for_function(HEIGHT_APPLIED, arg=frame_id)
        messages = [m for m in page.evaluate("hostMessages") if m["frame"] == frame_id]
        content_height = frame.evaluate(CONTENT_HEIGHT)
        # Ours only: Canvas's resize message goes with each (tests/test_calculator_ux.py).
        messages = [m for m in messages if m["data"].get("type")]
        if messages[-1]["data"]["height"] == content_height:
            return messages, content_height
        if time.monotonic() > deadline:
            heights = [m["data"]["height"] for m in messages]
            raise AssertionError(f"{frame_id}: heights {heights} posted, content {content_height}")
        page.wait_for_timeout(100)


@pytest.mark.parametrize("mode", SANDBOXES)
def test_height_message_resizes_the_iframe(prefilled_hosts, site_url, mode):
    probe = prefilled_hosts(mode)
    page = probe.page
    for index in range(len(CASES)):
        frame_id = f"case{index}"
        frame = wait_frame_ready(page, frame_id)
        messages, content_height = settled(page, frame, frame_id)
        assert messages
        for m in messages:
            assert m["origin"] == origin(site_url)
            assert set(m["data"]) == {"type", "version", "height"}, m["data"]
            assert (m["data"]["type"], m["data"]["version"]) == (MESSAGE_TYPE, 1)
            assert isinstance(m["data"]["height"], int)
            assert m["data"]["height"] > 0
        # The iframe is as tall as its content, and shows it all.
        box = page.locator(f"#{frame_id}").bounding_box()
        assert box["height"] == max(MIN_HEIGHT, min(MAX_HEIGHT, content_height))
        assert frame.evaluate("document.documentElement.scrollHeight <= innerHeight")


REQUEST = {"type": "spine-hemangioma:request-height", "version": 1}


@pytest.mark.parametrize(
    ("message", "answered"),
    [
        (REQUEST, True),
        ({**REQUEST, "version": 2}, False),
        ({"type": "spine-hemangioma:reset"}, False),
        ("spine-hemangioma:request-height", False),
    ],
    ids=["request", "other-version", "other-command", "not-an-object"],
)
def test_embed_answers_only_a_height_request(prefilled_hosts, site_url, message, answered):
    """The embed answers the host's height request, with its height, and nothing else."""
    page = prefilled_hosts("plain").page
    frame = wait_frame_ready(page, "case0")
    settled(page, frame, "case0")
    before = page.evaluate("hostMessages.length")
    page.evaluate(
        "([msg, to]) => document.getElementById('case0').contentWindow.postMessage(msg, to)",
        [message, origin(site_url)],
    )
    page.wait_for_timeout(500)
    new = page.evaluate("hostMessages")[before:]
    # With Canvas's resize message (no type) beside ours.
    assert [m["data"].get("type") for m in new if m["frame"] == "case0"] == (
        [MESSAGE_TYPE, None] if answered else []
    )


@pytest.fixture(scope="module")
def clicking_hosts(chromium_browser, snippet, site_url, host) -> Iterator[Callable]:
    """clicking_hosts(sandbox) -> a course page with one empty calculator iframe."""
    loaded: dict[str, PageProbe] = {}
    contexts = []

    def get(mode: str) -> PageProbe:
        if mode not in loaded:
            context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
            contexts.append(context)
            for url in (site_url, host[1]):
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin(url))
            body = frame_tag(snippet, site_url, "calc", "", SANDBOXES[mode])
            body += "\n" + host_script(snippet, site_url)
            probe.page.goto(write_host(host, f"clicking-{mode}.html", body))
            wait_frame_ready(probe.page, "calc")
            loaded[mode] = probe
        return loaded[mode]

    yield get
    for context in contexts:
        context.close()
    for probe in loaded.values():
        assert_local(probe, site_url, host[1])
        assert probe.console_errors == []


@pytest.mark.parametrize("mode", SANDBOXES)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_case_answered_by_clicking_in_the_iframe(clicking_hosts, mode, index):
    case = CASES[index]
    page = clicking_hosts(mode).page
    frame = wait_frame_ready(page, "calc")
    reset(frame)
    page.wait_for_function(HEIGHT_APPLIED, arg="calc")
    before = page.locator("#calc").bounding_box()["height"]
    clicked = click_answers(frame, case["answers"])
    check_case(frame, case, clicked)
    # The content changed height: the host heard of it and followed.
    _, content_height = settled(page, frame, "calc")
    after = page.locator("#calc").bounding_box()["height"]
    assert after == max(MIN_HEIGHT, content_height)
    if case["expect"]["status"] == "complete":
        assert after > before, "a complete result is taller than the empty form"


@pytest.mark.parametrize("mode", SANDBOXES)
def test_copy_summary_from_the_iframe(clicking_hosts, mode):
    """The snippet's iframe may write to the clipboard: the summary gets there."""
    page = clicking_hosts(mode).page
    frame = wait_frame_ready(page, "calc")
    reset(frame)
    case = next(c for c in CASES if c["expect"].get("pathway") == "embolization-laminectomy")
    click_answers(frame, case["answers"])
    page.evaluate("navigator.clipboard.writeText('')")
    frame.locator(".sh-copy").click()
    expect(frame.locator(".sh-status")).to_have_text("Summary copied to the clipboard.")
    expect(frame.locator(".sh-copy-area")).to_have_count(0)
    text = page.evaluate("navigator.clipboard.readText()")
    title = spine_hemangioma.evaluate(case["answers"])["title"]
    assert f"Pathway: {title} (urgency: urgent)" in text
    assert f"Link: {frame.url}" in text


# --- Messages that must be ignored --------------------------------------------------------


def test_host_ignores_messages_from_elsewhere(browser_page, snippet, site_url, host, third):
    """Fake heights from a third origin, from an iframe that is not the calculator
    (same origin as the calculator too), from a marked iframe whose document is
    no longer from its src's origin, and from the host itself change nothing;
    the same message from a marked iframe of the right origin is applied."""
    page = browser_page.page
    poster_at_site = site_url + "poster-for-test.html"
    page.route(
        poster_at_site + "*",
        lambda route: route.fulfill(status=200, content_type="text/html", body=POSTER),
    )
    body = "\n".join(
        [
            frame_tag(snippet, site_url, "calc", "?mri=typical&symptoms=none"),
            # Not the calculator's iframe, from a third origin and from the site's own.
            f'<iframe id="other" src="{third}poster.html?h=5555"></iframe>',
            f'<iframe id="same-origin" src="{poster_at_site}?h=7777"></iframe>',
            # Marked, but its document will come from another origin than its src.
            f'<iframe id="spoof" data-spine-hemangioma src="{host[1]}blank.html"></iframe>',
            # Control: marked, from the origin of its src: the message is applied.
            f'<iframe id="honest" data-spine-hemangioma src="{third}poster.html?h=4444"></iframe>',
            host_script(snippet, site_url),
        ]
    )
    page.goto(write_host(host, "foreign.html", body))
    wait_frame_ready(page, "calc")
    page.wait_for_function(HEIGHT_APPLIED, arg="calc")
    expect(page.locator("#spoof")).to_have_attribute("src", f"{host[1]}blank.html")
    page.evaluate(
        """(url) => {
          document.getElementById("spoof").contentWindow.location.href = url;
          window.postMessage({type: "spine-hemangioma:height", version: 1, height: 6666}, "*");
        }""",
        f"{third}poster.html?h=8888",
    )
    page.wait_for_function(
        "() => [4444, 5555, 6666, 7777, 8888].every("
        "(h) => hostMessages.some((m) => m.data && m.data.height === h))"
    )
    # The control's height is applied once the host script listens (it asks
    # every marked iframe again when it starts).
    page.wait_for_function("() => document.getElementById('honest').style.height === '4444px'")
    fakes = {m["data"]["height"]: m for m in page.evaluate("hostMessages")}
    assert (fakes[8888]["frame"], fakes[8888]["origin"]) == ("spoof", origin(third))
    assert (fakes[7777]["frame"], fakes[7777]["origin"]) == ("same-origin", origin(site_url))
    heights = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('iframe')]"
        ".map((f) => [f.id, f.style.height]))"
    )
    calc_height = heights.pop("calc")
    assert calc_height not in {"4444px", "5555px", "6666px", "7777px", "8888px"}
    assert page.evaluate(HEIGHT_APPLIED, "calc"), "the calculator's own height was overridden"
    assert heights == {"other": "", "same-origin": "", "spoof": "", "honest": "4444px"}
    assert_local(browser_page, site_url, host[1], third)
    assert browser_page.console_errors == []


# --- The embed page itself ------------------------------------------------------------------


def test_embed_page_stands_alone(browser_page, site_url):
    page = browser_page.page
    page.goto(f"{site_url}{EMBED}?mri=typical&symptoms=none")
    calc = page.locator("[data-spine-calc]")
    expect(calc).to_have_attribute("data-ready", "true", timeout=READY_MS)
    # None of the guide's navigation, header, search or theme scripts.
    chrome = "header, nav, footer, .md-header, .md-sidebar, .md-tabs, .md-search, .md-footer"
    expect(page.locator(chrome)).to_have_count(0)
    assert [u for u in browser_page.requests if "/assets/javascripts/" in u] == []
    assert [u for u in browser_page.requests if "/assets/stylesheets/" in u] == []
    expect(page).to_have_title("Spine hemangioma pathway calculator")
    # The disclaimer, above and with the result, and the way to the full guide.
    expect(page.locator(".sh-embed-notice")).to_contain_text(NOTICE)
    result = spine_hemangioma.evaluate({"mri": "typical", "symptoms": "none"})
    expect(calc.locator(".sh-result")).to_have_attribute("data-pathway", "observation")
    expect(calc.locator(".sh-disclaimer")).to_have_text(result["disclaimer"])
    guide = page.get_by_role("link", name="the full guide")
    expect(guide).to_have_attribute("target", "_blank")
    expect(guide).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    assert guide.evaluate("(a) => a.href") == site_url
    assert page.request.get(site_url).status == 200
    assert_local(browser_page, site_url)
    assert browser_page.console_errors == []


DARK_BG, LIGHT_BG = "rgb(30, 33, 41)", "rgb(255, 255, 255)"
# query, the reader's colour scheme, expected background, compact
OPTIONS = [
    ("", "light", LIGHT_BG, False),
    ("", "dark", DARK_BG, False),
    ("theme=dark", "light", DARK_BG, False),
    ("theme=light", "dark", LIGHT_BG, False),
    ("compact=1", "light", LIGHT_BG, True),
    ("compact=1&theme=dark", "light", DARK_BG, True),
    ("compact=yes&theme=%3Cb%3E", "light", LIGHT_BG, False),
]


@pytest.mark.parametrize(
    ("query", "scheme", "background", "compact"),
    OPTIONS,
    ids=[f"{o[0] or 'default'}-{o[1]}" for o in OPTIONS],
)
def test_embed_options(browser_page, site_url, query, scheme, background, compact):  # noqa: PLR0917 (a table row)
    page = browser_page.page
    page.emulate_media(color_scheme=scheme)
    # The options apply before Python is ready: hold its files back (it would
    # keep the page's thread busy for seconds).
    page.route("**/pyodide/**", lambda route: None)
    url = f"{site_url}{EMBED}?{query}&mri=typical" if query else f"{site_url}{EMBED}"
    page.goto(url, wait_until="domcontentloaded")
    calc = page.locator("[data-spine-calc]")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    help_text = calc.locator('fieldset[data-field="mri"] .sh-help')
    if compact:
        expect(help_text).to_be_hidden()
    else:
        expect(help_text).to_be_visible()
    # The options are the page's, not answers: never reported as ignored, kept in the URL.
    expect(page.locator(".sh-note")).to_be_hidden()
    if query:
        kept = urlsplit(page.url).query
        for option in query.split("&"):
            assert option in kept, (option, kept)
    assert_local(browser_page, site_url)
    assert browser_page.console_errors == []


# --- The instructors' page -------------------------------------------------------------------


def test_embedding_page_gives_the_snippet(browser_page, site_url):
    page = browser_page.page
    page.goto(site_url + "embedding/", wait_until="networkidle")
    shown = page.locator("pre code").first.inner_text().strip()
    iframe = re.search(r"<iframe [^>]*>", shown).group(0)
    # Served, the page names the address it is served from (the built one is
    # PUBLISHED: the `snippet` fixture reads the page's HTML as written).
    assert re.search(r'\bsrc="([^"]+)"', iframe).group(1) == site_url + EMBED
    assert " data-spine-hemangioma " in iframe
    assert ' allow="clipboard-write"' in iframe  # Copy summary from inside the frame
    script = re.search(r'<script src="([^"]+)" defer></script>', shown)
    assert script, shown
    assert script.group(1) == site_url + "assets/calculator/embed-host.js"
    # The files it names exist in the built site.
    for path in (EMBED, "assets/calculator/embed-host.js"):
        assert page.request.get(site_url + path).status == 200, path
    # The documented message is the one the embed sends.
    documented = json.loads(page.locator("pre code").nth(1).inner_text())
    assert set(documented) == {"type", "version", "height"}
    assert (documented["type"], documented["version"]) == (MESSAGE_TYPE, 1)
    canvas = json.loads(page.locator("pre code").nth(2).inner_text())
    assert set(canvas) == {"subject", "height"}
    assert canvas["subject"] == "lti.frameResize"
    assert browser_page.console_errors == []
