"""The offline bundle (generator/offline.py), as a trainee gets it: the zip in
dist/ (built by `make site`) unpacked into a temporary folder and opened from
file:// in Chromium with every http(s) request blocked (conftest's
open_file_page). Every page of the nav opens, the footer links walk the nav,
search finds a term, the diagrams are there, nothing logs an error, and the
calculator gives every conformance case of calculator/cases.json through
its form and through a pre-filled link.

Also, without a browser: the zip's layout and determinism, the edition on the
home page, the offline config against mkdocs.yml, and what a failed build
leaves behind (nothing new).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

import pytest
from cases import mismatches
from mkdocs.utils.yaml import yaml_load
from playwright.sync_api import expect

from generator import offline
from generator.build import BuildContext, Project, load_content
from generator.offline import (
    CONFIG_FILE,
    DIST_DIR,
    SHIM_PATH,
    OfflineBundleError,
    OfflinePaths,
    read_edition,
    write_zip,
)
from generator.pages import load_diagram, render_pages
from generator.render import long_date

REPO_ROOT = Path(__file__).resolve().parent.parent
# The repo's copy of ../shared/spec/cases.json (test_decision.py checks the two agree).
CASES_FILE = REPO_ROOT / "calculator" / "cases.json"
CALCULATOR_PAGE = "calculator/index.html"
TIMEOUT_MS = 10_000
# Pyodide from embedded base64 on a 2-core machine: a few seconds; the bound
# leaves room for a loaded CI machine.
CALC_READY_MS = 60_000


def _yaml(path: Path) -> dict:
    with path.open("rb") as fd:
        return yaml_load(fd)


def _nav_pages(nav: list) -> list[str]:
    """mkdocs.yml's nav, flattened to the pages' paths under docs/, in order."""
    pages: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


NAV = [p.removesuffix(".md") + ".html" for p in _nav_pages(_yaml(REPO_ROOT / "mkdocs.yml")["nav"])]
EDITION = read_edition()


CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def bundle_zip() -> Path:
    path = DIST_DIR / f"{EDITION.slug}.zip"
    if not path.is_file():
        pytest.fail(f"{path} is not built: run `make site` first")
    return path


@pytest.fixture(scope="module")
def bundle(bundle_zip, tmp_path_factory) -> Path:
    """The zip unpacked, as a trainee would: its one top-level folder."""
    out = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(bundle_zip) as archive:
        archive.extractall(out)
    return out / EDITION.slug


def _file_url(bundle: Path, rel: str) -> str:
    return (bundle / rel).resolve().as_uri()


def _rel(bundle: Path, url: str) -> str:
    """A file:// URL's path relative to the bundle (query and fragment dropped)."""
    return Path(unquote(urlsplit(url).path)).relative_to(bundle.resolve()).as_posix()


# --- The zip, without a browser ----------------------------------------------------------


def test_zip_is_one_folder_with_readme_version_and_every_nav_page(bundle_zip):
    with zipfile.ZipFile(bundle_zip) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        names = [i.filename for i in infos]
        version_txt = archive.read(f"{EDITION.slug}/VERSION.txt").decode()
        readme = archive.read(f"{EDITION.slug}/README.txt").decode()
    assert names == sorted(names), "entries are not sorted"
    assert all(n.startswith(f"{EDITION.slug}/") for n in names)
    assert {i.date_time for i in infos} == {
        datetime.fromtimestamp(EDITION.epoch, UTC).timetuple()[:6]
    }
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    missing = [
        p for p in [*NAV, SHIM_PATH, "search/search_index.js"] if f"{EDITION.slug}/{p}" not in names
    ]
    assert missing == []
    assert f"version: {EDITION.version}\n" in version_txt
    assert f"built: {EDITION.built.isoformat()}\n" in version_txt
    assert "open index.html" in readme.lower()


def test_write_zip_gives_the_same_bytes_for_the_same_tree(tmp_path):
    tree = tmp_path / "tree"
    (tree / "b").mkdir(parents=True)
    (tree / "b" / "z.txt").write_text("z")
    (tree / "a.txt").write_text("a")
    write_zip(tree, "top", tmp_path / "one.zip", 1765065600)
    os.utime(tree / "a.txt", (0, 0))  # a different mtime must not matter
    (tree / "b" / "z.txt").chmod(0o600)  # nor a different mode
    write_zip(tree, "top", tmp_path / "two.zip", 1765065600)
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["top/a.txt", "top/b/z.txt"]


def test_write_zip_failing_leaves_the_previous_zip(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("a")
    dest = tmp_path / "out.zip"
    dest.write_bytes(b"previous")

    def fail(self):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "read_bytes", fail)
    with pytest.raises(OSError, match="disk full"):
        write_zip(tree, "top", dest, 1765065600)
    monkeypatch.undo()
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip", "tree"]


