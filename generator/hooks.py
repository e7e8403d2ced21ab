"""mkdocs hooks (mkdocs.yml `hooks:`): the pages are regenerated before every
build, so under `mkdocs serve` an edit to the content shows live."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from spine_hemangioma.content import CONTENT_DIR, ContentError, load_from

# Absolute imports: mkdocs loads this file by path, not as part of the package.
from generator.build import CONTENT_ENV
from generator.pages import load_diagram, render_pages
from generator.write import write_pages

log = logging.getLogger("mkdocs.hooks.generator")


def on_pre_build(config: MkDocsConfig) -> None:
    """Render the pages into docs/, writing only files whose bytes changed."""
    content_dir = Path(os.environ.get(CONTENT_ENV) or CONTENT_DIR)
    try:
        content = load_from(content_dir)
    except ContentError as exc:
        # A BuildError: mkdocs serve logs it and keeps serving the last good pages.
        raise PluginError(
            f"the content in {content_dir} is invalid:\n" + "\n".join(exc.problems)
        ) from None
    changed = write_pages(render_pages(content, load_diagram()), Path(config.docs_dir))
    if changed:
        log.info("regenerated %s", ", ".join(changed))
