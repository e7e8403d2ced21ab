"""`python -m generator serve`: the site engine's preview, the pages following the content.

No mkdocs hook (Zensical runs none): this process renders the pages and
watches the content itself.

    1. the content is validated and the pages rendered into docs/ (invalid
       content fails here, every problem listed, nothing served);
    2. a watchdog observer on the content folder and the page templates: after
       each burst of changes the pages are rendered again and only the files
       whose bytes changed are written, so the engine's own watcher of docs/
       rebuilds and reloads the browser; invalid content logs its problems and
       the last good pages stay;
    3. `mkdocs serve` in a child process, until it ends or Ctrl-C.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from spine_hemangioma.content import ContentError
from watchdog.events import (
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from .build import load_content
from .context import REPO_ROOT, Project, log, mkdocs_env
from .pages import GeneratorError, load_diagram, render_pages
from .render import TEMPLATES_DIR
from .write import write_pages

# An editor's save is several events (write, rename, chmod): one render after
# they have stopped for this long.
QUIET_S = 0.3
# Reading a file (as rendering does) is an event too; only these change anything.
CHANGES = {EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED}


def regenerate(project: Project) -> list[str]:
    """Render the pages into docs/; the paths that changed. ContentError if invalid."""
    content = load_content(project.content_dir)
    return write_pages(render_pages(content, load_diagram()), project.docs_dir)


class _Regenerator(FileSystemEventHandler):
    """Renders the pages again, in a thread of its own, once changes go quiet."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._changed = threading.Event()
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="regenerate", daemon=True)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in CHANGES and not event.is_directory:
            self._changed.set()

    def stop(self) -> None:
        self._stopped.set()
        self._changed.set()
        self.thread.join()

    def _run(self) -> None:
        while self._changed.wait() and not self._stopped.is_set():
            self._changed.clear()
            # Wait for the burst to end: a half-saved file is not the content.
            while self._stopped.wait(QUIET_S) is False and self._changed.is_set():
                self._changed.clear()
            if not self._stopped.is_set():
                self._refresh()

    def _refresh(self) -> None:
        try:
            changed = regenerate(self.project)
        except ContentError as exc:
            log(f"the content in {self.project.content_dir} is invalid; the last good pages stay:")
            for problem in exc.problems:
                log(f"  {problem}")
            return
        except (GeneratorError, OSError) as exc:
            log(f"error: {exc}; the last good pages stay")
            return
        if changed:
            log(f"regenerated {', '.join(changed)}")


@contextmanager
def watching(project: Project) -> Iterator[None]:
    """While inside, a change to the content or a template renders docs/ again."""
    regenerator = _Regenerator(project)
    observer = Observer()
    for folder in (project.content_dir, TEMPLATES_DIR):
        observer.schedule(regenerator, str(folder), recursive=True)
    regenerator.thread.start()
    observer.start()
    try:
        yield
    finally:
        observer.stop()
        observer.join()
        regenerator.stop()


def serve_args(project: Project, dev_addr: str) -> list[str]:
    """`mkdocs serve`: it watches docs/ and mkdocs.yml, which is all it reads."""
    args = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", dev_addr]
    return [*args, "--config-file", str(project.config_file)]


def serve(project: Project, dev_addr: str) -> int:
    """Render, then preview while watching the content; the engine's exit code."""
    changed = regenerate(project)
    log(f"{len(changed)} pages changed in {project.docs_dir}; watching {project.content_dir}")
    with watching(project):
        proc = subprocess.run(
            serve_args(project, dev_addr), cwd=REPO_ROOT, env=mkdocs_env(project), check=False
        )
    return proc.returncode
