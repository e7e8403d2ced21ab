"""Build step: the whole guide as a PDF, printed by Debian's headless Chromium.

`build_pdf(ctx)`, after add_csp:

    1. Chromium (the one the browser tests drive; `make chromium` installs it)
       prints site/print/index.html (generator/print_page.py) from file://,
       with a document outline from the headings and no header or footer;
       the page's citations link within the page, so the PDF holds no
       address of the machine that printed it;
    2. the two dates Chromium writes (CreationDate, ModDate) become
       SOURCE_DATE_EPOCH's, bytes of the same length, so the same input gives
       the same file;
    3. dist/spine-hemangioma-guide-<version>.pdf, atomically (a temporary
       file renamed into place); the downloads step serves it from the site
       and the offline bundle carries it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .context import run_child
from .pages import GeneratorError

if TYPE_CHECKING:
    from .context import BuildContext

PRINT_HTML = "print/index.html"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # the build runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--generate-pdf-document-outline",
)
TIMEOUT_S = 120
# Skia writes "(D:20261201090809+00'00')"; the TZ=UTC below keeps the offset.
PDF_DATE_RE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[+-]\d\d'\d\d'\)")


class PdfError(GeneratorError):
    """The PDF cannot be made; the message names what is missing or failed."""


def pdf_name(version: str) -> str:
    from .offline import NAME  # noqa: PLC0415 (offline.py imports pages.py, as this does)

    return f"{NAME}-{version}.pdf"


def build_pdf(ctx: BuildContext) -> None:
    """Print the whole-guide page of the built site into dist/."""
    from .offline import DIST_DIR, read_edition  # noqa: PLC0415

    edition = read_edition()
    page = (ctx.stage_dir or ctx.project.site_dir) / PRINT_HTML
    dest = DIST_DIR / pdf_name(edition.version)
    count = print_pdf(page, dest, edition.epoch)
    print(f"generator: {dest}: {count} pages, {dest.stat().st_size / 1e3:.0f} kB", file=sys.stderr)


def print_pdf(page: Path, dest: Path, epoch: int, chromium: str = CHROMIUM) -> int:
    """Print `page` to `dest` with fixed dates; returns the number of pages."""
    if not page.is_file():
        raise PdfError(f"{page} missing: the whole-guide page (print.md) was not built")
    if not os.access(chromium, os.X_OK):
        raise PdfError(f"Chromium not found at {chromium}: `make chromium` installs it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pdf-", dir=dest.parent) as tmp:
        out = Path(tmp) / "print.pdf"
        args = [chromium, *CHROMIUM_ARGS, f"--user-data-dir={tmp}/profile"]
        args += [f"--print-to-pdf={out}", page.resolve().as_uri()]
        env = {**os.environ, "TZ": "UTC"}
        try:
            # Its own session: Ctrl-C reaches the build alone, which stops Chromium
            # and prints one line (as run_mkdocs does).
            proc = run_child(args, capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not print {page} within {TIMEOUT_S} s") from None
        if proc.returncode != 0 or not out.is_file():
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise PdfError(f"Chromium could not print {page} (exit {proc.returncode}): {last}")
        data = fix_dates(out.read_bytes(), epoch)
        out.write_bytes(data)
        out.replace(dest)
    return len(re.findall(rb"/Type /Page\b", data))


def fix_dates(data: bytes, epoch: int) -> bytes:
    """The PDF with its creation and modification dates set to `epoch` (same length,
    so the cross-reference table's offsets still hold)."""
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y%m%d%H%M%S").encode()
    fixed, count = PDF_DATE_RE.subn(lambda m: b"/" + m[1] + b" (D:" + stamp + b"+00'00')", data)
    if count != 2:
        raise PdfError(f"expected Chromium's CreationDate and ModDate in the PDF, found {count}")
    return fixed
