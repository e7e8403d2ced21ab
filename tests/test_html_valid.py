"""Every built page is valid HTML and every internal link and anchor resolves,
in site/ and in the offline bundle (the dist/ zip unpacked, as a reader gets it).

Validity: the Nu HTML checker (npm vnu-jar, pinned in package.json; it needs
Java), run once over every page (it takes seconds to start). Errors that
mkdocs-material writes and we cannot change without forking its templates
are accepted by tests/vnu_allowlist.json, each with its reason.

Links: every href/src of every page, the way its reader follows it: site/
through a web server (a folder link serves its index.html; absolute paths
start with site_url's path), the bundle from file:// (a folder link shows a
file listing, so it is broken there). A fragment must name an id of its
target page. A link into the calculator with a query must pre-fill answers
the calculator accepts. (test_site.py checks the nav pages of a fresh build;
this covers every file that `make site` wrote, the embed and 404 pages too.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import pytest
import spine_hemangioma
from mkdocs.utils.yaml import yaml_load

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
VNU_JAR = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ALLOWLIST_FILE = Path(__file__).parent / "vnu_allowlist.json"
ALLOWLIST = json.loads(ALLOWLIST_FILE.read_text(encoding="utf-8"))["entries"]
# Generous: the checker itself takes ~10 s for both trees on two cores.
VNU_TIMEOUT_S = 300
# A page with one known error, checked with the others.
CANARY_NAME = "canary.html"
CANARY_PAGE = '<!doctype html><html lang="en"><title>canary</title><img src="x.png">'
CANARY_ERROR = (
    "An “img” element must have an “alt” attribute, except under certain conditions."
    " For details, consult guidance on providing text alternatives for images."
)
EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel", "data", "javascript"}
ANSWERS = {q["id"]: {o["value"] for o in q["options"]} for q in spine_hemangioma.questions()}


def _site_url_path() -> str:
    with (REPO_ROOT / "mkdocs.yml").open("rb") as fd:
        return urlsplit(yaml_load(fd)["site_url"]).path


SITE_URL_PATH = _site_url_path()  # "/spine-hemangioma/"


def html_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


@pytest.fixture(scope="module")
def site_dir() -> Path:
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(f"{SITE_DIR} is not built: run `make site` first")
    return SITE_DIR


@pytest.fixture(scope="module")
def bundle_dir(offline_bundle) -> Path:
    return offline_bundle


# --- Nu HTML checker -----------------------------------------------------------------


def allowed(message: dict) -> dict | None:
    """The allow-list entry that accepts a checker message, if any."""
    for entry in ALLOWLIST:
        if message.get("message") == entry["message"] and re.search(
            entry["extract"], message.get("extract", "")
        ):
            return entry
    return None


@pytest.fixture(scope="module")
def vnu_messages(site_dir, bundle_dir, tmp_path_factory) -> list[dict]:
    """The checker's messages for every page of both trees, from one run."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("no `java` on PATH: the Nu HTML checker needs Java 11 or later")
    if not VNU_JAR.is_file():
        pytest.fail(f"{VNU_JAR} missing: run `make deps` (npm package vnu-jar)")
    canary = tmp_path_factory.mktemp("vnu") / CANARY_NAME
    canary.write_text(CANARY_PAGE, encoding="utf-8")
    files = [*html_files(site_dir), *html_files(bundle_dir), canary]
    command = [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout"]
    proc = subprocess.run(
        [*command, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT_S,
        check=False,
    )
    # Exit status 1 only means "errors found"; anything else is the checker failing.
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        pytest.fail(f"vnu.jar failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["messages"]


def _where(message: dict) -> str:
    path = unquote(urlsplit(message.get("url", "")).path)
    for root in (SITE_DIR, REPO_ROOT):
        path = path.removeprefix(f"{root}/")
    return f"{path}:{message.get('lastLine', '?')}"


def test_every_page_is_valid_html(vnu_messages):
    problems = [
        f"{_where(m)}: {m['type']}: {m['message']}\n    {m.get('extract', '').strip()}"
        for m in vnu_messages
        if not allowed(m) and not m.get("url", "").endswith(CANARY_NAME)
    ]
    assert problems == [], "\n".join(problems)


def test_the_checker_reports_an_error_it_is_given(vnu_messages):
    # --errors-only says nothing about a clean page: a page with a known error
    # shows that the one run checked and reported (and nothing allow-lists it).
    canary = [m for m in vnu_messages if m.get("url", "").endswith(CANARY_NAME)]
    assert [m["message"] for m in canary] == [CANARY_ERROR]
    assert not allowed(canary[0])


def test_allowlist_entries_have_reasons_and_are_all_needed(vnu_messages):
    for entry in ALLOWLIST:
        assert set(entry) == {"message", "extract", "source", "reason"}, entry
        assert len(entry["reason"]) > 40, f"give a real reason: {entry}"
    used = {id(allowed(m)) for m in vnu_messages}
    stale = [e["message"] for e in ALLOWLIST if id(e) not in used]
    assert stale == [], f"allow-list entries that match nothing any more: {stale}"


# --- Links and anchors ---------------------------------------------------------------


class Refs(HTMLParser):
    """The ids of a page and the URLs it links to or loads."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        self.urls += [v for k, v in attrs if k in {"href", "src"} and v is not None]


def _target(root: Path, page: Path, url: str, *, served: bool) -> tuple[Path | None, str]:
    """The file a link of `page` opens (None: it opens nothing) and why."""
    parts = urlsplit(urljoin(page.resolve().as_uri(), url))
    path = unquote(parts.path)
    if url.startswith("/") and not url.startswith("//"):
        # Root-relative: resolved against the published site_url, not the disk.
        if not (served and path.startswith(SITE_URL_PATH)):
            return None, "an absolute path, which only the published server resolves"
        path = str(root.resolve()) + "/" + path.removeprefix(SITE_URL_PATH)
    target = Path(path)
    if target.is_dir():
        if not served:
            return None, "a folder: from file:// the browser shows a file listing"
        target = target / "index.html"
    if not target.is_file():
        return None, f"no file {target}"
    return target, ""


def broken_links(root: Path, *, served: bool) -> list[str]:
    pages = {p.resolve(): Refs(p.read_text(encoding="utf-8")) for p in html_files(root)}
    calculator = (root / "calculator" / "index.html").resolve()
    broken = []
    for page, refs in pages.items():
        where = page.relative_to(root.resolve()).as_posix()
        for url in refs.urls:
            parts = urlsplit(url)
            if parts.scheme in EXTERNAL_SCHEMES or url.startswith("//"):
                continue
            if not parts.path and not parts.query:  # "#id": this page
                target, why = page, ""
            else:
                target, why = _target(root, page, url, served=served)
            if target is None:
                broken.append(f"{where}: {url} -> {why}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if fragment not in ids:
                    broken.append(f"{where}: {url} -> no id {fragment!r} in {target.name}")
            if target == calculator and parts.query:
                bad = [
                    f"{k}={v}"
                    for k, v in parse_qsl(parts.query, keep_blank_values=True)
                    if v not in ANSWERS.get(k, ())
                ]
                if bad:
                    broken.append(f"{where}: {url} -> answers the calculator ignores: {bad}")
    return broken


def test_site_links_and_anchors_resolve(site_dir):
    assert len(html_files(site_dir)) > 20
    assert broken_links(site_dir, served=True) == []


def test_offline_bundle_links_and_anchors_resolve(bundle_dir):
    assert len(html_files(bundle_dir)) > 20
    assert broken_links(bundle_dir, served=False) == []
