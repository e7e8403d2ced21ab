"""Gate: the guide asks nothing of any other origin. Every page of site/ (every
HTML file, checked against the sitemap), the calculator loaded to a result, and
the embed page inside a course page of another origin make requests to the
site's own server only; every page of the offline bundle and its calculator
load nothing from outside the bundle's folder. Every request is intercepted
(conftest's fixtures abort and record any request to another origin); the
pages also carry no hint that would make a browser connect elsewhere early
(preconnect, dns-prefetch, prefetch).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from playwright.sync_api import expect

from generator.calculator_page import site_url as published_site_url

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
PUBLISHED = published_site_url(REPO_ROOT / "mkdocs.yml")
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text(encoding="utf-8"))["cases"]
# A case that reaches a pathway: the calculator is loaded to a full result.
CASE = next(c for c in CASES if c["expect"]["status"] == "complete")
PYODIDE_PAGES = {"calculator/index.html", "embed/index.html"}
READY_MS = 60_000
# Link relations that make a browser connect or fetch before anyone clicks.
EARLY_RE = re.compile(
    r"<link\b[^>]*\brel=[\"']?[^\"'>]*\b(preconnect|dns-prefetch|prefetch|prerender)\b",
    re.IGNORECASE,
)
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>A course page</title><link rel="icon" href="data:,"></head>
<body><h1>Week 3</h1><iframe src="{src}" title="Calculator" width="100%" height="900"></iframe>
</body></html>"""


@pytest.fixture(scope="module")
def bundle(offline_bundle) -> Path:
    return offline_bundle


def pages_of(tree: Path) -> list[str]:
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.html"))


def sitemap_pages() -> set[str]:
    """The sitemap's pages, as paths of files under site/."""
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ElementTree.parse(SITE_DIR / "sitemap.xml").getroot()
    out = set()
    for loc in root.iterfind("s:url/s:loc", ns):
        assert loc.text.startswith(PUBLISHED), loc.text
        rel = loc.text.removeprefix(PUBLISHED)
        out.add(rel + "index.html" if rel.endswith("/") or not rel else rel)
    return out


def settle(page) -> None:
    page.evaluate(
        "new Promise(r => setTimeout(() => requestAnimationFrame(() => "
        "requestAnimationFrame(r)), 100))"
    )


def watch_sockets(probe) -> list[str]:
    sockets: list[str] = []
    probe.page.on("websocket", lambda ws: sockets.append(ws.url))
    return sockets


