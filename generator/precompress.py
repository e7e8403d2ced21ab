"""Precompressed copies of the site's files: `name.gz` and `name.br` beside `name`.

A host that serves such copies (nginx `gzip_static` and `brotli_static`, Caddy
`file_server { precompressed br gzip }`) sends them as they are; one that
compresses on the fly ignores them. The copies are compressed harder than a
host does per request: the Pyodide runtime (`pyodide.asm.wasm`, 9.6 MB) is
3.55 MB at the gzip level 6 hosts use and 3.41 MB with zopfli; with brotli,
3.15 MB at quality 6 and 2.74 MB at quality 11 (README, "Publish").

`precompress(ctx)` runs after the steps that build from the site, so the
offline bundle, the SCORM package and the service worker's precache list hold
no copy, and before `write_headers`, whose patterns then cover the copies. Both
compressors are deterministic; their output is kept in a cache keyed by the
input's sha256, since the runtime's files, most of the work, never change
between builds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import brotli
import zopfli.gzip

from .context import log

if TYPE_CHECKING:
    from .context import BuildContext

# What a host should send compressed (README, "Publish"): text, the wasm, and
# the two zips whose entries are stored for this (the stdlib and the wheel).
SUFFIXES = (".html", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".xml", ".wasm")
STORED_ZIPS = ("pyodide/python_stdlib.zip", "pyodide/*.whl")
# Below this a copy saves too little to be worth a file.
MIN_BYTES = 1024
# zopfli's default is 15 iterations: 5 come within 0.05% of its size (the
# wasm: 3,412,324 against 3,410,832 bytes) in a third of the time.
ZOPFLI_ITERATIONS = 5
ENCODINGS = {".gz": "gzip", ".br": "br"}


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "spine-hemangioma-guide" / "precompressed"


def _gzip(data: bytes) -> bytes:
    # zopfli's gzip header carries no name and no date: equal input, equal bytes.
    return zopfli.gzip.compress(data, numiterations=ZOPFLI_ITERATIONS)


def _brotli(data: bytes) -> bytes:
    return brotli.compress(data, quality=11)


COMPRESSORS = {".gz": _gzip, ".br": _brotli}


def wanted(site: Path, path: Path) -> bool:
    """Whether `path` (under `site`) gets precompressed copies."""
    if path.suffix in ENCODINGS or path.stat().st_size < MIN_BYTES:
        return False
    rel = path.relative_to(site)
    return path.suffix in SUFFIXES or any(rel.match(p) for p in STORED_ZIPS)


def _compressed(data: bytes, suffix: str, cache: Path) -> bytes:
    key = cache / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    if key.is_file():
        return key.read_bytes()
    out = COMPRESSORS[suffix](data)
    # Written beside, then renamed: an interrupted build leaves no half entry.
    cache.mkdir(parents=True, exist_ok=True)
    tmp = key.with_name(f"{key.name}.{os.getpid()}.part")
    tmp.write_bytes(out)
    tmp.replace(key)
    return out


def precompress_dir(site: Path, cache: Path | None = None) -> tuple[int, int, int]:
    """Write `.gz` and `.br` beside every wanted file of `site` (a copy no
    smaller than its file is not written). Returns (files, bytes in, bytes of
    the .br copies)."""
    cache = cache or _cache_dir()
    files = bytes_in = bytes_br = 0
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        if not wanted(site, path):
            continue
        data = path.read_bytes()
        files += 1
        bytes_in += len(data)
        for suffix in ENCODINGS:
            out = _compressed(data, suffix, cache)
            if len(out) < len(data):
                path.with_name(path.name + suffix).write_bytes(out)
                if suffix == ".br":
                    bytes_br += len(out)
    return files, bytes_in, bytes_br


def precompress(ctx: BuildContext) -> None:
    """The build step: precompressed copies in the staging site."""
    site = ctx.stage_dir or ctx.project.site_dir
    files, bytes_in, bytes_br = precompress_dir(site)
    log(f"{files} files precompressed ({bytes_in / 1e6:.1f} MB; brotli {bytes_br / 1e6:.1f} MB)")
