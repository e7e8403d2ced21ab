"""Clinical text to Markdown: escaping, citation links and statement lines."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from spine_hemangioma.content import INLINE_CITATION, Reference, Statement
from spine_hemangioma.markup import markdown_text, one_line

REFERENCES_PAGE = "references.md"
UNCITED = "no reference given in the source"
# A reference the source prints no citation for, and that could not be
# identified, is marked where it is cited, not only in a hover text.
UNIDENTIFIED = "not identified"
UNIDENTIFIED_MARK = "†"
UNIDENTIFIED_NOTE = (
    f"{UNIDENTIFIED_MARK} marks a reference number for which the source prints no citation"
    " and no paper could be identified."
)
GAP_LINE = "The source does not say."


def escape(text: str) -> str:
    """Plain text as Markdown that renders to exactly that text (the package's
    one rule: spine_hemangioma.markup)."""
    return markdown_text(text)


def attribute(text: str) -> str:
    """Text as the double-quoted title of an admonition: Markdown like any text."""
    return markdown_text(one_line(text)).replace('"', "&quot;")


def _title(text: str) -> str:
    # A link's title attribute: not read as Markdown, only its quotes matter.
    return text.replace("\\", "\\\\").replace('"', "&quot;")


def anchor(statement_id: str) -> str:
    """The HTML id of a statement where the article's own page shows it."""
    return f"st-{statement_id}"


@dataclass
class PageMarkdown:
    """Markdown helpers for one page: relative links, and the references it cites."""

    path: str  # the page's path under docs/, e.g. "treatments/radiation.md"
    references: Mapping[int, Reference]
    cited: set[int] = field(default_factory=set)

    def link(self, target: str) -> str:
        """The relative link from this page to `target` (a path under docs/, #anchor allowed)."""
        file, _, fragment = target.partition("#")
        rel = posixpath.relpath(file, posixpath.dirname(self.path) or ".")
        return f"{rel}#{fragment}" if fragment else rel

    def cite(self, number: int) -> str:
        """A link "[n]" to reference n on the references page; recorded as cited here."""
        self.cited.add(number)
        ref = self.references[number]
        title = _title(f"Reference {number}: {ref.provenance}")
        url = self.link(f"{REFERENCES_PAGE}#ref-{number}")
        mark = UNIDENTIFIED_MARK if ref.provenance == UNIDENTIFIED else ""
        return f'[\\[{number}{mark}\\]]({url} "{title}"){{ .sh-cite }}'

    def text(self, text: str) -> str:
        """A clinical sentence, its inline "[3]" markers turned into citation links."""
        parts, last = [], 0
        for match in INLINE_CITATION.finditer(text):
            parts.append(escape(text[last : match.start()]))
            parts.append("".join(self.cite(int(n)) for n in match.group(1).split(",")))
            last = match.end()
        parts.append(escape(text[last:]))
        return "".join(parts)

    def statement(self, st: Statement, *, anchored: bool = False) -> str:
        """One statement: label, text, trailing citations (or the uncited note)."""
        line = self.text(st.text)
        if st.label:
            line = f"**{escape(st.label)}:** {line}"
        if st.refs:
            line += " " + "".join(self.cite(n) for n in st.refs)
        if st.uncited:
            line += f' <span class="sh-uncited">({UNCITED})</span>'
        if anchored:
            # An empty span carries the id: attr_list cannot set one on a list item.
            line = f'<span id="{anchor(st.id)}"></span>{line}'
        return line
