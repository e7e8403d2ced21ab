"""The whole-guide PDF: its text holds every figure of the source with its
reference numbers, every section, the references with their provenance, the
disclaimer, the source's date and the edition; the same input prints the same
bytes; it is served from the site and carried by the offline bundle.
Build first: `make site`.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from spine_hemangioma.content import load
from test_site import FIGURES  # the figures of the source, listed once

from generator.offline import DIST_DIR, read_edition
from generator.pdf import PRINT_HTML, PdfError, fix_dates, pdf_name, print_pdf
from generator.render import long_date

REPO_ROOT = Path(__file__).resolve().parent.parent
EDITION = read_edition()
PDF = DIST_DIR / pdf_name(EDITION.version)
GUIDE = load().guide
MARKERS_RE = re.compile(r"(?:\s*\[\d+†?\])+")


@pytest.fixture(scope="module")
def pdf_text() -> str:
    """The PDF's text, whitespace runs as single spaces."""
    if not PDF.is_file():
        pytest.fail(f"{PDF} is not built: run `make site` first")
    text = " ".join(page.extract_text() for page in PdfReader(PDF).pages)
    return re.sub(r"\s+", " ", text)


def _refs_after(text: str, figure: str) -> list[set[int]]:
    """For each place `figure` is printed: the reference numbers in it and in the
    run of markers that ends its sentence."""
    found = []
    for match in re.finditer(re.escape(figure), text):
        rest = text[match.end() :]
        sentence = re.match(r"[^\[]*", rest).group(0)
        markers = MARKERS_RE.match(rest[len(sentence) :])
        cited = figure + (markers.group(0) if markers else "")
        found.append({int(n) for n in re.findall(r"\[(\d+)†?\]", cited)})
    return found


@pytest.mark.parametrize(("figure", "refs"), FIGURES, ids=[f for f, _ in FIGURES])
def test_every_figure_is_in_the_pdf_with_its_references(pdf_text, figure, refs):
    found = _refs_after(pdf_text, figure)
    assert found, f"{figure!r} is not in the PDF"
    assert any(set(refs) <= numbers for numbers in found), (
        f"{figure!r} is never followed by references {refs} in the PDF: {found}"
    )


def test_pdf_has_every_section_of_the_source(pdf_text):
    headings = [s.heading for s in GUIDE.sections if s.heading]
    assert [h for h in headings if h not in pdf_text] == []
    leads = [s.lead for s in GUIDE.sections if s.lead]
    assert [lead for lead in leads if lead not in pdf_text] == []


def test_pdf_has_every_statement_with_its_references(pdf_text):
    # Inline markers are printed as links: compare the text without them.
    plain = MARKERS_RE.sub("", pdf_text)
    for st in GUIDE.statements.values():
        words = MARKERS_RE.sub("", st.text)
        assert words in plain, f"statement {st.id} is not in the PDF"


def test_pdf_has_the_references_with_provenance(pdf_text):
    for ref in GUIDE.references:
        assert f"[{ref.number}] {ref.provenance.capitalize()}" in pdf_text
        assert f"Provenance: {ref.provenance}." in pdf_text


def test_pdf_has_the_algorithm_disclaimer_review_status_date_and_edition(pdf_text):
    src = GUIDE.source
    assert "Management algorithm: the diagram" in pdf_text
    assert "Text outline of the diagram" in pdf_text
    assert src.disclaimer in pdf_text
    assert src.notice in pdf_text
    assert src.review_status in pdf_text
    assert f"last updated {long_date(src.updated)}" in pdf_text
    assert f"version {EDITION.version}, built {long_date(EDITION.built)}" in pdf_text


def test_pdf_is_served_from_the_site_and_carried_offline():
    data = PDF.read_bytes()
    assert (REPO_ROOT / "site" / "downloads" / PDF.name).read_bytes() == data
    offline = DIST_DIR / f"{EDITION.slug}.zip"
    with zipfile.ZipFile(offline) as archive:
        assert archive.read(f"{EDITION.slug}/downloads/{PDF.name}") == data


def test_the_same_page_prints_the_same_bytes(tmp_path):
    page = REPO_ROOT / "site" / PRINT_HTML
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    print_pdf(page, first, EDITION.epoch)
    print_pdf(page, second, EDITION.epoch)
    assert first.read_bytes() == second.read_bytes()
    assert b"file:" not in first.read_bytes()  # no address of the printing machine


PDF_HEAD = b"%PDF-1.4\n1 0 obj\n<</Producer (Skia/PDF m156)\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PDF_HEAD, "expected Chromium's CreationDate and ModDate in the PDF, found 0"),
        (
            PDF_HEAD + b"/CreationDate (D:20261201090809Z)\n",
            "expected Chromium's CreationDate and ModDate in the PDF, found 0",
        ),
        (
            PDF_HEAD + b"/CreationDate (D:20261201090809+00'00')\n",
            "expected Chromium's CreationDate and ModDate in the PDF, found 1",
        ),
    ],
    ids=["no dates", "other date form", "one date"],
)
def test_fix_dates_rejects(data, message):
    with pytest.raises(PdfError) as info:
        fix_dates(data, EDITION.epoch)
    assert str(info.value) == message


def test_fix_dates_keeps_the_length():
    data = PDF_HEAD + b"/CreationDate (D:20261201090809+01'00')\n/ModDate (D:20261201090809+01'00')"
    fixed = fix_dates(data, 0)
    assert len(fixed) == len(data)
    assert fixed.count(b"(D:19700101000000+00'00')") == 2


@pytest.mark.parametrize(
    ("page", "chromium", "message"),
    [
        (
            "missing.html",
            "/usr/bin/chromium",
            "missing: the whole-guide page (print.md) was not built",
        ),
        (PRINT_HTML, "/nonexistent/chromium", "Chromium not found at /nonexistent/chromium"),
    ],
    ids=["no page", "no chromium"],
)
def test_print_pdf_rejects(tmp_path, page, chromium, message):
    target = REPO_ROOT / "site" / page
    with pytest.raises(PdfError, match=re.escape(message)):
        print_pdf(target, tmp_path / "out.pdf", EDITION.epoch, chromium=chromium)
    assert not (tmp_path / "out.pdf").exists()
