"""The site's pages: which content goes on which page, as typed template contexts."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypedDict

import spine_hemangioma
from spine_hemangioma.content import Content, Guide, Section, Statement
from spine_hemangioma.markup import html_text, markdown_emphasis, one_line

from .calculator_page import (
    calculator_page,
    cases_page,
    embed_page,
    embedding_page,
)
from .editions import CitationView, DownloadView, citation_view, downloads_view
from .markdown import (
    GAP_LINE,
    REFERENCES_PAGE,
    UNCITED,
    UNIDENTIFIED_NOTE,
    PageMarkdown,
    anchor,
    attribute,
    escape,
)
from .print_page import print_page
from .render import environment, long_date, render

DIAGRAM_MODULE = "spine_hemangioma.diagram"
CONFIG_FILE = Path(__file__).resolve().parent.parent / "mkdocs.yml"
ABBREVIATIONS_FILE = "includes/abbreviations.md"

# Fixed article sections with a page of their own; every other section that
# is not a step of the algorithm goes to the clinical context page, in order.
HOME_SECTIONS = ("key-recommendation",)
PITFALLS_SECTIONS = ("pitfalls",)
OUTCOMES_SECTIONS = ("outcomes",)
# The section whose subsections are the algorithm's steps (the algorithm page).
ALGORITHM_SECTION = "management-algorithm"

# A treatment page's roles, in page order, with their headings.
ROLE_HEADINGS = {
    "indication": "When it is indicated",
    "technique": "How it is done",
    "evidence": "Evidence",
    "outcomes": "Expected outcomes",
    "complications": "Complications",
    "pitfalls": "Pitfalls",
}

# What each provenance level means, in the guide's words (references.md).
PROVENANCE_NOTES = {
    "given": "Citation as the source prints it.",
    "identified": (
        "The source prints no citation; this paper was matched because every figure"
        " the source attributes to this number appears in its abstract."
    ),
    "not identified": (
        "The source prints no citation and no paper could be matched. Nothing is guessed."
    ),
}


class GeneratorError(Exception):
    """The pages cannot be produced from valid content; the message says why."""


# --- Views: content already turned into Markdown --------------------------------


@dataclass(frozen=True)
class SectionView:
    heading: str  # Markdown; "" for statements directly under the page title or a lead-in
    level: int  # Markdown heading level
    statements: tuple[str, ...]
    lead: str | None = None
    intro: str | None = None  # a lead-in sentence before the list (a section with no heading)


@dataclass(frozen=True)
class RoleView:
    heading: str
    statements: tuple[str, ...]  # empty: the template writes the gap line


@dataclass(frozen=True)
class LinkView:
    title: str
    url: str


@dataclass(frozen=True)
class GapView:
    id: str
    text: str
    url: str  # the gap on the gaps page
    see: tuple[tuple[str, str], ...]  # (statement Markdown, link to where it is shown)


@dataclass(frozen=True)
class ReferenceView:
    number: int
    provenance: str
    provenance_note: str
    citation: str | None  # Markdown as in the data (may carry *italics*)
    evidence: str
    cited_on: tuple[LinkView, ...]


@dataclass(frozen=True)
class PathwayView:
    title: str
    treatment: LinkView | None
    svg: str | None


@dataclass(frozen=True)
class Notice:
    """The source's warning, review status and disclaimer: shown on every page."""

    text: str
    updated: str  # the source's date, "7 December 2025"
    review_status: str
    review_stages: tuple[str, ...]
    unidentified_note: str  # what the † after a reference number means
    disclaimer_title: str
    disclaimer: str
    about_url: str


# --- Template contexts ----------------------------------------------------------


class BaseContext(TypedDict):
    nav_title: str  # front-matter title: the navigation and the browser tab
    description: str
    title: str  # the page's H1, Markdown
    notice: Notice


class HomeContext(BaseContext):
    answer: tuple[str, ...]
    audience: str
    links: dict[str, str]  # page key -> relative URL
    downloads: list[DownloadView]  # _downloads.md.j2


