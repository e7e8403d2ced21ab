"""Command line: `python -m generator build` and `python -m generator serve`.

The only place where an exception becomes a message and an exit code:
0 built, 1 the build failed, 2 the content is invalid (nothing written),
130 interrupted (Ctrl-C; the previous site/ left as it was).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from spine_hemangioma.content import ContentError

from .build import build
from .calculator_page import site_url
from .context import CONTENT_ENV, Project, log
from .pages import GeneratorError
from .serve import serve
from .zensical import build_with_zensical

EXIT_FAILED = 1
EXIT_INVALID_CONTENT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    default_content = os.environ.get(CONTENT_ENV)
    for name, help_text in (
        ("build", "render the pages into docs/ and build site/ (mkdocs build --strict)"),
        ("serve", "preview with mkdocs serve; pages regenerate when the content changes"),
        ("zensical", "render the pages into docs/ and build site-zensical/ with Zensical"),
    ):
        cmd = commands.add_parser(name, help=help_text)
        cmd.add_argument(
            "--content",
            type=Path,
            default=Path(default_content) if default_content else Project.content_dir,
            metavar="DIR",
            help=f"folder holding guide.toml and algorithm.toml (env {CONTENT_ENV})",
        )
    commands.choices["build"].add_argument(
        "--site-dir", type=Path, default=Project.site_dir, metavar="DIR", help="output folder"
    )
    commands.choices["serve"].add_argument(
        "--dev-addr", default="127.0.0.1:8000", metavar="HOST:PORT", help="address to serve on"
    )
    return parser


def _report_invalid(exc: ContentError, content_dir: Path) -> int:
    print(
        f"generator: error: the content in {content_dir} is invalid"
        f" ({len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}); nothing written",
        file=sys.stderr,
    )
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return EXIT_INVALID_CONTENT


def _site_path(project: Project) -> str:
    """The path mkdocs serves under: that of `site_url` (e.g. /spine-hemangioma/)."""
    # $SITE_URL or mkdocs.yml's default, as the build reads it.
    return urlsplit(site_url(project.config_file)).path


def _serve(project: Project, dev_addr: str) -> int:
    log(f"serving on http://{dev_addr}{_site_path(project)}; edit {project.content_dir} and see")
    try:
        # Renders first: a broken file fails now with every problem listed.
        return serve(project, dev_addr)
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    project = Project(content_dir=args.content.resolve())
    try:
        if args.command == "serve":
            return _serve(project, args.dev_addr)
        if args.command == "zensical":
            build_with_zensical(project)
            return 0
        build(Project(content_dir=project.content_dir, site_dir=args.site_dir.resolve()))
    except ContentError as exc:
        return _report_invalid(exc, project.content_dir)
    except (GeneratorError, OSError) as exc:
        print(f"generator: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        site = getattr(args, "site_dir", Project.site_dir)
        print(f"generator: interrupted; {site} left as it was", file=sys.stderr)
        return EXIT_INTERRUPTED
    log("next: `make serve` to preview, or open site/index.html through a web server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
