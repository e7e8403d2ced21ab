"""The calculator's HTML: a form rendered at build time from the algorithm's
questions, so it shows (and can be filled) before Python is ready.

The page's JavaScript (calculator/web/) reads the data block written here;
see calculator/web/calculator.js for the contract.
"""

from __future__ import annotations

import json
from typing import TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from spine_hemangioma.content import Content

from .render import TEMPLATES_DIR

# URL parameters the embed page reads itself; they are not answers.
EMBED_PARAMS = ("compact", "theme")
# Pyodide starts in ~3 s from a local disk or server; the bound leaves room
# for a slow connection before the page gives up and says so.
LOAD_TIMEOUT_MS = 45000


class CalculatorData(TypedDict):
    """The JSON data block; its JS reader is calculator.js (`data`)."""

    always_read: list[str]
    reads: dict[str, str]  # path id (node or leaf rule) -> field it reads
    references: dict[str, str]  # number -> citation, for link titles and the summary
    pathways: dict[str, str]  # pathway id -> title
    questions: dict[str, dict]  # field -> {label, options: {value: label}}
    disclaimer: str


def calculator_data(content: Content, disclaimer: str) -> CalculatorData:
    """What the page script needs besides the evaluate_json answers."""
    alg, guide = content.algorithm, content.guide
    reads = {n.id: n.field for n in alg.nodes}
    reads |= {r.id: r.field for leaf in alg.leaves for r in leaf.rules}
    return CalculatorData(
        always_read=list(alg.always_read),
        reads=reads,
        references={
            str(r.number): r.citation or f"Reference {r.number}: not identified"
            for r in guide.references
        },
        pathways={p.id: p.title for p in alg.pathways},
        questions={
            q.id: {"label": q.label, "options": {o.value: o.label for o in q.options}}
            for q in alg.questions
        },
        disclaimer=disclaimer,
    )


def _json_for_script(data: object) -> str:
    """JSON that cannot close its <script> element."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def widget_html(
    content: Content,
    *,
    disclaimer: str,
    pyodide: str,
    algorithm_url: str,
    diagram_svg: str | None,
    extra_params: tuple[str, ...] = (),
) -> str:
    """The form, status, result and diagram, as one HTML block."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = env.get_template("calculator_widget.html.j2").render(
        pyodide=pyodide,
        timeout_ms=LOAD_TIMEOUT_MS,
        extra_params=" ".join(extra_params),
        data_json=_json_for_script(calculator_data(content, disclaimer)),
        questions=content.algorithm.questions,
        always_read=content.algorithm.always_read,
        diagram_svg=diagram_svg,
        algorithm_url=algorithm_url,
    )
    # One Markdown block: no blank line may end it early.
    return "\n".join(line for line in html.splitlines() if line.strip())
