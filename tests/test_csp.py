"""Gate: a content security policy on every page (generator/csp.py).

Without a browser: every page of site/ and of the offline bundle (the zip, as a
trainee unpacks it) carries one policy, right after <meta charset>, with a hash
for each inline script and <style>, never 'unsafe-inline' or 'unsafe-eval', and
'wasm-unsafe-eval' only where Pyodide runs; apply_csp refuses what a hash
cannot allow.

In Chromium: zero `securitypolicyviolation` events (recorded in every frame,
including the iframe that search runs in from file://) on every page served
and from file://, with search, the palette and a tooltip used; the calculator
empty, at each pathway of calculator/cases.json from a pre-filled link, with the
bad-parameter note, and failing to start; the embed page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from generator.csp import CspError, apply_csp, known_inline, shim_inline_script

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
SHIM = REPO_ROOT / "node_modules" / "iframe-worker" / "shim" / "index.js"
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text(encoding="utf-8"))["cases"]
PYODIDE_PAGES = {"calculator/index.html", "embed/index.html"}
READY_MS = 60_000  # Pyodide's start on a busy two-core machine, with margin
FAILURE_BOUND_MS = 2_000  # the page's load bound, lowered for the failure test
META_RE = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')

# Every violation of every frame, into the top window's list (or the frame's own
# when the top is another origin). document.open() drops a document's listeners:
# iframe-worker writes its iframe that way, so the listener is added again.
RECORDER = """(() => {
  const record = (e) => {
    const entry = {directive: e.effectiveDirective, blocked: e.blockedURI,
                   source: e.sourceFile, line: e.lineNumber, page: location.href};
    try { window.top.__csp.push(entry); } catch (err) { (window.__csp ??= []).push(entry); }
  };
  if (window.top === window) window.__csp = [];
  const listen = (doc) => doc.addEventListener("securitypolicyviolation", record, true);
  listen(document);
  const open = Document.prototype.open;
  Document.prototype.open = function (...args) {
    const result = open.apply(this, args);
    listen(this);
    return result;
  };
})();"""


# --- Fixtures and helpers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(offline_bundle) -> Path:
    return offline_bundle


def pages_of(tree: Path) -> list[str]:
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.html"))


def recording(probe):
    probe.page.add_init_script(RECORDER)
    return probe.page


def violations(probe) -> list:
    """The violations since the last call, of every frame, and the browser's own
    messages about the policy; the lists start again empty."""
    page = probe.page
    found = list(page.evaluate("window.__csp || ['no recorder in this page']"))
    page.evaluate("window.__csp && (window.__csp.length = 0)")
    for frame in page.frames[1:]:
        try:
            found += frame.evaluate(
                "window.top === window || !window.__csp ? [] : window.__csp.splice(0)"
            )
        except Exception:  # a frame gone between listing and asking
            continue
    found += [e for e in probe.console_errors if "Content Security Policy" in e]
    probe.console_errors[:] = [e for e in probe.console_errors if e not in found]
    return found


def settle(page) -> None:
    """One task and two frames later: a violation is reported in a task of its own."""
    page.evaluate(
        "new Promise(r => setTimeout(() => requestAnimationFrame(() => "
        "requestAnimationFrame(r)), 50))"
    )


def wait_ready(page) -> None:
    expect(page.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )


def set_query(page, query: str) -> None:
    """The page's own URL-to-answers path, as back and forward take it (a new page
    load per case would start Python again)."""
    page.evaluate(
        "q => { history.pushState(null, '', location.pathname + (q ? '?' + q : ''));"
        " dispatchEvent(new PopStateEvent('popstate')); }",
        query,
    )


# --- Every page carries its policy (no browser) -------------------------------------------


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _inline_hashes(text: str) -> set[str]:
    """An independent count: the hash of each executable inline script and <style>."""
    scripts = re.findall(r"<script(?![^>]*\b(?:src|type)=)[^>]*>(.*?)</script>", text, re.S)
    styles = re.findall(r"<style\b[^>]*>(.*?)</style>", text, re.S)
    return {_sha256(t) for t in [*scripts, *styles]}


def _check_page(rel: str, text: str, *, offline: bool) -> list[str]:
    policies = META_RE.findall(text)
    if len(policies) != 1:
        return [f"{rel}: {len(policies)} policies"]
    policy = policies[0]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    script = directives.get("script-src", [])
    problems = []
    head = text[text.index("<head>") : text.index(META_RE.search(text).group(0))]
    if re.sub(r"\s+", "", head) != '<head><metacharset="utf-8">':
        problems.append(f"{rel}: something before the policy: {head!r}")
    if "unsafe-inline" in policy or "'unsafe-eval'" in policy:
        problems.append(f"{rel}: {policy}")
    if ("'wasm-unsafe-eval'" in script) != (rel in PYODIDE_PAGES):
        problems.append(
            f"{rel}: 'wasm-unsafe-eval' where Pyodide does not run, or not where it does"
        )
    if ("blob:" in script) != (offline and rel in PYODIDE_PAGES):
        problems.append(f"{rel}: blob: in script-src")
    # Served, 'self' stands in for manifest-src (generator/csp.py).
    if directives.get("default-src") != (["'none'"] if offline else ["'self'"]):
        problems.append(f"{rel}: default-src {directives.get('default-src')}")
    allowed = set(script) | set(directives.get("style-src", []))
    problems += [f"{rel}: no {h} for an inline element" for h in _inline_hashes(text) - allowed]
    if re.search(r"<[a-z][^>]*\sstyle=", text):
        problems.append(f"{rel}: a style attribute")
    return problems


def test_every_served_page_carries_its_policy():
    pages = pages_of(SITE_DIR)
    assert {"index.html", *PYODIDE_PAGES} <= set(pages)
    problems = []
    for rel in pages:
        problems += _check_page(rel, (SITE_DIR / rel).read_text(encoding="utf-8"), offline=False)
    assert problems == []


def test_every_bundle_page_carries_its_policy(bundle):
    pages = pages_of(bundle)
    assert {"index.html", *PYODIDE_PAGES} <= set(pages)
    problems = []
    for rel in pages:
        problems += _check_page(rel, (bundle / rel).read_text(encoding="utf-8"), offline=True)
    assert problems == []


def test_algorithm_svg_style_is_hashed():
    # The diagram's <style> is the one inline style of the site; it must be allowed.
    text = (SITE_DIR / "algorithm" / "index.html").read_text(encoding="utf-8")
    (style,) = re.findall(r"<style>(.*?)</style>", text, re.S)
    assert _sha256(style) in META_RE.search(text).group(1).split("style-src")[1]


# --- apply_csp on small trees -----------------------------------------------------------

PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>{}</body></html>'
)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('<p style="color: red">x</p>', '<p style="color: red"> needs'),
        ('<button onclick="go()">x</button>', "<button onclick=...> needs"),
        ('<a href="javascript:go()">x</a>', '<a href="javascript:go()"> needs'),
        ('<svg width="1" style="max-width: 1px"></svg>', '<svg style="max-width: 1px"> needs'),
    ],
    ids=["style attribute", "event handler", "javascript url", "svg style"],
)
def test_inline_attributes_fail_the_build_and_nothing_is_written(tmp_path, body, problem):
    (tmp_path / "a.html").write_text(PAGE.format("<p>fine</p>"), encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "index.html").write_text(PAGE.format(body), encoding="utf-8")
    with pytest.raises(CspError) as info:
        apply_csp(tmp_path)
    assert f"b/index.html: {problem} 'unsafe-inline'" in str(info.value)
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == PAGE.format("<p>fine</p>")


def test_page_without_charset_fails(tmp_path):
    (tmp_path / "x.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    with pytest.raises(CspError, match=r"x\.html: no <meta charset>"):
        apply_csp(tmp_path)


def test_policy_hashes_inline_code_and_a_second_run_changes_nothing(tmp_path):
    body = (
        "<script>go()</script><script type=application/json>{}</script>"
        "<style>p { color: red }</style>"
        '<svg><style>a &gt; b { fill: red }</style></svg><script src="x.js"></script>'
    )
    page = tmp_path / "site" / "index.html"
    page.parent.mkdir()
    page.write_text(PAGE.format(body), encoding="utf-8")
    # The inline code is known: a template of this test's holds it.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.html").write_text(
        "<script>go()</script><style>p { color: red }</style><style>a > b { fill: red }</style>",
        encoding="utf-8",
    )
    known = known_inline((templates,))
    apply_csp(page.parent, known=known)
    first = page.read_text(encoding="utf-8")
    apply_csp(page.parent, known=known)
    assert page.read_text(encoding="utf-8") == first
    policy = META_RE.search(first).group(1)
    assert policy == (
        f"default-src 'self'; script-src 'self' {_sha256('go()')};"
        f" style-src 'self' {_sha256('p { color: red }')} {_sha256('a > b { fill: red }')};"
        " img-src 'self'; base-uri 'none'; form-action 'none'"
    )


def test_iframe_worker_script_is_reconstructed_from_the_shim():
    script = shim_inline_script(SHIM.read_text(encoding="utf-8"), "../w/search.js")
    assert script.startswith("postMessage=function ")
    assert ";importScripts=function " in script
    assert 'filename:"../w/search.js"' in script
    assert "${" not in script
    with pytest.raises(CspError, match="not the iframe-worker shim"):
        shim_inline_script("window.Worker = class {}", "w.js")


# --- In Chromium, served -------------------------------------------------------------------


def _walk(probe, urls: list[str]) -> list:
    page = recording(probe)
    found = []
    for url in urls:
        page.goto(url, wait_until="load")
        settle(page)
        found += violations(probe)
    return found


def _use_material(probe) -> list:
    """Search, the palette toggle and an abbreviation's tooltip on the current page."""
    page = probe.page
    page.locator(".md-search__input").click()
    page.keyboard.type("vertebroplasty")
    expect(page.locator(".md-search-result__item").first).to_be_visible(timeout=15_000)
    page.keyboard.press("Escape")
    scheme = page.locator("body").get_attribute("data-md-color-scheme")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    expect(page.locator("body")).not_to_have_attribute("data-md-color-scheme", scheme)
    page.locator("article abbr").first.hover()
    expect(page.locator(".md-tooltip2--active")).to_be_visible()
    settle(page)
    return violations(probe)


