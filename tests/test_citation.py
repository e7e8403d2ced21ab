"""How to cite: CITATION.cff and the About page name the same title, edition,
date and address."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from spine_hemangioma.content import load

from generator.calculator_page import site_url
from generator.editions import GUIDE_TITLE
from generator.offline import read_edition
from generator.pages import render_pages
from generator.render import long_date

REPO_ROOT = Path(__file__).resolve().parent.parent
CFF = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
EDITION = read_edition()
CONTENT = load()


@pytest.fixture(autouse=True)
def _default_address(monkeypatch):
    # CITATION.cff holds mkdocs.yml's address; a build for another host sets SITE_URL.
    monkeypatch.delenv("SITE_URL", raising=False)


def test_citation_cff_names_this_edition():
    assert CFF["cff-version"] == "1.2.0"
    assert CFF["title"] == GUIDE_TITLE
    assert CFF["version"] == EDITION.version
    assert CFF["date-released"] == EDITION.built
    assert CFF["url"] == site_url(REPO_ROOT / "mkdocs.yml")
    assert CFF["authors"]


def test_citation_cff_names_the_source():
    source = CONTENT.guide.source
    (ref,) = CFF["references"]
    assert ref["title"] == source.question
    assert ref["authors"] == [{"name": source.publisher}]
    assert long_date(source.updated) in ref["notes"]


def test_about_page_says_how_to_cite():
    about = render_pages(CONTENT)["about.md"]
    source = CONTENT.guide.source
    cite = about[about.index("## How to cite") :]
    line = f"> {GUIDE_TITLE}. Version {EDITION.version}, {long_date(EDITION.built)}."
    assert f"{line} {site_url(REPO_ROOT / 'mkdocs.yml')}" in cite
    assert f'{source.publisher}, "{source.question}", last updated' in cite
    assert "CITATION.cff" in cite