class ArticleContext(BaseContext):
    sections: tuple[SectionView, ...]


class AlgorithmContext(ArticleContext):
    diagram_svg: str | None  # from spine_hemangioma.diagram, when that module exists
    outline: str | None
    pathways: tuple[PathwayView, ...]


class TreatmentIndexContext(BaseContext):
    treatments: tuple[LinkView, ...]


class TreatmentContext(BaseContext):
    roles: tuple[RoleView, ...]
    gap_line: str
    gaps: tuple[GapView, ...]
    pathways: tuple[PathwayView, ...]


class GapsContext(BaseContext):
    gaps: tuple[GapView, ...]


class ReferencesContext(BaseContext):
    references: tuple[ReferenceView, ...]
    given: int  # how many citations the source prints itself


class AboutContext(BaseContext):
    question: str
    publisher: str
    updated: object  # datetime.date; the template formats it
    audience: str
    links: dict[str, str]
    downloads: list[DownloadView]  # _downloads.md.j2
    cite: CitationView  # _cite.md.j2


class AbbreviationsContext(TypedDict):
    abbreviations: tuple[tuple[str, str], ...]


# --- The diagram (a colleague's module; optional until it exists) ----------------


class DiagramModule(Protocol):
    def algorithm_svg(self) -> str: ...
    def path_svg(self, pathway_id: str) -> str: ...
    def text_outline(self) -> str: ...


DIAGRAM_API = ("algorithm_svg", "path_svg", "text_outline")


def load_diagram() -> DiagramModule | None:
    """spine_hemangioma.diagram if it is installed; the pages leave the diagram out otherwise."""
    if importlib.util.find_spec(DIAGRAM_MODULE) is None:
        return None
    module = importlib.import_module(DIAGRAM_MODULE)
    missing = [name for name in DIAGRAM_API if not callable(getattr(module, name, None))]
    if missing:
        raise GeneratorError(
            f"{DIAGRAM_MODULE} ({module.__file__}) lacks"
            f" {', '.join(f'{name}()' for name in missing)}, which the pages call"
        )
    return module  # type: ignore[return-value]


# --- Building the pages ------------------------------------------------------------


@dataclass
class _Site:
    """Shared state while pages are built: where each statement is shown, who cites what."""

    content: Content
    diagram: DiagramModule | None
    home_of: dict[str, str] = field(default_factory=dict)  # statement id -> page path
    cited_on: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # n -> pages

    @property
    def guide(self) -> Guide:
        return self.content.guide

    def page(self, path: str) -> PageMarkdown:
        return PageMarkdown(path, {r.number: r for r in self.guide.references})

    def base(self, pm: PageMarkdown, nav_title: str, title: str) -> BaseContext:
        src = self.guide.source
        notice = Notice(
            text=attribute(src.notice),
            updated=long_date(src.updated),
            review_status=escape(src.review_status),
            unidentified_note=escape(UNIDENTIFIED_NOTE),
            review_stages=tuple(escape(s) for s in src.review_stages),
            disclaimer_title=attribute(src.disclaimer_title),
            disclaimer=escape(src.disclaimer),
            about_url=pm.link("about.md#review-status"),
        )
        # Front matter: the theme writes these into the page as HTML, unescaped.
        return BaseContext(
            nav_title=html_text(nav_title),
            description=html_text(src.question),
            title=title,
            notice=notice,
        )

    def sections(
        self, pm: PageMarkdown, sections: list[Section], top: int = 0, *, home: bool = True
    ) -> tuple[SectionView, ...]:
        """Article sections nested as the article nests them: a section `top` deep is an H2.
        `home=False`: a copy of statements shown on their own pages (no anchors)."""
        views = []
        show = self.shown if home else lambda pm, st: pm.statement(st)
        for sec in sections:
            shown = tuple(show(pm, st) for st in sec.statements)
            intro, shown = (shown[0], shown[1:]) if sec.lead_in and shown else (None, shown)
            views.append(
                SectionView(
                    heading=escape(sec.heading) if sec.heading else "",
                    level=2 + _depth(self.guide, sec) - top,
                    statements=shown,
                    lead=_lead(sec),
                    intro=intro,
                )
            )
        return tuple(views)

    def shown(self, pm: PageMarkdown, st: Statement) -> str:
        """A statement on the page that is its home (the article's order), with its anchor."""
        self.home_of[st.id] = pm.path
        return pm.statement(st, anchored=True)

    def pathway(self, pm: PageMarkdown, pathway_id: str) -> PathwayView:
        pathway = self.content.algorithm.pathway_index[pathway_id]
        # The most specific page: of the treatments that cover it, the one covering fewest.
        covering = [t for t in self.guide.treatments if pathway_id in t.pathways]
        treatment = min(covering, key=lambda t: len(t.pathways), default=None)
        link = (
            LinkView(escape(treatment.title), pm.link(f"treatments/{treatment.id}.md"))
            if treatment and pm.path != f"treatments/{treatment.id}.md"
            else None
        )
        svg = self.diagram.path_svg(pathway_id) if self.diagram else None
        return PathwayView(escape(pathway.title), link, svg)

    def gap(self, pm: PageMarkdown, gap_id: str, *, see: bool = True) -> GapView:
        """A gap; with `see`, the statements it rests on (cited on this page)."""
        gap = self.guide.gap_index[gap_id]
        statements = self.guide.statements
        rests_on = tuple(
            (pm.statement(statements[s]), pm.link(f"{self.home_of[s]}#{anchor(s)}"))
            for s in (gap.see if see else ())
        )
        return GapView(gap.id, escape(gap.text), pm.link(f"gaps.md#gap-{gap.id}"), rests_on)

    def record(self, pm: PageMarkdown, nav_title: str) -> None:
        for n in sorted(pm.cited):
            self.cited_on.setdefault(n, []).append((nav_title, pm.path))


