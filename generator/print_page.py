"""The whole guide on one page, for print and for the PDF (generator/pdf.py).

Every section of the source in its order, the algorithm (diagram, pathways,
text outline), where the source is silent, the references with their
provenance, the review status and the disclaimer, the source's date and the
edition. Citations link within the page: a printed or PDF copy stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from spine_hemangioma.markup import markdown_emphasis

from .markdown import UNIDENTIFIED, UNIDENTIFIED_MARK, PageMarkdown, attribute, escape

PRINT_PAGE = "print.md"
NAV_TITLE = "Whole guide (print)"


class PrintMarkdown(PageMarkdown):
    """Citations point at the references printed on the same page."""

    def cite(self, number: int) -> str:
        self.cited.add(number)
        ref = self.references[number]
        title = attribute(f"Reference {number}: {ref.provenance}")
        mark = UNIDENTIFIED_MARK if ref.provenance == UNIDENTIFIED else ""
        return f'[\\[{number}{mark}\\]](#ref-{number} "{title}"){{ .sh-print-cite }}'


@dataclass(frozen=True)
class PrintReference:
    number: int
    provenance: str
    provenance_note: str
    citation: str | None
    evidence: str


def print_page(site) -> tuple[str, str, dict]:
    """(path, template, context) of the whole-guide page; `site` is pages._Site."""
    # Both import this module (offline.py through pages.py).
    from generator.offline import read_edition  # noqa: PLC0415
    from generator.pages import PROVENANCE_NOTES  # noqa: PLC0415

    guide = site.guide
    pm = PrintMarkdown(PRINT_PAGE, {r.number: r for r in guide.references})
    base = site.base(pm, NAV_TITLE, escape(f"{guide.source.title}: the whole guide"))
    # The review status is printed on this page: the notice points there.
    base["notice"] = replace(base["notice"], about_url="#review-status")
    # Nested as on the article's pages; the anchors stay on those pages.
    sections = site.sections(pm, list(guide.sections), home=False)
    diagram = site.diagram
    edition = read_edition()
    context = {
        **base,
        "source": {  # Markdown, the date a date
            "question": escape(guide.source.question),
            "publisher": escape(guide.source.publisher),
            "updated": guide.source.updated,
            "audience": escape(guide.source.audience),
        },
        "edition": {"version": edition.version, "built": edition.built},
        "sections": tuple(sections),
        "diagram_svg": diagram.algorithm_svg() if diagram else None,
        "outline": diagram.text_outline() if diagram else None,
        "pathways": tuple(escape(p.title) for p in site.content.algorithm.pathways),
        "gaps": tuple(escape(g.text) for g in guide.gaps),
        "references": tuple(
            PrintReference(
                number=r.number,
                provenance=r.provenance,
                provenance_note=PROVENANCE_NOTES[r.provenance],
                citation=markdown_emphasis(r.citation) if r.citation else None,
                evidence=escape(r.evidence),
            )
            for r in guide.references
        ),
    }
    return PRINT_PAGE, "print.md.j2", context
