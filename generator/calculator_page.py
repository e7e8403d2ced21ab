"""The calculator's HTML: a form rendered at build time from the algorithm's
questions, so it shows (and can be filled) before Python is ready.

The page's JavaScript (calculator/web/) reads the data block written here;
see calculator/web/calculator.js for the contract.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from spine_hemangioma import engine
from spine_hemangioma.content import INLINE_CITATION, Content
from spine_hemangioma.engine import disclaimer
from spine_hemangioma.markup import plain_text

from .markdown import UNIDENTIFIED, UNIDENTIFIED_MARK, UNIDENTIFIED_NOTE, escape
from .render import TEMPLATES_DIR

# URL parameters the embed page reads itself; they are not answers.
EMBED_PARAMS = ("compact", "theme")


class CalculatorData(TypedDict):
    """The JSON data block; its JS reader is calculator.js (`data`)."""

    always_read: list[str]
    reads: dict[str, str]  # path id (node or leaf rule) -> field it reads
    references: dict[str, str]  # number -> citation, for link titles and the summary
    pathways: dict[str, str]  # pathway id -> title
    questions: dict[str, dict]  # field -> {label, options: {value: label}}
    disclaimer: str
    # Reference numbers the source prints no citation for and that could not
    # be identified: marked where cited (as on the pages), with what the mark means.
    unidentified: list[int]
    unidentified_mark: str
    unidentified_note: str


def calculator_data(content: Content, disclaimer: str) -> CalculatorData:
    """What the page script needs besides the evaluate_json answers."""
    alg, guide = content.algorithm, content.guide
    reads = {n.id: n.field for n in alg.nodes}
    reads |= {r.id: r.field for leaf in alg.leaves for r in leaf.rules}
    return CalculatorData(
        always_read=list(alg.always_read),
        reads=reads,
        references={
            str(r.number): plain_text(r.citation or f"Reference {r.number}: not identified")
            for r in guide.references
        },
        pathways={p.id: plain_text(p.title) for p in alg.pathways},
        questions={
            q.id: {
                "label": plain_text(q.label),
                "options": {o.value: plain_text(o.label) for o in q.options},
            }
            for q in alg.questions
        },
        disclaimer=disclaimer,
        unidentified=[r.number for r in guide.references if r.provenance == UNIDENTIFIED],
        unidentified_mark=UNIDENTIFIED_MARK,
        unidentified_note=UNIDENTIFIED_NOTE,
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
    diagram_svg: str | None,
    path_svgs: dict[str, str] | None = None,
    extra_params: tuple[str, ...] = (),
    embed: bool = False,
) -> str:
    """The form, status, result and diagrams, as one HTML block.

    `path_svgs` (pathway id -> SVG) are the per-pathway diagrams shown under
    the result; `embed` lays it out for an iframe and opens its links in a new
    tab (a link must never replace the calculator in its frame).
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = env.get_template("calculator_widget.html.j2").render(
        pyodide=pyodide,
        extra_params=" ".join(extra_params),
        data_json=_json_for_script(calculator_data(content, disclaimer)),
        questions=content.algorithm.questions,
        always_read=content.algorithm.always_read,
        diagram_svg=diagram_svg,
        path_svgs=path_svgs or {},
        embed=embed,
    )
    # One Markdown block: no blank line may end it early.
    return "\n".join(line for line in html.splitlines() if line.strip())


# --- The pages that carry the calculator ------------------------------------------

CALCULATOR_PAGE = "calculator/index.md"
EMBED_PAGE = "embed/index.md"
EMBEDDING_PAGE = "embedding.md"
CASES_PAGE = "cases.md"
# The public conformance cases (a copy of ../shared/spec/cases.json, kept in
# the repo; a test checks the two agree). They drive the tests and the
# "Worked cases" page alike.
CASES_FILE = Path(__file__).resolve().parent.parent / "calculator" / "cases.json"


class CalculatorContext(TypedDict):
    nav_title: str
    description: str
    title: str
    notice: object
    widget: str
    links: dict[str, str]
    scripts: list[str]
    styles: list[str]