def _sections_where(guide: Guide, keep: Callable[[Section], bool]) -> list[Section]:
    return [sec for sec in guide.sections if keep(sec)]


def _ancestry(guide: Guide, sec: Section) -> list[Section]:
    """The section and the sections it sits under, innermost first."""
    by_id = {s.id: s for s in guide.sections}
    chain = [sec]
    while chain[-1].parent is not None:
        chain.append(by_id[chain[-1].parent])
    return chain


def _depth(guide: Guide, sec: Section) -> int:
    return len(_ancestry(guide, sec)) - 1


def _in_algorithm(guide: Guide, sec: Section) -> bool:
    return _ancestry(guide, sec)[-1].id == ALGORITHM_SECTION


def _fixed(guide: Guide, sec: Section) -> bool:
    own_page = HOME_SECTIONS + PITFALLS_SECTIONS + OUTCOMES_SECTIONS
    return sec.id in own_page or _in_algorithm(guide, sec)


def _lead(sec: Section) -> str | None:
    """The article's connecting sentence; it prints no reference number for it."""
    if not sec.lead:
        return None
    return f'{escape(sec.lead)} <span class="sh-uncited">({UNCITED})</span>'


def _home(site: _Site) -> tuple[str, str, HomeContext]:
    pm = site.page("index.md")
    guide = site.guide
    answer = tuple(
        site.shown(pm, st)
        for sec in _sections_where(guide, lambda s: s.id in HOME_SECTIONS)
        for st in sec.statements
    )
    links = {
        key: pm.link(path)
        for key, path in {
            "context": "clinical-context.md",
            "treatments": "treatments/index.md",
            "algorithm": "algorithm.md",
            "calculator": "calculator/index.md",
            "cases": "cases.md",
            "pitfalls": "pitfalls.md",
            "outcomes": "outcomes.md",
            "gaps": "gaps.md",
            "references": REFERENCES_PAGE,
            "about": "about.md",
        }.items()
    }
    context = HomeContext(
        **site.base(pm, "Home", escape(guide.source.title)),
        answer=answer,
        audience=escape(guide.source.audience),
        links=links,
        downloads=downloads_view(),
    )
    site.record(pm, "Home")
    return pm.path, "home.md.j2", context


