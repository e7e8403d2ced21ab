"""Writing generated pages into docs/: all staged first, then swapped in file by file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

# docs/assets/ is hand-written; every other Markdown file under docs/ is the
# generator's, so one it no longer renders is stale and removed.
HAND_WRITTEN = ("assets",)


def _generated(docs_dir: Path) -> set[str]:
    return {
        p.relative_to(docs_dir).as_posix()
        for p in docs_dir.rglob("*.md")
        if p.relative_to(docs_dir).parts[0] not in HAND_WRITTEN
    }


def write_pages(pages: Mapping[str, str], docs_dir: Path) -> list[str]:
    """Make docs/ hold exactly `pages` (plus hand-written and other steps' files).

    Every page is written to a staging folder beside docs/ before anything in
    docs/ changes; then each page whose bytes differ replaces its old file by
    an atomic rename. Unchanged files are not touched, so `mkdocs serve`'s
    watcher does not rebuild in a loop. Returns the paths that changed."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".docs-staging-", dir=docs_dir.parent))
    changed: list[str] = []
    try:
        for rel, text in pages.items():
            staged = staging / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(text, encoding="utf-8", newline="\n")
        for rel in pages:
            target = docs_dir / rel
            new = (staging / rel).read_bytes()
            if target.is_file() and target.read_bytes() == new:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
            changed.append(rel)
        for rel in sorted(_generated(docs_dir) - set(pages)):
            (docs_dir / rel).unlink()
            changed.append(rel)
            _remove_empty_parents(docs_dir / rel, docs_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changed


def _remove_empty_parents(path: Path, root: Path) -> None:
    for parent in path.parents:
        if parent == root or any(parent.iterdir()):
            return
        parent.rmdir()
