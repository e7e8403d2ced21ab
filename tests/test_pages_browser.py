"""The built site/ in Chromium (shared fixtures of conftest.py): every page loads
with no console error and no request outside the local server; search, the
palette toggle, citation links and abbreviation tooltips work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from spine_hemangioma.content import load

from generator.calculator_page import EMBED_PAGE
from generator.pages import render_pages

GUIDE = load().guide
# The guide's pages; the embed page (no navigation, for iframes) has its own tests.
PAGES = [p for p in render_pages(load()) if not p.startswith("includes/") and p != EMBED_PAGE]
TIMEOUT_MS = 10_000


def url_path(page: str) -> str:
    """docs/ path of a page → its URL path under the site (directory URLs)."""
    stem = page.removesuffix(".md")
    if stem == "index":
        return ""
    return stem.removesuffix("index") if stem.endswith("/index") else f"{stem}/"


def open_page(probe, site_url: str, page: str):
    probe.page.goto(site_url + url_path(page), wait_until="networkidle")
    return probe.page


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly(browser_page, site_url, page):
    tab = open_page(browser_page, site_url, page)
    expect(tab.locator("article h1")).to_be_visible()
    expect(tab.locator(".sh-notice .admonition-title")).to_have_text(GUIDE.source.notice)
    assert browser_page.console_errors == []
    assert browser_page.requests, "no request recorded"
    assert all(url.startswith(site_url) for url in browser_page.requests), browser_page.requests


def test_search_finds_a_term(browser_page, site_url):
    tab = open_page(browser_page, site_url, "index.md")
    tab.locator(".md-search__input").click()
    tab.keyboard.type("vertebroplasty")
    results = tab.locator(".md-search-result__item")
    expect(results.first).to_be_visible(timeout=TIMEOUT_MS)
    expect(tab.locator(".md-search-result__meta")).to_have_text(re.compile(r"\d+ matching"))
    assert "vertebroplasty" in results.first.inner_text().lower()
    assert browser_page.console_errors == []


def test_palette_toggle_switches_and_persists(browser_page, site_url):
    tab = open_page(browser_page, site_url, "index.md")
    body = tab.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    tab.get_by_title("Switch to dark mode").click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    tab.reload(wait_until="networkidle")
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    tab.get_by_title("Switch to light mode").click()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    assert browser_page.console_errors == []


def test_citation_link_opens_its_reference(browser_page, site_url):
    tab = open_page(browser_page, site_url, "clinical-context.md")
    cite = tab.locator("a.sh-cite").first
    number = cite.inner_text().strip("[]†")  # † marks a reference the source does not identify
    cite.click()
    expect(tab).to_have_url(f"{site_url}references/#ref-{number}")
    expect(tab.locator(f"#ref-{number}")).to_be_in_viewport()


def test_abbreviation_shows_a_tooltip(browser_page, site_url):
    tab = open_page(browser_page, site_url, "algorithm.md")
    abbr = GUIDE.abbreviations[0]
    tab.locator("article abbr", has_text=abbr.term).first.hover()
    expect(tab.locator(".md-tooltip2--active")).to_have_text(abbr.expansion)
