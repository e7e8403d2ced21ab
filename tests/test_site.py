"""The built site: every figure with its references, links and anchors, provenance,
notices, a strict and reproducible build. The site is built here, by the real
command line, into a temporary folder (the same build as `make site`)."""

from __future__ import annotations

import filecmp
import html
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

import pytest
from spine_hemangioma.content import TREATMENT_ROLES, load

from generator.calculator_page import EMBED_PAGE
from generator.markdown import GAP_LINE, UNCITED
from generator.pages import ROLE_HEADINGS, load_diagram, render_pages
from generator.write import write_pages

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT = load()
GUIDE = CONTENT.guide
GUIDE_REFS = {r.number: r for r in GUIDE.references}
# The guide's pages; the embed page (no navigation, for iframes) has its own tests.
PAGES = [p for p in render_pages(CONTENT) if not p.startswith("includes/") and p != EMBED_PAGE]

# Every figure of the source, with the reference numbers the source prints for it.
FIGURES = [
    ("1.9-27% of the general population", (2,)),
    ("less than 1% of cases", (2,)),
    ("Three of four patients", (1,)),
    ("Seven of nine patients", (1,)),
    ("7 of 10 patients", (5,)),
    ("All three patients", (1,)),
    ("2 of 11 surgical cases", (5,)),
    ("all but 1 of 11 surgical cases", (5,)),
    ("47 asymptomatic patients", (5,)),
    ("13 symptomatic patients", (5,)),
    ("70% of patients with deficits", (1, 5)),
    ("Mean follow-up of 5.8 years", (3,)),
    ("with vertebroplasty [3] or embolization alone [1]", (1, 3)),
]


def html_path(page: str) -> str:
    """docs/ path of a page → its file under site/ (directory URLs)."""
    stem = page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return f"{stem}.html"
    return f"{stem}/index.html"


def page_url(page: str) -> str:
    return html_path(page).removesuffix("index.html")


# --- A small HTML reader ------------------------------------------------------------

BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "td"}