def _article(
    site: _Site, path: str, nav_title: str, sections: list[Section]
) -> tuple[PageMarkdown, ArticleContext]:
    """A page made of article sections; the first section's heading is the page title."""
    if not sections:
        raise GeneratorError(f"{path}: no section of guide.toml belongs on this page")
    pm = site.page(path)
    first, rest = sections[0], sections[1:]
    # The first section's heading is the page's title; its statements open the page.
    intro = SectionView(
        "",
        2,
        tuple(site.shown(pm, st) for st in first.statements),
        _lead(first),
    )
    # Sections under the first one (the algorithm's steps) are the page's H2s.
    top = _depth(site.guide, first) + any(s.parent == first.id for s in rest)
    title, views = escape(first.heading or ""), (intro, *site.sections(pm, rest, top))
    context = ArticleContext(**site.base(pm, nav_title, title), sections=views)
    return pm, context


def _plain_article(
    site: _Site, path: str, nav_title: str, sections: list[Section]
) -> tuple[str, str, ArticleContext]:
    pm, context = _article(site, path, nav_title, sections)
    site.record(pm, nav_title)
    return path, "article.md.j2", context


def _algorithm(site: _Site) -> tuple[str, str, AlgorithmContext]:
    steps = _sections_where(site.guide, lambda s: _in_algorithm(site.guide, s))
    pm, article = _article(site, "algorithm.md", "Management algorithm", steps)
    diagram = site.diagram
    context = AlgorithmContext(
        **article,
        diagram_svg=diagram.algorithm_svg() if diagram else None,
        outline=diagram.text_outline() if diagram else None,
        pathways=tuple(site.pathway(pm, p.id) for p in site.content.algorithm.pathways),
    )
    site.record(pm, "Management algorithm")
    return pm.path, "algorithm.md.j2", context


def _treatment_index(site: _Site) -> tuple[str, str, TreatmentIndexContext]:
    pm = site.page("treatments/index.md")
    links = tuple(
        LinkView(escape(t.title), pm.link(f"treatments/{t.id}.md")) for t in site.guide.treatments
    )
    context = TreatmentIndexContext(
        **site.base(pm, "Treatment options", "Treatment options"), treatments=links
    )
    return pm.path, "treatment_index.md.j2", context


def _treatment(site: _Site, index: int) -> tuple[str, str, TreatmentContext]:
    treatment = site.guide.treatments[index]
    pm = site.page(f"treatments/{treatment.id}.md")
    guide = site.guide

    def line(statement_id: str) -> str:
        # Away from its section, a statement keeps the article's condition.
        text = pm.statement(guide.statements[statement_id])
        condition = guide.condition_of(statement_id)
        return f"*{escape(condition)}:* {text}" if condition else text

    roles = tuple(
        RoleView(heading, tuple(line(s) for s in getattr(treatment, role)))
        for role, heading in ROLE_HEADINGS.items()
    )
    # The gaps that concern it: those of the algorithm's leaves that end in its
    # pathways, and those the treatment names (`gaps`).
    concern = set(treatment.gaps) | {
        g
        for leaf in site.content.algorithm.leaves
        if leaf.pathway in treatment.pathways
        for g in (*leaf.gaps, *(r.add_gap for r in leaf.rules if r.add_gap))
    }
    gaps = tuple(  # each links to the gaps page, which shows what it rests on
        site.gap(pm, g.id, see=False) for g in guide.gaps if g.id in concern
    )
    context = TreatmentContext(
        **site.base(pm, treatment.title, escape(treatment.title)),
        roles=roles,
        gap_line=GAP_LINE,
        gaps=gaps,
        pathways=tuple(site.pathway(pm, p) for p in treatment.pathways),
    )
    site.record(pm, treatment.title)
    return pm.path, "treatment.md.j2", context


def _gaps(site: _Site) -> tuple[str, str, GapsContext]:
    pm = site.page("gaps.md")
    title = "Where the source is silent"
    context = GapsContext(
        **site.base(pm, title, title), gaps=tuple(site.gap(pm, g.id) for g in site.guide.gaps)
    )
    site.record(pm, title)
    return pm.path, "gaps.md.j2", context


