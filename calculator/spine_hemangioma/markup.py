"""The one rule for content text wherever it is shown.

A content field is plain text. The only markup the content format documents
is `*emphasis*` (in citations: a journal's name) and "[3]" citation markers
(in statements; the site turns them into links, the result keeps them). Any
other markup in a field is text: HTML, attr_list braces (`{ .danger #id }`),
Jinja syntax, Markdown links (hence `javascript:` links), headings, lists.
Line breaks are spaces: a field is one paragraph, it cannot start a block.

    markdown_text(text)      Markdown that renders to exactly `text`
    markdown_emphasis(text)  the same, keeping `*emphasis*` (citations)
    plain_text(text)         for plain-text readers (the calculator's data, the
                             copied summary): emphasis marks dropped
    html_text(text)          HTML text and attribute values (front matter,
                             which the theme writes into the page as HTML)
"""

from __future__ import annotations

import html
import re

# Characters that make markup anywhere in a line (emphasis, code, links, attr_list,
# table cells); all are in Python-Markdown's escapable set ("|" once tables are on).
# "<" and "&" become entities instead, so no tag or entity is read either.
_MARKUP = re.compile(r"([\\`*_\[\]{}|])")
# At the start of a line these make a heading, a quote, a list.
_BLOCK_START = re.compile(r"(?:[#>]|[-+](?=\s)|\d+(?=\.\s))")
_SPACES = re.compile(r"\s+")
# *Journal*: one pair of single stars around text that neither starts nor ends with a space.
EMPHASIS = re.compile(r"\*([^*\s](?:[^*]*[^*\s])?)\*")


def one_line(text: str) -> str:
    """Runs of white space (line breaks included) as one space, none at the ends."""
    return " ".join(text.split())


def markdown_text(text: str) -> str:
    """Plain text as Markdown that renders to exactly that text (on one line).
    Spaces at the ends are kept: a piece of a sentence keeps its spacing."""
    text = _SPACES.sub(" ", text).replace("&", "&amp;").replace("<", "&lt;")
    text = _MARKUP.sub(r"\\\1", text)
    lead = len(text) - len(text.lstrip(" "))
    start = _BLOCK_START.match(text, lead)
    if start is None:
        return text
    if start.group().isdigit():  # "1. x": escape the dot, as "\1" is no escape
        return f"{text[: start.end()]}\\{text[start.end() :]}"
    return f"{text[:lead]}\\{text[lead:]}"


def markdown_emphasis(text: str) -> str:
    """markdown_text, except that each `*emphasis*` pair stays emphasis."""
    parts, last = [], 0
    for match in EMPHASIS.finditer(text):
        parts.append(markdown_text(text[last : match.start()]))
        parts.append(f"*{markdown_text(match.group(1))}*")
        last = match.end()
    parts.append(markdown_text(text[last:]))
    return "".join(parts)


def plain_text(text: str) -> str:
    """The text a plain-text reader shows: emphasis marks dropped, on one line."""
    return one_line(EMPHASIS.sub(r"\1", text))


def html_text(text: str) -> str:
    """Plain text as HTML text or a quoted attribute value."""
    return html.escape(one_line(text), quote=True)