def test_a_failed_build_leaves_the_previous_bundle(tmp_path, monkeypatch):
    # Fails after mkdocs has filled the staging folder, before the zip.
    paths = OfflinePaths(site_dir=tmp_path / "build" / "site", dist_dir=tmp_path / "dist")
    paths.site_dir.mkdir(parents=True)
    (paths.site_dir / "index.html").write_text("previous")
    paths.dist_dir.mkdir()
    previous = paths.dist_dir / f"{EDITION.slug}.zip"
    previous.write_bytes(b"previous")

    def fail(site_dir):
        assert (site_dir / "index.html").is_file()
        raise OfflineBundleError("index.html loads https://cdn.example/x.js")

    monkeypatch.setattr(offline, "_check_nothing_loads_from_outside", fail)
    project = Project()
    ctx = BuildContext(project, load_content(project.content_dir), {})
    with pytest.raises(OfflineBundleError, match=r"cdn\.example"):
        offline.build_offline_bundle(ctx, paths)
    assert list(paths.dist_dir.iterdir()) == [previous]
    assert previous.read_bytes() == b"previous"
    assert list(paths.site_dir.parent.iterdir()) == [paths.site_dir], "staging left behind"
    assert [p.name for p in paths.site_dir.iterdir()] == ["index.html"]


@pytest.mark.parametrize(
    ("env", "version", "message"),
    [
        ({"SOURCE_DATE_EPOCH": "yesterday"}, "0.1.0", "SOURCE_DATE_EPOCH: expected whole seconds"),
        ({}, "1.0 beta", "__version__: expected a version such as 0.1.0, got '1.0 beta'"),
    ],
)
def test_read_edition_rejects(tmp_path, env, version, message):
    version_file = tmp_path / "_version.py"
    version_file.write_text(f'__version__ = "{version}"\n')
    with pytest.raises(OfflineBundleError, match=message):
        read_edition(version_file, env)


def test_the_edition_goes_under_the_home_pages_title():
    page = "---\ntitle: Home\n---\n\n# Title\n\nText\n"
    line = f"Offline edition: version {EDITION.version}, built {long_date(EDITION.built)}."
    assert offline.with_edition(page, EDITION) == (
        f"---\ntitle: Home\n---\n\n# Title\n\n{line}\n{{ .sh-edition }}\n\n\nText\n"
    )


def test_a_home_page_without_a_title_fails_the_bundle():
    with pytest.raises(OfflineBundleError, match=r"index\.md: no '# ' title"):
        offline.with_edition("---\ntitle: Home\n---\n\nText\n", EDITION)


def test_offline_config_keeps_every_plugin_of_mkdocs_yml_and_reads_the_staged_docs():
    # INHERIT replaces lists: an entry added to mkdocs.yml must be repeated.
    main, offline = _yaml(REPO_ROOT / "mkdocs.yml"), _yaml(CONFIG_FILE)

    def names(entries):
        return [next(iter(e)) if isinstance(e, dict) else e for e in entries]

    assert names(offline["plugins"]) == [*names(main.get("plugins", [])), "offline"]
    assert offline["plugins"][: len(main.get("plugins", []))] == main.get("plugins", [])
    assert REPO_ROOT / offline["docs_dir"] == OfflinePaths().docs_dir
    assert offline["extra"]["polyfills"] == [SHIM_PATH]


# --- The guide from file:// --------------------------------------------------------------


def test_home_page_names_the_edition(open_file_page, bundle):
    tab = open_file_page(bundle / "index.html").page
    edition = tab.locator("article h1 + .sh-edition")
    expect(edition).to_contain_text(f"version {EDITION.version}")
    expect(edition).to_contain_text(f"built {long_date(EDITION.built)}")


def test_footer_links_walk_the_whole_nav(open_file_page, bundle):
    probe = open_file_page(bundle / NAV[0])
    tab = probe.page
    visited = []
    for i, rel in enumerate(NAV):
        assert _rel(bundle, tab.url) == rel
        expect(tab.locator("article h1")).to_be_visible()
        visited.append(rel)
        if i + 1 < len(NAV):
            tab.locator("a.md-footer__link--next").click()
            tab.wait_for_load_state("load")
    assert visited == NAV
    assert probe.console_errors == []


def test_every_link_of_every_page_reaches_a_file(open_file_page, bundle):
    # Directory links (use_directory_urls) would show a folder listing from file://.
    probe = open_file_page(bundle / "index.html")
    tab = probe.page
    broken = []
    for rel in NAV:
        tab.goto(_file_url(bundle, rel), wait_until="load")
        expect(tab.locator("article h1")).to_be_visible()
        hrefs = tab.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for href in hrefs:
            if not href.startswith("file:"):
                continue
            target = bundle.resolve() / _rel(bundle, href)
            if not target.is_file():
                broken.append(f"{rel} -> {href}")
    assert broken == []
    assert probe.console_errors == []