class CaseView(TypedDict):
    name: str
    answers: list[tuple[str, str]]  # (question label, answer label)
    title: str
    urgency: str
    why: list[str]  # "question: answer" along the path
    steps: list[str]  # Markdown with citations
    evidence: list[str]  # the figures behind the pathway, Markdown with citations
    alternatives: list[str]  # "title: text" with citations
    warnings: list[str]  # the pitfalls that apply, with citations
    outcomes: list[str]  # expected outcomes, with citations
    gaps: list[str]  # what the source does not say for this presentation
    url: str  # the calculator, pre-filled


def _calculator_context(
    site, pm, nav_title: str, title: str, *, embed: bool, extra_params: tuple[str, ...] = ()
) -> CalculatorContext:
    """What the calculator and embed pages share: the widget, links and assets.
    The embed shows the path's diagram only, and opens its links in a new tab."""
    pathways = site.content.algorithm.pathways
    paths = {p.id: site.diagram.path_svg(p.id) for p in pathways} if site.diagram else None
    widget = widget_html(
        site.content,
        disclaimer=disclaimer(site.guide.source),
        pyodide=pm.link("pyodide/").rstrip("/") + "/",
        diagram_svg=site.diagram.algorithm_svg() if site.diagram and not embed else None,
        path_svgs=paths,
        extra_params=extra_params,
        embed=embed,
    )
    return CalculatorContext(
        **site.base(pm, nav_title, title),
        widget=widget,
        links=_links(pm),
        scripts=[pm.link(f"assets/calculator/{n}") for n in ("loader.js", "calculator.js")],
        styles=[pm.link("assets/calculator/calculator.css")],
    )


def calculator_page(site) -> tuple[str, str, CalculatorContext]:
    """The calculator, a page of the guide."""
    pm = site.page(CALCULATOR_PAGE)
    context = _calculator_context(site, pm, "Calculator", "Calculator: which pathway?", embed=False)
    return pm.path, "calculator.md.j2", context


def embed_page(site) -> tuple[str, str, CalculatorContext]:
    """The calculator alone, for an iframe in a course page; its template
    (generator/theme/embed.html) loads its own scripts and styles."""
    pm = site.page(EMBED_PAGE)
    title = "Spine hemangioma pathway calculator"
    context = _calculator_context(
        site, pm, "Calculator (embed)", title, embed=True, extra_params=EMBED_PARAMS
    )
    return pm.path, "embed.md.j2", context


def _links(pm) -> dict[str, str]:
    return {
        "home": pm.link("index.md"),
        "algorithm": pm.link("algorithm.md"),
        "references": pm.link("references.md"),
        "about": pm.link("about.md"),
        "cases": pm.link(CASES_PAGE),
        "embedding": pm.link(EMBEDDING_PAGE),
    }


