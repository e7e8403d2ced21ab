"""The Jinja2 environment: Markdown templates, strict about missing variables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).parent / "templates"


def long_date(day: date) -> str:
    """7 December 2025: the day first, as the guide writes dates."""
    return f"{day.day} {day:%B %Y}"


def environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Templates emit Markdown, so no HTML autoescaping: values are escaped by
    generator.markdown before they reach a template."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = long_date
    return env


def render(env: Environment, template: str, context: Mapping[str, object]) -> str:
    """One page's Markdown; runs of blank lines collapsed so output is tidy."""
    text = env.get_template(template).render(**context)
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n") + "\n"