def test_search_finds_a_term(open_file_page, bundle):
    probe = open_file_page(bundle / "index.html")
    tab = probe.page
    tab.locator(".md-search__input").click()
    tab.keyboard.type("vertebroplasty")
    results = tab.locator(".md-search-result__item")
    expect(results.first).to_be_visible(timeout=TIMEOUT_MS)
    assert "vertebroplasty" in results.first.inner_text().lower()
    results.first.locator("a").first.click()
    tab.wait_for_load_state("load")
    assert _rel(bundle, tab.url) in NAV
    assert probe.console_errors == []


def _diagrams_by_page() -> dict[str, int]:
    """Bundle page -> how many SVG diagrams its generated Markdown holds."""
    pages = render_pages(load_content(Project().content_dir), load_diagram())
    # The calculator keeps one diagram per pathway in <template>s, drawn only
    # under a result: not drawn on load.
    shown = {
        path: re.sub(r"<template\b.*?</template>", "", md, flags=re.S) for path, md in pages.items()
    }
    return {
        path.removesuffix(".md") + ".html": markdown.count("<svg")
        for path, markdown in shown.items()
        if "<svg" in markdown
    }


def test_diagrams_are_drawn(open_file_page, bundle):
    expected = _diagrams_by_page()
    if not expected:
        pytest.skip("pending: no page has a diagram yet (spine_hemangioma.diagram)")
    probe = open_file_page(bundle / "index.html")
    tab = probe.page
    drawn = {}
    for rel in expected:
        tab.goto(_file_url(bundle, rel), wait_until="load")
        svgs = tab.locator("article svg:not(svg svg)")
        boxes = [svgs.nth(i).bounding_box() for i in range(svgs.count())]
        drawn[rel] = sum(1 for b in boxes if b and b["width"] > 20 and b["height"] > 20)
    assert drawn == expected
    assert probe.console_errors == []


# --- The calculator from file:// ---------------------------------------------------------


@pytest.fixture(scope="module")
def calculator(bundle) -> Path:
    page = bundle / CALCULATOR_PAGE
    if not page.is_file():
        pytest.fail(f"the bundle has no {CALCULATOR_PAGE}")
    if not CASES:
        pytest.fail(f"{CASES_FILE} lists no cases")
    return page


def _wait_ready(tab) -> None:
    expect(tab.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=CALC_READY_MS
    )


def _fieldset(tab, field: str):
    return tab.locator(f'fieldset[data-field="{field}"]')


def _answer_through_form(tab, answers: dict[str, str]) -> set[str]:
    """Click the answers in path order (a question shows once the path reaches it);
    returns the answered fields the form never showed."""
    left = dict(answers)
    while True:
        shown = next((f for f in left if _fieldset(tab, f).is_visible()), None)
        if shown is None:
            return set(left)
        _fieldset(tab, shown).locator(f'input[value="{left.pop(shown)}"]').check()


def _expect_result(tab, want: dict) -> None:
    result = tab.locator(".sh-result")
    for key in ("status", "pathway", "urgency"):
        if key in want:
            expect(result).to_have_attribute(f"data-{key}", want[key])
    if "next_question" in want:
        expect(_fieldset(tab, want["next_question"])).to_be_visible()
        expect(_fieldset(tab, want["next_question"]).locator("input:checked")).to_have_count(0)


def test_calculator_form_gives_every_case(open_file_page, calculator, subtests):
    # One page for the whole table (Reset between cases): Pyodide starts once.
    probe = open_file_page(calculator)
    tab = probe.page
    _wait_ready(tab)
    for case in CASES:
        with subtests.test(case["name"]):
            tab.locator(".sh-reset").click()
            never_shown = _answer_through_form(tab, case["answers"])
            # A field neither the path nor a pitfall reads is never asked.
            assert set(case["expect"].get("unused", [])) <= never_shown
            _expect_result(tab, case["expect"])
            # The whole case through the page's own Python (Pyodide from file://).
            full = tab.evaluate("a => SpineCalc.load().then(c => c.call(a))", case["answers"])
            assert mismatches(full, case["expect"]) == []
    assert probe.console_errors == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_calculator_link_gives_each_case(open_file_page, bundle, calculator, case):
    probe = open_file_page(bundle / "index.html")
    tab = probe.page
    tab.goto(f"{calculator.resolve().as_uri()}?{urlencode(case['answers'])}", wait_until="load")
    _wait_ready(tab)
    _expect_result(tab, case["expect"])
    unused = set(case["expect"].get("unused", []))
    for field, value in case["answers"].items():
        if field not in unused:
            expect(_fieldset(tab, field).locator(f'input[value="{value}"]')).to_be_checked()
    assert probe.console_errors == []
