"""Publishing: site/_headers comes from the one list (generator/headers.py) that
the README's Publish section shows; no header gets two values on any path;
the GitHub Pages workflow runs the README's command. Build first: `make site`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from generator.headers import ALL_BUT_EMBED, COMPRESSED, HEADERS, HEADERS_FILE, YEAR, headers_file

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE = REPO_ROOT / "site"
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pages.yml"
# mkdocs-material's content-hashed names: bundle.a5f9d56c.min.js, main.484c7ddc.min.css
# The precompressed copies (name.gz, name.br) carry their file's hashed name.
HASHED_RE = re.compile(r"\.[0-9a-f]{8}\.min\.(js|css)(\.map)?(\.gz|\.br)?$")


def publish_section() -> str:
    match = re.search(r"^## Publish\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, "README.md has no '## Publish' section"
    return match.group(1)


def readme_rows() -> list[tuple[str, ...]]:
    rows = []
    for line in publish_section().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| `") and len(cells) == 4:
            rows.append(tuple(c.strip("`") for c in cells))
    return rows


def test_readme_table_is_the_list_of_headers():
    assert readme_rows() == [(h.path, h.name, h.value, h.why) for h in HEADERS]


def test_readme_names_what_must_be_served_compressed():
    section = publish_section()
    assert [c for c in COMPRESSED if f"`{c}`" not in section] == []


def parse_headers(text: str) -> list[tuple[str, str, str]]:
    """(pattern, name, value) of every header line of a _headers file."""
    rules, pattern = [], None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            pattern = line.strip()
            continue
        name, _, value = line.strip().partition(": ")
        assert pattern, f"a header before any path: {line!r}"
        rules.append((pattern, name, value))
    return rules


def matches(pattern: str, path: str) -> bool:
    """A path pattern as Netlify and Cloudflare Pages read it: * matches anything."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path) is not None


def served_paths() -> list[str]:
    """Every file of site/ by its URL path, and each page by its directory URL."""
    paths = []
    for file in sorted(SITE.rglob("*")):
        if file.is_file():
            rel = "/" + file.relative_to(SITE).as_posix()
            paths.append(rel)
            if rel.endswith("/index.html"):
                paths.append(rel.removesuffix("index.html"))
    return paths


@pytest.fixture(scope="module")
def headers() -> dict[str, dict[str, list[str]]]:
    """URL path -> header name -> every value the host would send."""
    file = SITE / HEADERS_FILE
    if not file.is_file():
        pytest.fail(f"{file} is not built: run `make site` first")
    rules = parse_headers(file.read_text(encoding="utf-8"))
    result = {}
    for path in served_paths():
        sent: dict[str, list[str]] = {}
        for pattern, name, value in rules:
            if matches(pattern, path):
                sent.setdefault(name, []).append(value)
        result[path] = sent
    return result


def test_headers_file_is_written_from_the_list():
    text = (SITE / HEADERS_FILE).read_text(encoding="utf-8")
    assert text == headers_file(SITE)
    names = {name for _, name, _ in parse_headers(text)}
    assert names == {h.name for h in HEADERS}


def test_no_header_gets_two_values_on_any_path(headers):
    doubled = {
        path: {n: v for n, v in sent.items() if len(v) > 1}
        for path, sent in headers.items()
        if any(len(v) > 1 for v in sent.values())
    }
    assert doubled == {}


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/", "Content-Security-Policy", "frame-ancestors 'none'"),
        ("/index.html", "X-Frame-Options", "DENY"),
        ("/calculator/", "Content-Security-Policy", "frame-ancestors 'none'"),
        ("/print/", "Content-Security-Policy", "frame-ancestors 'none'"),
        ("/embed/", "Content-Security-Policy", "frame-ancestors 'self' https:"),
        ("/embed/index.html", "X-Frame-Options", None),
        ("/pyodide/pyodide.asm.wasm", "Content-Type", "application/wasm"),
        ("/about/", "X-Content-Type-Options", "nosniff"),
        ("/assets/calculator/calculator.js", "Cache-Control", None),
        ("/pyodide/pyodide-lock.json", "Cache-Control", "no-cache"),  # unversioned
    ],
)
def test_header_on_path(headers, path, name, value):
    assert headers[path].get(name) == ([value] if value else None)


def test_service_worker_is_never_cached():
    rules = parse_headers((SITE / HEADERS_FILE).read_text(encoding="utf-8"))
    assert ("/sw.js", "Cache-Control", "no-cache") in rules


def test_only_content_hashed_files_are_cached_for_a_year(headers):
    cached = [p for p, sent in headers.items() if sent.get("Cache-Control") == [YEAR]]
    assert any(p.endswith(".js") for p in cached)
    assert any(p.endswith(".css") for p in cached)
    assert [p for p in cached if not HASHED_RE.search(p)] == []


def test_every_top_level_entry_but_embed_forbids_framing(headers):
    tops = {path.split("/")[1] for path in headers} - {"embed", HEADERS_FILE}
    assert tops
    for top in tops:
        page = next(p for p in headers if p.split("/")[1] == top)
        assert headers[page]["X-Frame-Options"] == ["DENY"], page
    assert ALL_BUT_EMBED not in (SITE / HEADERS_FILE).read_text(encoding="utf-8")


def test_pages_workflow_runs_make_site_with_site_url_and_publishes_site():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert "main" in triggers["push"]["branches"]
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    (build,) = [s for s in steps if s.get("run") == "make site"]
    assert build["env"]["SITE_URL"].endswith("/")
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "site"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "playwright install" not in text
    assert "make site" in README
