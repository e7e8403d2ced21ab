"""Precompressed copies (generator/precompress.py): `name.gz` and `name.br` beside
each compressible file of the built site, the bytes of their file once decoded,
and nowhere a browser reads from disk or the service worker fetches."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import brotli
import pytest

from generator import precompress

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
DIST_DIR = REPO_ROOT / "dist"


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE_DIR / "pyodide").is_dir():
        pytest.fail(f"{SITE_DIR} is not built: run `make site` first")
    return SITE_DIR


def decompress(path: Path) -> bytes:
    """The bytes a browser gets from a precompressed copy."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else brotli.decompress(data)


def _files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.is_file())


# The files that matter most over the wire, and one page: each has both copies.
@pytest.mark.parametrize(
    "name",
    [
        "pyodide/pyodide.asm.wasm",
        "pyodide/pyodide.asm.mjs",
        "pyodide/python_stdlib.zip",
        "pyodide/spine_hemangioma-0.2.0-py3-none-any.whl",
        "calculator/index.html",
        "assets/calculator/loader.js",
        "search/search_index.json",
    ],
)
def test_key_files_have_both_copies_smaller_than_themselves(site, name):
    path = site / name
    for suffix in (".gz", ".br"):
        copy = path.with_name(path.name + suffix)
        assert copy.is_file(), f"{copy} missing"
        assert copy.stat().st_size < path.stat().st_size


def test_every_copy_decodes_to_its_file_and_only_wanted_files_have_copies(site):
    copies = [p for p in _files(site) if p.suffix in precompress.ENCODINGS]
    assert len(copies) > 50
    for copy in copies:
        original = copy.with_suffix("")
        assert original.is_file(), f"{copy}: no file beside it"
        assert precompress.wanted(site, original), f"{copy}: {original.name} is not for copies"
        assert decompress(copy) == original.read_bytes(), f"{copy} decodes wrong"


@pytest.mark.parametrize(
    "name", ["assets/images/favicon.png", "assets/javascripts/bundle.a5f9d56c.min.js.map"]
)
def test_files_a_host_sends_as_they_are_get_no_copy(site, name):
    matches = list(site.glob(name.replace("a5f9d56c", "*")))
    assert matches, name
    for path in matches:
        assert not path.with_name(path.name + ".gz").exists()
        assert not path.with_name(path.name + ".br").exists()


def test_no_copy_in_the_service_worker_list_or_the_zips(site):
    sw = (site / "sw.js").read_text(encoding="utf-8")
    assert ".wasm.br" not in sw
    assert ".wasm.gz" not in sw
    assert "pyodide.asm.wasm" in sw  # the list is there, without the copies
    zips = sorted(DIST_DIR.glob("*.zip"))
    assert len(zips) >= 2, "the offline zip and the SCORM package"
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        assert not [n for n in names if n.endswith((".gz", ".br"))], path.name


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in _files(root)}


def test_copies_come_from_the_cache_and_follow_a_changed_file(tmp_path, monkeypatch):
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    text = "".join(f"<p>line {i} of the page</p>\n" for i in range(400))
    (site / "index.html").write_text(text, encoding="utf-8")
    (site / "tiny.js").write_text("x=1;\n", encoding="utf-8")  # under MIN_BYTES
    (site / "picture.png").write_bytes(bytes(range(256)) * 8)  # not a text type
    assert precompress.precompress_dir(site, cache)[0] == 1
    first = _tree(site)
    copies = ["index.html.br", "index.html.gz"]
    assert sorted(first) == ["index.html", *copies, "picture.png", "tiny.js"]

    # Equal input: the cache answers, nothing is compressed again.
    def refuse(data: bytes) -> bytes:
        raise AssertionError("compressed again")

    monkeypatch.setattr(precompress, "COMPRESSORS", {".gz": refuse, ".br": refuse})
    precompress.precompress_dir(site, cache)
    assert _tree(site) == first
    monkeypatch.undo()

    (site / "index.html").write_text(text.replace("line 7 ", "line seven "), encoding="utf-8")
    precompress.precompress_dir(site, cache)
    for suffix in (".gz", ".br"):
        copy = site / f"index.html{suffix}"
        assert decompress(copy) == (site / "index.html").read_bytes()


def test_a_copy_no_smaller_than_its_file_is_not_written(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    # Random bytes do not compress: both copies would be larger.
    (site / "noise.json").write_bytes(os.urandom(4096))
    precompress.precompress_dir(site, tmp_path / "cache")
    assert sorted(p.name for p in site.iterdir()) == ["noise.json"]


def test_readme_lists_every_compressed_type():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    line = readme[readme.index("Served compressed") :].split("\n\n")[0]
    for suffix in precompress.SUFFIXES:
        assert f"`*{suffix}`" in line, suffix
    for pattern in precompress.STORED_ZIPS:
        assert f"`{pattern}`" in line, pattern