def _guide_pages(tree: Path) -> list[str]:
    # The two Pyodide pages have tests of their own, below: loaded here, they
    # would keep the walk waiting while Python starts.
    return [rel for rel in pages_of(tree) if rel not in PYODIDE_PAGES]


def test_served_pages_raise_no_violation(browser_page, published_url):
    urls = [published_url + rel.removesuffix("index.html") for rel in _guide_pages(SITE_DIR)]
    found = _walk(browser_page, urls)
    browser_page.page.goto(published_url + "algorithm/", wait_until="load")
    assert found + _use_material(browser_page) == []


def _calculator_states(probe, url: str) -> dict[str, list]:
    """Each state of a calculator page: by pre-filled link, then every case and the
    bad-parameter note by URL, then Reset (the empty form)."""
    page = recording(probe)
    first, *others = CASES
    page.goto(f"{url}?{urlencode(first['answers'])}", wait_until="load")
    wait_ready(page)
    found = {first["name"]: violations(probe)}
    result = page.locator(".sh-result")
    for case in others:
        set_query(page, urlencode(case["answers"]))
        expect(result).to_have_attribute("data-status", case["expect"]["status"])
        settle(page)
        found[case["name"]] = violations(probe)
    set_query(page, "mri=typcial&symptoms=pain&colour=red")
    expect(page.locator(".sh-note")).to_contain_text("colour")
    found["bad parameters"] = violations(probe)
    page.locator(".sh-reset").click()
    expect(page.locator("[data-spine-calc] input:checked")).to_have_count(0)
    settle(page)
    found["empty"] = violations(probe)
    return found


