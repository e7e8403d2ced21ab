"""Downloads: the offline zip, the PDF and the SCORM package, served from the site.

The home and About pages list them (templates/_downloads.md.j2, from
`downloads_view`); each entry names the file and its edition. A link's
address and the file's size are known only once the files are built, after
mkdocs, so the entries are written without them and filled in here:

    publish_downloads(ctx)   build step, after the files are built: copies them
                             into site/downloads/ and fills in every entry of
                             site/ (relative link, size);
    link_downloads(tree, carried=...)
                             the same for a copy of the site that carries some
                             of the files (the offline bundle and the SCORM
                             package carry the PDF): the others are linked at
                             the published site, without a size.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .editions import downloads
from .pages import GeneratorError

if TYPE_CHECKING:
    from .context import BuildContext
    from .offline import Edition

DOWNLOADS_PATH = "downloads"
ENTRY_RE = re.compile(r'<a data-sh-download="(\w+)">')
SIZE_RE = re.compile(r'<span data-sh-size="(\w+)">[^<]*</span>')
UNKNOWN_SIZE = "size: see the published site"


class DownloadsError(GeneratorError):
    """A download is missing or an entry names no known file."""


def dist_files(edition: Edition) -> dict[str, Path]:
    """Each download's built file in dist/."""
    from .offline import DIST_DIR  # noqa: PLC0415

    return {d.key: DIST_DIR / d.filename for d in downloads(edition)}


def human_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{max(size / 1e3, 1):.0f} kB"


def link_downloads(
    tree: Path, carried: tuple[str, ...], published: str | None = None
) -> dict[str, Path]:
    """Copy the `carried` files into tree/downloads/ and fill in every entry of
    every page of `tree`: a relative link and the size for those, a link at the
    published site for the others. Returns the carried files' paths."""
    from .calculator_page import site_url  # noqa: PLC0415 (pages.py imports that module)
    from .offline import read_edition  # noqa: PLC0415
    from .pages import CONFIG_FILE  # noqa: PLC0415

    edition = read_edition()
    published = published or site_url(CONFIG_FILE)
    by_key = {d.key: d for d in downloads(edition)}
    sources = dist_files(edition)
    here: dict[str, Path] = {}
    for key in carried:
        if not sources[key].is_file():
            raise DownloadsError(f"{sources[key]} missing: the {by_key[key].label} is not built")
        here[key] = tree / DOWNLOADS_PATH / by_key[key].filename
        here[key].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources[key], here[key])
    for page in sorted(tree.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if "data-sh-download=" not in text:
            continue

        def link(match: re.Match, page: Path = page) -> str:
            key = match[1]
            if key not in by_key:
                raise DownloadsError(f"{page}: a download entry names {key!r}, no known file")
            if key in here:
                href = Path(os.path.relpath(here[key], page.parent)).as_posix()
                kind = by_key[key].media_type
                return f'<a data-sh-download="{key}" href="{href}" type="{kind}" download>'
            href = f"{published}{DOWNLOADS_PATH}/{by_key[key].filename}"
            return f'<a data-sh-download="{key}" href="{href}">'

        def size(match: re.Match) -> str:
            key = match[1]
            text = human_size(here[key].stat().st_size) if key in here else UNKNOWN_SIZE
            return f'<span data-sh-size="{key}">{text}</span>'

        page.write_text(SIZE_RE.sub(size, ENTRY_RE.sub(link, text)), encoding="utf-8")
    return here


def publish_downloads(ctx: BuildContext) -> None:
    """Build step, after every download is built: serve them from site/downloads/."""
    from .offline import read_edition  # noqa: PLC0415

    keys = tuple(d.key for d in downloads(read_edition()))
    here = link_downloads((ctx.stage_dir or ctx.project.site_dir), carried=keys)
    for key, path in here.items():
        size = human_size(path.stat().st_size)
        print(f"generator: {key}: {DOWNLOADS_PATH}/{path.name} ({size})", file=sys.stderr)