def load_cases(path: Path = CASES_FILE) -> list[dict]:
    """The conformance cases that have a complete expected result."""
    with path.open(encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    return [c for c in cases if c["expect"].get("status") == "complete"]


def cases_page(site) -> tuple[str, str, dict]:
    """Worked cases: each public case (cases.json) as a vignette, its pathway and why."""
    pm = site.page(CASES_PAGE)
    tree = engine.Tree.of(site.content)
    questions = site.content.algorithm.question_index
    elements = tree.elements
    views = []
    for case in load_cases():
        answers = case["answers"]
        result = engine.evaluate(tree, answers)

        def label(field: str, value: str) -> tuple[str, str]:
            q = questions[field]
            return escape(q.label), escape(next(o.label for o in q.options if o.value == value))

        why = [
            "{}: {}".format(*label(elements[i].field, answers[elements[i].field]))
            for i in result["path"]
            if i in elements and hasattr(elements[i], "field")
        ]
        query = "&".join(f"{k}={v}" for k, v in answers.items())
        views.append(
            CaseView(
                name=escape(case["name"][:1].upper() + case["name"][1:]),
                answers=[label(k, v) for k, v in answers.items()],
                title=escape(result["title"]),
                urgency=result["urgency"],
                why=why,
                steps=[pm.text(s["text"]) + _cites(pm, s) for s in result["steps"]],
                evidence=[pm.text(s["text"]) + _cites(pm, s) for s in result["evidence"]],
                alternatives=[
                    f"**{escape(a['title'])}**"
                    + (": " + pm.text(a["text"]) if a["text"] else "")
                    + _cites(pm, a)
                    for a in result["alternatives"]
                ],
                warnings=[pm.text(w["text"]) + _cites(pm, w) for w in result["warnings"]],
                outcomes=[pm.text(o["text"]) + _cites(pm, o) for o in result["outcomes"]],
                gaps=[escape(g["text"]) for g in result["gaps"]],
                url=f"{pm.link(CALCULATOR_PAGE)}?{query}",
            )
        )
    context = {
        **site.base(pm, "Worked cases", "Worked cases"),
        "cases": views,
        "links": _links(pm),
    }
    site.record(pm, "Worked cases")
    return pm.path, "cases.md.j2", context


def _cites(pm, item: dict) -> str:
    """Trailing citation links for a result item (inline markers already linked)."""
    inline = {int(n) for m in INLINE_CITATION.findall(item["text"]) for n in m.split(",")}
    rest = [n for n in item["refs"] if n not in inline]
    return (" " + "".join(pm.cite(n) for n in rest)) if rest else ""


EMBED_HEIGHT = 900


# `SITE_URL=https://... make site` publishes the guide at its real address:
# mkdocs.yml reads it too (`site_url: !ENV [SITE_URL, ...]`), for the
# canonical links and the sitemap, so they and the snippet always agree.
SITE_URL_ENV = "SITE_URL"
_CONFIG_SITE_URL = re.compile(
    r"""^site_url:\s*(?:!ENV\s*\[\s*\w+\s*,\s*)?["']?([^\s"'\]]+)""", re.MULTILINE
)
_VALID_SITE_URL = re.compile(r"https?://[^\s/?#\"'<>`]+(/[^\s?#\"'<>`]*)?")


def site_url(config_file: Path) -> str:
    """The published address the embed snippet points at: $SITE_URL when set,
    else mkdocs.yml's site_url (its default); always ends in "/"."""
    value = os.environ.get(SITE_URL_ENV, "").strip()
    origin = f"${SITE_URL_ENV}"
    if not value:
        match = _CONFIG_SITE_URL.search(config_file.read_text(encoding="utf-8"))
        value, origin = (match.group(1) if match else "https://example.org/"), config_file.name
    if not _VALID_SITE_URL.fullmatch(value):
        from .pages import GeneratorError  # noqa: PLC0415 (pages.py imports this module)

        raise GeneratorError(
            f"{origin}: expected the guide's published address, an http(s) URL such as"
            f" https://example.org/spine-hemangioma/ (no query, fragment, quotes or spaces),"
            f" got {value[:80]!r}"
        )
    return value.rstrip("/") + "/"


def embedding_page(site, config_file: Path) -> tuple[str, str, dict]:
    """The guide page that gives instructors the iframe snippet and its options."""
    pm = site.page(EMBEDDING_PAGE)
    base = site_url(config_file)
    title = "Spine hemangioma pathway calculator"
    snippet = (
        f'<iframe data-spine-hemangioma src="{base}embed/" title="{title}"'
        f' width="100%" height="{EMBED_HEIGHT}" style="border:0" loading="lazy"'
        ' allow="clipboard-write"></iframe>\n'
        f'<script src="{base}assets/calculator/embed-host.js" defer></script>'
    )
    context = {
        **site.base(pm, "Embed the calculator", "Embed the calculator in your course"),
        "snippet": snippet,
        "site_url": base,
        "height": EMBED_HEIGHT,
        "questions": [
            {"id": q.id, "label": escape(q.label), "options": q.options}  # ids: checked slugs
            for q in site.content.algorithm.questions
        ],
    }
    return pm.path, "embedding.md.j2", context