def test_served_calculator_raises_no_violation_in_any_state(browser_page, published_url):
    found = _calculator_states(browser_page, published_url + "calculator/")
    assert found == {name: [] for name in found}


def test_served_calculator_failing_to_start_raises_no_violation(browser_page, published_url):
    page = recording(browser_page)
    url = published_url + "calculator/"

    browser_page.block("pyodide.asm.wasm")
    page.goto(url, wait_until="load")
    expect(page.locator(".sh-result")).to_have_attribute(
        "data-status", "failed", timeout=FAILURE_BOUND_MS + READY_MS
    )
    settle(page)
    assert browser_page.blocked, "the wasm was never asked for"
    assert violations(browser_page) == []


def test_served_embed_raises_no_violation(browser_page, published_url):
    page = recording(browser_page)
    query = urlencode({**CASES[0]["answers"], "theme": "dark", "compact": "1"})
    page.goto(f"{published_url}embed/?{query}", wait_until="load")
    wait_ready(page)
    expect(page.locator(".sh-result")).to_have_attribute(
        "data-status", CASES[0]["expect"]["status"]
    )
    settle(page)
    assert violations(browser_page) == []


# --- In Chromium, from file:// (the offline bundle) ----------------------------------------


@pytest.fixture
def file_probe(open_file_page, tmp_path):
    """A file:// page that records violations from its first real page on."""
    blank = tmp_path / "blank.html"
    blank.write_text('<!doctype html><meta charset="utf-8"><title>blank</title>')
    return open_file_page(blank)


def test_bundle_pages_raise_no_violation(file_probe, bundle):
    urls = [(bundle / rel).as_uri() for rel in _guide_pages(bundle)]
    found = _walk(file_probe, urls)
    file_probe.page.goto((bundle / "algorithm.html").as_uri(), wait_until="load")
    assert found + _use_material(file_probe) == []


def test_bundle_calculator_raises_no_violation_in_any_state(file_probe, bundle):
    found = _calculator_states(file_probe, (bundle / "calculator" / "index.html").as_uri())
    assert found == {name: [] for name in found}


def test_bundle_calculator_failing_to_start_raises_no_violation(file_probe, bundle, tmp_path):
    # A copy of the bundle without the wasm payload: the loader's script fails.
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    (copy / "pyodide" / "pyodide.asm.wasm.js").unlink()
    page = recording(file_probe)
    page.goto((copy / "calculator" / "index.html").as_uri(), wait_until="load")
    expect(page.locator(".sh-result")).to_have_attribute("data-status", "failed", timeout=READY_MS)
    settle(page)
    assert violations(file_probe) == []


def test_bundle_embed_raises_no_violation(file_probe, bundle):
    page = recording(file_probe)
    query = urlencode({**CASES[0]["answers"], "theme": "dark", "compact": "1"})
    page.goto(f"{(bundle / 'embed' / 'index.html').as_uri()}?{query}", wait_until="load")
    wait_ready(page)
    settle(page)
    assert violations(file_probe) == []
