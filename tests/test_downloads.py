"""Downloads: the home and About pages link the offline zip, the PDF and the SCORM
package, each with its size and edition, served from the site itself; copies
of the site (offline bundle) link what they do not carry at the published site.
Build first: `make site`.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from generator import offline
from generator.calculator_page import site_url
from generator.downloads import DownloadsError, human_size, link_downloads
from generator.editions import downloads
from generator.offline import DIST_DIR, read_edition
from generator.render import long_date

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE = REPO_ROOT / "site"
EDITION = read_edition()
DOWNLOADS = downloads(EDITION)
PUBLISHED = site_url(REPO_ROOT / "mkdocs.yml")
ENTRY_RE = re.compile(
    r'<li><a data-sh-download="(?P<key>\w+)" href="(?P<href>[^"]+)"[^>]*>(?P<label>[^<]+)</a>'
    r' \(<code>(?P<name>[^<]+)</code>, <span data-sh-size="\w+">(?P<size>[^<]+)</span>;'
    r" (?P<edition>[^)]+)\)"
)


def entries(page: Path) -> dict[str, dict[str, str]]:
    if not page.is_file():
        pytest.fail(f"{page} is not built: run `make site` first")
    return {m["key"]: m.groupdict() for m in ENTRY_RE.finditer(page.read_text(encoding="utf-8"))}


@pytest.mark.parametrize(
    ("page", "url"),
    [("index.html", "http://site.invalid/"), ("about/index.html", "http://site.invalid/about/")],
    ids=["home", "about"],
)
def test_page_links_every_download_with_size_and_edition(page, url):
    found = entries(SITE / page)
    assert sorted(found) == sorted(d.key for d in DOWNLOADS)
    for d in DOWNLOADS:
        entry = found[d.key]
        target = urlsplit(urljoin(url, entry["href"]))
        assert target.netloc == "site.invalid", f"{d.key}: not served from the site itself"
        served = SITE / target.path.lstrip("/")
        assert served.is_file(), f"{page}: {entry['href']} -> missing {served}"
        assert served.read_bytes() == (DIST_DIR / d.filename).read_bytes()
        assert entry["name"] == d.filename == served.name
        assert entry["size"] == human_size(served.stat().st_size)
        assert entry["edition"] == f"version {EDITION.version}, built {long_date(EDITION.built)}"
        assert EDITION.version in d.filename


def test_offline_bundle_carries_the_pdf_and_links_the_rest_online():
    zip_path = DIST_DIR / f"{EDITION.slug}.zip"
    with zipfile.ZipFile(zip_path) as archive:
        home = archive.read(f"{EDITION.slug}/index.html").decode()
        names = set(archive.namelist())
    found = {m["key"]: m for m in ENTRY_RE.finditer(home)}
    pdf = found["pdf"]
    assert f"{EDITION.slug}/{pdf['href']}" in names
    assert pdf["size"] == human_size((DIST_DIR / pdf["name"]).stat().st_size)
    for key in ("offline", "scorm"):
        assert found[key]["href"] == f"{PUBLISHED}downloads/{found[key]['name']}"
        assert found[key]["size"] == "size: see the published site"


def _page(tmp_path: Path, key: str) -> Path:
    page = tmp_path / "index.html"
    page.write_text(
        f'<li><a data-sh-download="{key}">x</a> <span data-sh-size="{key}">?</span></li>',
        encoding="utf-8",
    )
    return page


def test_link_downloads_rejects_an_unknown_entry(tmp_path):
    _page(tmp_path, "ebook")
    with pytest.raises(DownloadsError, match="a download entry names 'ebook', no known file"):
        link_downloads(tmp_path, carried=(), published="https://example.org/")


def test_link_downloads_rejects_a_missing_file(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "DIST_DIR", tmp_path / "dist")
    _page(tmp_path, "pdf")
    missing = tmp_path / "dist" / DOWNLOADS[0].filename
    with pytest.raises(DownloadsError, match=re.escape(f"{missing} missing: the")):
        link_downloads(tmp_path, carried=("pdf",), published="https://example.org/")


def test_link_downloads_links_what_is_not_carried_at_the_published_site(tmp_path):
    page = _page(tmp_path, "scorm")
    link_downloads(tmp_path, carried=(), published="https://example.org/guide/")
    name = next(d.filename for d in DOWNLOADS if d.key == "scorm")
    assert page.read_text(encoding="utf-8") == (
        f'<li><a data-sh-download="scorm" href="https://example.org/guide/downloads/{name}">x</a>'
        ' <span data-sh-size="scorm">size: see the published site</span></li>'
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "1 kB"), (282_351, "282 kB"), (999_999, "1000 kB"), (9_312_000, "9.3 MB")],
)
def test_human_size(size, text):
    assert human_size(size) == text