def _references(site: _Site) -> tuple[str, str, ReferencesContext]:
    """Built last: "cited on" lists every page built before it that links a reference."""
    pm = site.page(REFERENCES_PAGE)
    views = tuple(
        ReferenceView(
            number=ref.number,
            provenance=ref.provenance,
            provenance_note=PROVENANCE_NOTES[ref.provenance],
            citation=markdown_emphasis(ref.citation) if ref.citation else None,
            evidence=escape(ref.evidence),
            cited_on=tuple(
                LinkView(escape(title), pm.link(path))
                for title, path in site.cited_on.get(ref.number, [])
            ),
        )
        for ref in site.guide.references
    )
    context = ReferencesContext(
        **site.base(pm, "References", "References"),
        references=views,
        given=sum(r.provenance == "given" for r in site.guide.references),
    )
    return pm.path, "references.md.j2", context


def _about(site: _Site) -> tuple[str, str, AboutContext]:
    pm = site.page("about.md")
    src = site.guide.source
    context = AboutContext(
        **site.base(pm, "About", "About this guide"),
        question=escape(src.question),
        publisher=escape(src.publisher),
        updated=src.updated,
        audience=escape(src.audience),
        links={"references": pm.link(REFERENCES_PAGE), "gaps": pm.link("gaps.md")},
        downloads=downloads_view(),
        cite=citation_view(src),
    )
    return pm.path, "about.md.j2", context


def _abbreviations(guide: Guide) -> tuple[str, str, AbbreviationsContext]:
    # `*[term]: expansion`: the expansion becomes a title attribute, one line of text.
    terms = tuple((a.term, one_line(a.expansion)) for a in guide.abbreviations)
    return ABBREVIATIONS_FILE, "abbreviations.md.j2", AbbreviationsContext(abbreviations=terms)


def _check_every_statement_shown(site: _Site) -> None:
    missing = [s for s in site.guide.statements if s not in site.home_of]
    if missing:
        raise GeneratorError(f"statements on no page: {', '.join(missing)}")


def page_contexts(
    content: Content, diagram: DiagramModule | None
) -> list[tuple[str, str, Mapping[str, object]]]:
    """(path under docs/, template, context) for every generated file, in site order."""
    site = _Site(content, diagram)
    guide = content.guide
    pages: list[tuple[str, str, Mapping[str, object]]] = [
        _home(site),
        _plain_article(
            site,
            "clinical-context.md",
            "Clinical context",
            _sections_where(guide, lambda s: not _fixed(guide, s)),
        ),
        _algorithm(site),
        _plain_article(
            site,
            "pitfalls.md",
            "Pitfalls",
            _sections_where(guide, lambda s: s.id in PITFALLS_SECTIONS),
        ),
        _plain_article(
            site,
            "outcomes.md",
            "Expected outcomes",
            _sections_where(guide, lambda s: s.id in OUTCOMES_SECTIONS),
        ),
    ]
    _check_every_statement_shown(site)
    # Pages below link to the statements' home pages, so they come after them.
    pages.append(_treatment_index(site))
    pages.extend(_treatment(site, i) for i in range(len(guide.treatments)))
    # The calculator's pages cite through the pages above, so they come last
    # but before the references page, which lists where each reference is cited.
    pages += [
        calculator_page(site),
        cases_page(site),
        embedding_page(site, CONFIG_FILE),
        embed_page(site),
        _gaps(site),
        _references(site),
        _about(site),
        print_page(site),
        _abbreviations(guide),
    ]
    return pages


def render_pages(content: Content, diagram: DiagramModule | None = None) -> dict[str, str]:
    """Every generated file's path under docs/ and its Markdown."""
    env = environment()
    # The diagram module draws the package's tree(): inside `using`, that is this
    # content's, so `--content DIR` changes the diagram with the pages.
    with spine_hemangioma.using(content):
        return {
            path: render(env, template, context)
            for path, template, context in page_contexts(content, diagram)
        }