def calculator_result(frame) -> None:
    """Wait for Python and the case's pathway."""
    expect(frame.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    expect(frame.locator(".sh-result")).to_have_attribute("data-pathway", CASE["expect"]["pathway"])


# --- Without a browser ---------------------------------------------------------------------


@pytest.mark.parametrize("tree", ["site", "bundle"])
def test_no_page_hints_an_early_connection(tree, request):
    root = SITE_DIR if tree == "site" else request.getfixturevalue("bundle")
    hints = [
        f"{rel}: {m.group(0)}"
        for rel in pages_of(root)
        for m in EARLY_RE.finditer((root / rel).read_text(encoding="utf-8"))
    ]
    assert hints == []


def test_sitemap_lists_only_pages_that_exist():
    # The walk below visits every HTML file; the sitemap must not know of more.
    assert sitemap_pages() <= set(pages_of(SITE_DIR))


# --- Served: every request goes to the site's own server -----------------------------------


def _walk(probe, urls: list[str]) -> dict[str, list[str]]:
    """Each URL loaded in turn; the requests each page made."""
    page = probe.page
    made: dict[str, list[str]] = {}
    for url in urls:
        start = len(probe.requests)
        page.goto(url, wait_until="load")
        settle(page)
        made[url] = probe.requests[start:]
    return made


def _outside(made: dict[str, list[str]], inside) -> list[str]:
    return [f"{page} -> {url}" for page, urls in made.items() for url in urls if not inside(url)]


def _served_from(base: str):
    """Inside: the server of `base`, or what never leaves the page (data:, blob:)."""
    origin = urlsplit(base)[:2]

    def inside(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in {"data", "blob", "about"} or parts[:2] == origin

    return inside


def test_every_served_page_asks_only_its_own_server(browser_page, published_url):
    sockets = watch_sockets(browser_page)
    rels = [r for r in pages_of(SITE_DIR) if r not in PYODIDE_PAGES]
    made = _walk(browser_page, [published_url + r.removesuffix("index.html") for r in rels])
    # Search: the index and the worker.
    page = browser_page.page
    start = len(browser_page.requests)
    page.goto(published_url, wait_until="load")
    page.locator(".md-search__input").click()
    page.keyboard.type("embolization")
    expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=15_000)
    made["search"] = browser_page.requests[start:]
    assert _outside(made, _served_from(published_url)) == []
    assert browser_page.outside_requests == []
    assert sockets == []
    assert sitemap_pages() - {*rels, *PYODIDE_PAGES} == set()


def test_calculator_to_a_result_asks_only_its_own_server(browser_page, published_url):
    sockets = watch_sockets(browser_page)
    page = browser_page.page
    page.goto(f"{published_url}calculator/?{urlencode(CASE['answers'])}", wait_until="load")
    calculator_result(page)
    page.locator(".sh-copy").click()  # the summary: clipboard or a text area, no request
    settle(page)
    assert any("pyodide.asm.wasm" in url for url in browser_page.requests)
    assert _outside({"calculator": browser_page.requests}, _served_from(published_url)) == []
    assert browser_page.outside_requests == []
    assert sockets == []


def test_embed_in_a_course_page_asks_only_the_two_servers(
    browser_page, published_url, static_server, tmp_path
):
    # The instructor's page on its own origin, framing the embed as the guide shows.
    query = urlencode({**CASE["answers"], "compact": "1"})
    (tmp_path / "index.html").write_text(
        HOST_PAGE.format(src=f"{published_url}embed/?{query}"), encoding="utf-8"
    )
    host = static_server(tmp_path)
    sockets = watch_sockets(browser_page)
    page = browser_page.page
    page.goto(host, wait_until="load")
    calculator_result(page.frame_locator("iframe"))
    settle(page)
    guide, course = _served_from(published_url), _served_from(host)
    assert any(guide(u) and "pyodide.asm.wasm" in u for u in browser_page.requests)
    made = {"embed in a course page": browser_page.requests}
    assert _outside(made, lambda u: guide(u) or course(u)) == []
    assert browser_page.outside_requests == []
    assert sockets == []


# --- The offline bundle: nothing outside its folder ----------------------------------------


def _in_bundle(bundle: Path):
    root = bundle.resolve().as_posix() + "/"

    def inside(url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in {"blob", "data", "about"}:
            return True
        return parts.scheme == "file" and unquote(parts.path).startswith(root)

    return inside


def test_every_bundle_page_loads_only_its_own_files(open_file_page, bundle):
    rels = [r for r in pages_of(bundle) if r not in PYODIDE_PAGES]
    probe = open_file_page(bundle / rels[0])
    sockets = watch_sockets(probe)
    made = _walk(probe, [(bundle / r).as_uri() for r in rels])
    page = probe.page
    start = len(probe.requests)
    page.goto((bundle / "index.html").as_uri(), wait_until="load")
    page.locator(".md-search__input").click()
    page.keyboard.type("embolization")
    expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=15_000)
    made["search"] = probe.requests[start:]
    assert _outside(made, _in_bundle(bundle)) == []
    assert probe.outside_requests == []
    assert sockets == []


@pytest.mark.parametrize("rel", sorted(PYODIDE_PAGES))
def test_bundle_calculator_to_a_result_loads_only_its_own_files(open_file_page, bundle, rel):
    probe = open_file_page(bundle / "VERSION.txt")
    sockets = watch_sockets(probe)
    page = probe.page
    page.goto(f"{(bundle / rel).as_uri()}?{urlencode(CASE['answers'])}", wait_until="load")
    calculator_result(page)
    settle(page)
    assert any("pyodide.asm.wasm" in url for url in probe.requests)
    assert _outside({rel: probe.requests}, _in_bundle(bundle)) == []
    assert probe.outside_requests == []
    assert sockets == []
