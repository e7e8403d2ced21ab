"""Build step: the published site's service worker, web app manifest and icons.

A second visit then starts from the cache and the site works with no network
after the first (pages and calculator). Runs after add_csp and the steps that
fill in the pages (publish_downloads), on the final pages of the staged site
(the offline bundle and the SCORM package are made before: they carry none of
this), in this order:

    1. icons/icon-192.png, icons/icon-512.png (drawn here) and
       manifest.webmanifest at the site's root: the site is installable;
    2. assets/sw-register.js (generator/sw/register.js), linked with the
       manifest from every page but 404.html (served at any path);
    3. sw.js at the site's root, made by Workbox (generator/sw/generate_sw.mjs,
       npm workbox-build): it precaches the pages, assets and the calculator's
       runtime, each entry with the revision (hash) of this build's bytes, so a
       new build replaces exactly the files that changed.

The register script waits for the page's load and an idle moment, and does
nothing for a reader who saves data or is on 2g. Nothing of this reaches the
offline bundle (another mkdocs build, from file://) nor `make serve` (mkdocs
serve of docs/). The page policy allows `manifest-src 'self'` (generator/csp.py);
the worker falls under script-src 'self'.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .context import run_child
from .pages import GeneratorError

if TYPE_CHECKING:
    from .context import BuildContext

HERE = Path(__file__).resolve().parent
GENERATE_SW = HERE / "sw" / "generate_sw.mjs"
REGISTER_JS = HERE / "sw" / "register.js"
REGISTER_PATH = "assets/sw-register.js"
MANIFEST_PATH = "manifest.webmanifest"
ICON_SIZES = (192, 512)
# mkdocs-material's "indigo" primary colour (mkdocs.yml, theme.palette).
THEME_COLOR = (0x3F, 0x51, 0xB5)
NOT_LINKED = {"404.html"}
HEAD_END = re.compile(r"</head>", re.IGNORECASE)


class ServiceWorkerError(GeneratorError):
    """The service worker could not be made; the message is one line."""


# --- 1. Icons and manifest ------------------------------------------------------------


def _png(width: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG from raw rows (3 bytes a pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def draw_icon(size: int) -> bytes:
    """Three stacked white vertebral bodies on the theme colour, inside the
    central 60% (the safe zone of a maskable icon)."""
    bg = bytes(THEME_COLOR)
    white = b"\xff\xff\xff"
    boxes = []
    left, right = round(size * 0.28), round(size * 0.72)
    for i in range(3):
        top = round(size * (0.22 + i * 0.2))
        boxes.append((left, top, right, top + round(size * 0.15)))
    rows = []
    for y in range(size):
        row = bytearray(bg * size)
        for x0, y0, x1, y1 in boxes:
            if y0 <= y < y1:
                row[3 * x0 : 3 * x1] = white * (x1 - x0)
        rows.append(bytes(row))
    return _png(size, rows)


def web_manifest(name: str, description: str) -> dict:
    """The web app manifest: the site's root is its start and its scope."""
    color = "#{:02x}{:02x}{:02x}".format(*THEME_COLOR)
    return {
        "name": name,
        "short_name": "Spine hemangiomas",
        "description": description,
        "start_url": "./",
        "scope": "./",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": color,
        "icons": [
            {
                "src": f"icons/icon-{n}.png",
                "sizes": f"{n}x{n}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for n in ICON_SIZES
        ],
    }


def _site_config(config_file: Path) -> tuple[str, str]:
    # mkdocs.yml has !!python/name tags (pymdownx): read the two plain keys.
    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_Loader)
    return str(config["site_name"]), " ".join(str(config.get("site_description", "")).split())


def write_manifest(site_dir: Path, config_file: Path) -> None:
    (site_dir / "icons").mkdir(exist_ok=True)
    for n in ICON_SIZES:
        (site_dir / "icons" / f"icon-{n}.png").write_bytes(draw_icon(n))
    name, description = _site_config(config_file)
    text = json.dumps(web_manifest(name, description), indent=1, ensure_ascii=False) + "\n"
    (site_dir / MANIFEST_PATH).write_text(text, encoding="utf-8")


# --- 2. Links from every page -----------------------------------------------------


def link_pages(site_dir: Path) -> int:
    """Add the manifest link and the register script to every page; returns the count."""
    shutil.copyfile(REGISTER_JS, site_dir / REGISTER_PATH)
    count = 0
    for page in sorted(site_dir.rglob("*.html")):
        rel = page.relative_to(site_dir)
        if rel.as_posix() in NOT_LINKED:
            continue
        up = "../" * (len(rel.parts) - 1)
        tags = (
            f'<link rel="manifest" href="{up}{MANIFEST_PATH}">'
            f'<script src="{up}{REGISTER_PATH}" defer></script>'
        )
        text = page.read_text(encoding="utf-8")
        if REGISTER_PATH in text:
            raise ServiceWorkerError(f"{rel}: already links {REGISTER_PATH} (built twice?)")
        text, found = HEAD_END.subn(tags + "</head>", text, count=1)
        if not found:
            raise ServiceWorkerError(f"{rel}: no </head> to link the service worker from")
        page.write_text(text, encoding="utf-8")
        count += 1
    return count


# --- 3. sw.js ------------------------------------------------------------------------


def generate_sw(site_dir: Path) -> dict:
    """Run Workbox's generateSW on site_dir; returns {"count", "size"} of the precache."""
    try:
        proc = run_child(["node", str(GENERATE_SW), str(site_dir)], capture_output=True, text=True)
    except OSError as exc:
        raise ServiceWorkerError(f"node could not start: {exc}") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        last = lines[-1] if lines else "no output"
        raise ServiceWorkerError(f"workbox generateSW failed (exit {proc.returncode}): {last}")
    return json.loads(proc.stdout)


def add_service_worker(ctx: BuildContext) -> None:
    """Build step after publish_downloads: manifest, icons, register script, sw.js."""
    site_dir = ctx.stage_dir or ctx.project.site_dir
    write_manifest(site_dir, ctx.project.config_file)
    pages = link_pages(site_dir)
    precache = generate_sw(site_dir)
    print(
        f"generator: service worker: {precache['count']} files, "
        f"{precache['size'] / 1e6:.1f} MB precached; {pages} pages link it",
        file=sys.stderr,
    )
