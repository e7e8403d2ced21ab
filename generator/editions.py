"""What an edition publishes and how to cite it, for the home and About pages.

The downloads (templates/_downloads.md.j2): the PDF, the offline zip and the
SCORM package of this edition, each with its file name and what it is for;
their links and sizes are filled in once the files are built
(generator/downloads.py). The citation (templates/_cite.md.j2): title,
edition, date and address; CITATION.cff at the repository's root says the
same (tests/test_citation.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from spine_hemangioma.markup import markdown_text

from .render import long_date

if TYPE_CHECKING:
    from .offline import Edition


@dataclass(frozen=True)
class Download:
    key: str  # "offline", "pdf" or "scorm": the entry's data-sh-download
    label: str
    filename: str
    what: str  # one sentence: who it is for, how to use it
    media_type: str


def downloads(edition: Edition) -> tuple[Download, ...]:
    """The three files of this edition, in the order the pages list them."""
    from .offline import NAME  # noqa: PLC0415 (offline.py imports pages.py, as this does)

    version = edition.version
    return (
        Download(
            "pdf",
            "The whole guide as a PDF",
            f"{NAME}-{version}.pdf",
            "To print or read anywhere: every section, the algorithm, the references"
            " with their provenance and the disclaimer.",
            "application/pdf",
        ),
        Download(
            "offline",
            "Offline edition",
            f"{NAME}-{version}-offline.zip",
            "The whole site with its calculator, for a computer without internet:"
            " unpack the zip and open index.html.",
            "application/zip",
        ),
        Download(
            "scorm",
            "SCORM 1.2 package for a learning management system",
            f"{NAME}-{version}-scorm12.zip",
            "Upload it as a SCORM package (Moodle, Canvas, Blackboard and others):"
            " the calculator opens, with the whole guide, and a first complete"
            " result marks the activity completed.",
            "application/zip",
        ),
    )


class DownloadView(TypedDict):
    """One entry as _downloads.md.j2 reads it; its size and link come later."""

    key: str
    label: str
    filename: str
    what: str
    edition: str  # "version 0.1.0, built 7 December 2025"


def downloads_view() -> list[DownloadView]:
    """The entries as _downloads.md.j2 reads them."""
    from .offline import read_edition  # noqa: PLC0415

    edition = read_edition()
    line = f"version {edition.version}, built {long_date(edition.built)}"
    return [
        DownloadView(key=d.key, label=d.label, filename=d.filename, what=d.what, edition=line)
        for d in downloads(edition)
    ]


# --- How to cite ------------------------------------------------------------------

GUIDE_TITLE = "Symptomatic spine hemangiomas: an educational guide"


class CitationView(TypedDict):
    """What _cite.md.j2 prints (Markdown-safe plain text)."""

    title: str
    version: str
    built: str  # "7 December 2025": the edition's date
    url: str  # the published address
    source_title: str
    source_publisher: str
    source_updated: str


def citation_view(source) -> CitationView:
    """The citation of this edition; `source` is the content's Source."""
    from .calculator_page import site_url  # noqa: PLC0415 (pages.py imports this module)
    from .offline import read_edition  # noqa: PLC0415 (offline.py imports pages.py)
    from .pages import CONFIG_FILE  # noqa: PLC0415

    edition = read_edition()
    return CitationView(
        title=GUIDE_TITLE,
        version=edition.version,
        built=long_date(edition.built),
        url=site_url(CONFIG_FILE),
        # Content fields: Markdown text (the one rule, spine_hemangioma.markup).
        source_title=markdown_text(source.question),
        source_publisher=markdown_text(source.publisher),
        source_updated=long_date(source.updated),
    )
