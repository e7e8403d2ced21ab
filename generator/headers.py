"""The HTTP headers a host should send, as data: one list for site/_headers and the README.

`write_headers(ctx)`, the last step before publishing, writes site/_headers in the format
Netlify and Cloudflare Pages read (a path pattern, then its headers indented).
The README's "Publish" section shows the same list as a table;
tests/test_headers.py keeps the two equal.

A page's content security policy is in its own <meta> tag (generator/csp.py);
these headers say what a <meta> tag cannot (frame-ancestors), set types and
caching, and harden every response.

Both hosts apply every rule whose pattern matches, and Cloudflare joins two
values of one header with a comma (two CSPs: both enforced), so the patterns
of a header never overlap: "every path but /embed/" is written out as the
site's top-level entries other than embed/.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import BuildContext

HEADERS_FILE = "_headers"
# The one pattern that is not a host's: written out by `expand`.
ALL_BUT_EMBED = "/* but /embed/*"
EMBED = "embed"
YEAR = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Header:
    path: str  # a host's pattern, or ALL_BUT_EMBED
    name: str
    value: str
    why: str


HEADERS: tuple[Header, ...] = (
    Header(
        ALL_BUT_EMBED,
        "Content-Security-Policy",
        "frame-ancestors 'none'",
        "No other site may frame the guide's pages (a policy in a meta tag cannot say this).",
    ),
    Header(ALL_BUT_EMBED, "X-Frame-Options", "DENY", "The same, for browsers without CSP 2."),
    Header(
        "/embed/*",
        "Content-Security-Policy",
        "frame-ancestors 'self' https:",
        "Course pages frame the embed; list your course sites instead of https: if you can.",
    ),
    Header("/*", "X-Content-Type-Options", "nosniff", "Files are used only as their type says."),
    Header(
        "/*",
        "Referrer-Policy",
        "strict-origin-when-cross-origin",
        "A link to another site sends the origin only, not the page's address.",
    ),
    Header(
        "/*",
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
        "The guide uses none of these.",
    ),
    Header("/*", "X-DNS-Prefetch-Control", "off", "No lookups of hosts the reader did not visit."),
    Header(
        "/*",
        "Cross-Origin-Opener-Policy",
        "same-origin",
        "Windows the guide opens, or that open it, cannot script it.",
    ),
    Header(
        "/*",
        "Strict-Transport-Security",
        "max-age=31536000",
        "HTTPS only, for a year (both hosts serve HTTPS only).",
    ),
    Header(
        "/*.wasm",
        "Content-Type",
        "application/wasm",
        "Streaming compilation of Pyodide's WebAssembly needs this exact type.",
    ),
    Header(
        "/sw.js",
        "Cache-Control",
        "no-cache",
        "The service worker is checked on every visit, so a new edition reaches readers.",
    ),
    Header(
        "/pyodide/*",
        "Cache-Control",
        "no-cache",
        "Pyodide's names carry no version but its bytes change with a build: revalidate"
        " (the service worker's install relies on it).",
    ),
    Header(
        "/manifest.webmanifest",
        "Content-Type",
        "application/manifest+json",
        "The web app manifest that makes the guide installable.",
    ),
    Header(
        "/assets/javascripts/bundle.*",
        "Cache-Control",
        YEAR,
        "mkdocs-material's script: its name carries a hash of its content.",
    ),
    Header(
        "/assets/javascripts/workers/*",
        "Cache-Control",
        YEAR,
        "mkdocs-material's search worker: its name carries a hash of its content.",
    ),
    Header(
        "/assets/stylesheets/*",
        "Cache-Control",
        YEAR,
        "mkdocs-material's styles: each name carries a hash of its content.",
    ),
)

# Served compressed (gzip or brotli): a host does this itself, when the type
# is one it compresses; no header can ask for it.
COMPRESSED = (
    "*.html", "*.js", "*.mjs", "*.css", "*.json", "*.webmanifest", "*.wasm",
    "pyodide/python_stdlib.zip",
)  # fmt: skip


def expand(path: str, site_dir: Path) -> list[str]:
    """The host's patterns for one path of HEADERS."""
    if path != ALL_BUT_EMBED:
        return [path]
    entries = sorted(p for p in site_dir.iterdir() if p.name not in (EMBED, HEADERS_FILE))
    return ["/", *(f"/{p.name}/*" if p.is_dir() else f"/{p.name}" for p in entries)]


def headers_file(site_dir: Path) -> str:
    """The text of site/_headers: one block per pattern, in HEADERS' order."""
    blocks: dict[str, list[str]] = {}
    for header in HEADERS:
        for pattern in expand(header.path, site_dir):
            blocks.setdefault(pattern, []).append(f"  {header.name}: {header.value}")
    head = "# Generated by generator/headers.py (the README's Publish section lists the same).\n"
    return head + "".join(f"{p}\n" + "\n".join(lines) + "\n" for p, lines in blocks.items())


def write_headers(ctx: BuildContext) -> None:
    """Build step, after every step that adds files: site/_headers (Netlify, Cloudflare Pages)."""
    site = ctx.stage_dir or ctx.project.site_dir
    text = headers_file(site)
    (site / HEADERS_FILE).write_text(text, encoding="utf-8")
    count = sum(line.startswith("  ") for line in text.splitlines())
    print(f"generator: {site / HEADERS_FILE}: {count} headers", file=sys.stderr)