@dataclass
class Block:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    hrefs: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class PageHtml(HTMLParser):
    """Ids, links and text blocks of one page; `article` is the page's own content."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str]] = []  # (href, class, text)
        self.blocks: list[Block] = []
        self._open: list[Block] = []
        self._link: list | None = None
        self.feed(source)
        match = re.search(
            r'<article class="md-content__inner md-typeset">(.*?)</article>', source, re.S
        )
        self.article_html = match.group(1) if match else ""
        self.article = _text(self.article_html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
            for block in self._open:
                block.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self._link = [a["href"], a.get("class", ""), ""]
            for block in self._open:
                block.hrefs.append(a["href"])
        if tag in BLOCKS:
            self._open.append(Block(tag, a))

    def handle_endtag(self, tag):
        if tag == "a" and self._link:
            self.links.append(tuple(self._link))
            self._link = None
        if tag in BLOCKS:
            for i in range(len(self._open) - 1, -1, -1):
                if self._open[i].tag == tag:
                    block = self._open.pop(i)
                    block.text = " ".join(block.text.split())
                    self.blocks.append(block)
                    break

    def handle_data(self, data):
        for block in self._open:
            block.text += data
        if self._link:
            self._link[2] += data


INLINE_TAGS = re.compile(r"</?(?:a|abbr|code|em|span|strong)\b[^>]*>")


def _text(fragment: str) -> str:
    """Visible text: inline tags vanish, block tags separate words."""
    text = re.sub(r"<[^>]+>", " ", INLINE_TAGS.sub("", fragment))
    return " ".join(html.unescape(text).split())


def ref_numbers(hrefs: list[str]) -> set[int]:
    return {int(m.group(1)) for h in hrefs if (m := re.search(r"references/#ref-(\d+)$", h))}


# --- The build ----------------------------------------------------------------------


def run_build(site_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "build", "--site-dir", str(site_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> SimpleNamespace:
    site_dir = tmp_path_factory.mktemp("build") / "site"
    proc = run_build(site_dir)
    return SimpleNamespace(site=site_dir, proc=proc)


@pytest.fixture(scope="session")
def site(build) -> dict[str, PageHtml]:
    if build.proc.returncode != 0:
        pytest.fail(f"the build failed:\n{build.proc.stderr}")
    return {
        page: PageHtml((build.site / html_path(page)).read_text(encoding="utf-8")) for page in PAGES
    }


def test_strict_build_passes(build):
    assert build.proc.returncode == 0, build.proc.stderr
    assert "WARNING" not in build.proc.stderr
    assert "Documentation built" in build.proc.stderr


def test_two_builds_are_identical(build, tmp_path):
    second = tmp_path / "site"
    assert run_build(second).returncode == 0
    first_files = sorted(p.relative_to(build.site) for p in build.site.rglob("*") if p.is_file())
    second_files = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert first_files == second_files
    _, mismatch, errors = filecmp.cmpfiles(build.site, second, first_files, shallow=False)
    assert mismatch == errors == []


def test_every_generated_page_is_built_and_in_the_nav(build):
    config = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?([\w/-]+\.md)\s*$", config, re.M)
    assert sorted(nav) == sorted(PAGES)
    for page in PAGES:
        assert (build.site / html_path(page)).is_file(), page


# --- Content on the pages -------------------------------------------------------------


@pytest.mark.parametrize(("figure", "refs"), FIGURES, ids=[f for f, _ in FIGURES])
def test_every_figure_appears_with_its_references(site, figure, refs):
    found = [
        (page, block)
        for page, doc in site.items()
        for block in doc.blocks
        if figure in block.text and block.tag in {"p", "li"}
    ]
    assert found, f"{figure!r} is on no page"
    cited = [(page, ref_numbers(block.hrefs)) for page, block in found]
    assert any(set(refs) <= numbers for _, numbers in cited), (
        f"{figure!r} never appears with references {refs}: {cited}"
    )


def test_every_statement_is_on_its_page_with_its_citations(site):
    for st in GUIDE.statements.values():
        homes = [
            (page, b) for page, doc in site.items() for b in doc.blocks if f"st-{st.id}" in b.ids
        ]
        assert homes, f"statement {st.id} has no anchor on any page"
        page, block = homes[0]
        assert st.text in block.text, f"{st.id}: text not on {page}"
        if st.label:
            assert block.text.startswith(f"{st.label}:"), st.id
        assert ref_numbers(block.hrefs) == set(st.all_refs), st.id
        assert (UNCITED in block.text) == st.uncited, st.id


def test_citation_links_resolve(site, build):
    checked = 0
    for page, doc in site.items():
        base = f"http://site.invalid/{page_url(page)}"
        for href, classes, text in doc.links:
            parts = urlsplit(urljoin(base, href))
            if parts.netloc != "site.invalid":
                continue
            target = parts.path.lstrip("/")
            if target.endswith("/") or not target:
                target += "index.html"
            target_file = build.site / target
            assert target_file.is_file(), f"{page}: link {href} → missing {target_file}"
            if parts.fragment and target_file.suffix == ".html":
                ids = PageHtml(target_file.read_text(encoding="utf-8")).ids
                assert parts.fragment in ids, f"{page}: link {href} → no #{parts.fragment}"
            if "sh-cite" in classes:
                checked += 1
                # A reference the source does not identify carries a visible mark.
                number = re.fullmatch(r"\[(\d+)(†?)\]", text)
                assert number, f"{page}: citation text {text!r}"
                unidentified = GUIDE_REFS[int(number[1])].provenance == "not identified"
                assert bool(number[2]) == unidentified, f"{page}: citation text {text!r}"
                assert target == "references/index.html", href
                assert parts.fragment == f"ref-{number[1]}", href
    assert checked > 50


def test_references_page_shows_provenance(site):
    doc = site["references.md"]
    sections = re.split(r"(?=<h2 id=\"ref-\d+\")", doc.article_html)
    by_number = {
        int(m.group(1)): _text(s) for s in sections if (m := re.match(r'<h2 id="ref-(\d+)"', s))
    }
    assert sorted(by_number) == [r.number for r in GUIDE.references] == [1, 2, 3, 4, 5]
    for ref in GUIDE.references:
        text = by_number[ref.number]
        assert text.startswith(f"[{ref.number}] {ref.provenance.capitalize()}")
        assert f"Provenance: {ref.provenance}." in text
        assert f"Evidence: {ref.evidence}" in text
        if ref.citation:
            assert f"Citation: {ref.citation.replace('*', '')}" in text
        else:
            assert "Citation: none (the source prints none)." in text
    assert [r.provenance for r in GUIDE.references] == [
        "identified",
        "not identified",
        "given",
        "not identified",
        "identified",
    ]


def test_cited_on_lists_exactly_the_pages_that_cite(site):
    doc = site["references.md"]
    cited_on_lines = [b for b in doc.blocks if b.tag == "p" and b.text.startswith("Cited on:")]
    assert len(cited_on_lines) == len(GUIDE.references)
    for ref, line in zip(GUIDE.references, cited_on_lines, strict=True):
        listed = {urlsplit(urljoin("http://x/references/", h)).path for h in line.hrefs}
        citing = {
            f"/{page_url(page)}"
            for page, other in site.items()
            if ref.number in ref_numbers([h for h, c, _ in other.links if "sh-cite" in c])
        }
        assert listed == citing, ref.number


def test_notice_and_disclaimer_on_every_page(site):
    src = GUIDE.source
    for page, doc in site.items():
        assert src.notice in doc.article, page
        assert src.review_status in doc.article, page
        assert " → ".join(src.review_stages) in doc.article, page
        assert src.disclaimer in doc.article, page
        assert 'class="admonition warning sh-notice"' in doc.article_html, page


def test_home_answers_first(site):
    doc = site["index.md"]
    first = next(b for b in doc.blocks if b.tag == "p")
    key = GUIDE.statements["key-recommendation"]
    assert first.text == f"{key.text} [1]"
    assert ref_numbers(first.hrefs) == {1}
    assert GUIDE.source.audience in doc.article
    assert doc.article.index(key.text) < doc.article.index(GUIDE.source.notice)


def test_treatment_pages_have_every_role_and_explicit_gaps(site):
    for t in GUIDE.treatments:
        doc = site[f"treatments/{t.id}.md"]
        headings = [b.text.rstrip("¶").strip() for b in doc.blocks if b.tag == "h2"]
        assert headings[: len(TREATMENT_ROLES)] == list(ROLE_HEADINGS.values()), t.id
        empty = [role for role in TREATMENT_ROLES if not getattr(t, role)]
        gap_lines = [b for b in doc.blocks if b.tag == "p" and b.text == GAP_LINE]
        assert len(gap_lines) == len(empty), t.id
        for role in TREATMENT_ROLES:
            for sid in getattr(t, role):
                assert GUIDE.statements[sid].text in doc.article, (t.id, sid)


def test_algorithm_page_has_the_three_steps_nested_as_the_source(site):
    doc = site["algorithm.md"]
    heads = [(b.tag, b.text.rstrip("¶").strip()) for b in doc.blocks if b.tag in {"h2", "h3"}]
    assert heads[:5] == [
        ("h2", "Step 1: Accurate Diagnosis"),
        ("h2", "Step 2: Assess for Neurological Compromise"),
        ("h3", "If neurological deficit present"),
        ("h3", "If pain only without deficit"),
        ("h2", "Step 3: Asymptomatic Lesions"),
    ]


def test_clinical_context_keeps_the_sources_nesting(site):
    """The deficit section holds the surgical approach (its three conditions) and the
    role of embolization; embolization alone is a lead-in, not a heading of its own."""
    doc = site["clinical-context.md"]
    heads = [(b.tag, b.text.rstrip("¶").strip()) for b in doc.blocks if b.tag[:1] == "h"]
    assert heads[1:] == [
        ("h2", "For Painful Hemangiomas without Neurological Deficit"),
        ("h2", "For Hemangiomas with Neurological Deficit or Cord Compression"),
        ("h3", "Surgical Approach Based on Tumor Characteristics"),
        ("h4", "For cord compression from intraosseous tumor causing stenosis without instability"),
        (
            "h4",
            "For aggressive hemangiomas with extraosseous extension or circumferential involvement",
        ),
        ("h4", "For cervical spine involvement"),
        ("h3", "Critical Role of Preoperative Embolization"),
        ("h2", "Radiation Therapy"),
    ]
    assert "Transarterial Embolization Alone" not in [h for _, h in heads]


@pytest.mark.parametrize(
    ("treatment", "condition", "statement"),
    [
        ("laminectomy", "For cord compression from intraosseous tumor causing stenosis"
         " without instability", "Embolization followed by laminectomy"),
        ("vertebrectomy", "For aggressive hemangiomas with extraosseous extension",
         "Complete intralesional spondylectomy"),
        ("vertebroplasty", "If pain only without deficit", "Offer vertebroplasty as first-line"),
    ],
)  # fmt: skip
def test_a_treatment_keeps_the_sources_condition(site, treatment, condition, statement):
    doc = site[f"treatments/{treatment}.md"]
    line = next(b.text for b in doc.blocks if b.tag == "li" and statement in b.text)
    assert line.startswith(condition), line


def test_vertebroplasty_page_keeps_without_compromise_or_instability(site):
    doc = site["treatments/vertebroplasty.md"]
    assert "for lesions without neurological compromise or instability. [1]" in doc.article


def test_every_page_shows_the_sources_date_and_the_unidentified_mark(site):
    for page, doc in site.items():
        assert "Source last updated: 7 December 2025." in doc.article, page
        assert "† marks a reference number" in doc.article, page


def test_each_treatment_page_lists_the_gaps_of_its_pathways(site):
    alg = CONTENT.algorithm
    for t in GUIDE.treatments:
        doc = site[f"treatments/{t.id}.md"]
        for leaf in alg.leaves:
            if leaf.pathway in t.pathways:
                for g in (*leaf.gaps, *(r.add_gap for r in leaf.rules if r.add_gap)):
                    assert GUIDE.gap_index[g].text in doc.article, (t.id, g)


def test_gaps_page_lists_every_gap(site):
    doc = site["gaps.md"]
    for gap in GUIDE.gaps:
        assert f"gap-{gap.id}" in doc.ids
        assert gap.text in doc.article


def test_about_page(site):
    text = site["about.md"].article
    src = GUIDE.source
    for expected in (src.question, src.publisher, "7 December 2025", src.disclaimer_title):
        assert expected in text
    for stage in src.review_stages:
        assert stage in text


def test_abbreviations_are_tooltips(site):
    doc = site["algorithm.md"]
    for abbr in GUIDE.abbreviations:
        assert f'<abbr title="{abbr.expansion}">{abbr.term}</abbr>' in doc.article_html


def test_pages_request_nothing_from_another_origin(build):
    for path in build.site.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", source):
            # A canonical link names the published address; it loads nothing.
            if 'rel="canonical"' in tag:
                continue
            assert not re.search(r'(?:src|href)="(?:https?:)?//', tag), f"{path}: {tag}"
        assert "fonts.googleapis" not in source
        assert "fonts.gstatic" not in source


# --- Writing docs/ -------------------------------------------------------------------


def test_write_pages_writes_only_changes_and_removes_stale(tmp_path):
    docs = tmp_path / "docs"
    (docs / "assets").mkdir(parents=True)
    (docs / "assets" / "keep.md").write_text("hand-written")
    (docs / "old" / "stale.md").parent.mkdir()
    (docs / "old" / "stale.md").write_text("from an earlier build")
    pages = render_pages(CONTENT)
    assert sorted(write_pages(pages, docs)) == sorted([*pages, "old/stale.md"])
    assert write_pages(pages, docs) == []
    assert not (docs / "old").exists()
    assert (docs / "assets" / "keep.md").read_text() == "hand-written"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".docs-staging-")]


# --- README ------------------------------------------------------------------------------


def test_readme_commands_are_makefile_targets():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    commands = re.findall(r"\bmake ([a-z][\w-]*)", readme)
    assert commands[:2] == ["site", "test"]
    for command in commands:
        assert command in targets, f"README says `make {command}`; the Makefile has no such target"


def test_algorithm_page_has_the_diagram_and_its_outline(site):
    diagram = load_diagram()
    if diagram is None:
        pytest.skip("spine_hemangioma.diagram is not there yet: the pages leave it out")
    doc = site["algorithm.md"]
    assert doc.article_html.count('<div class="sh-diagram">') == 1
    assert "<svg" in doc.article_html
    assert "Text outline of the diagram" in doc.article
    for t in GUIDE.treatments:
        html_ = site[f"treatments/{t.id}.md"].article_html
        assert html_.count('<div class="sh-diagram">') == len(t.pathways), t.id


def test_search_leads_to_the_topic_pages_not_the_print_page(build):
    """The print page repeats every section: in the index, each hit would come twice."""
    index = json.loads((build.site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert "clinical-context/" in locations
    assert "print/" not in locations
    assert "embed/" not in locations
