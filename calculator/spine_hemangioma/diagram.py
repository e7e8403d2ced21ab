"""Diagrams of the algorithm, drawn from its tree at build time: SVG and a text outline.

The layout is the outline's: each question or pathway on a row of its own, in
the tree's order, indented by its depth, its answer written above it. However
deep the tree grows it stays about 600 units wide, so a printed page keeps the
text at full size; a layered left-right layout of this seven-level tree would
be three times wider and print at a third of the size.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from . import tree as _tree
from .content import Leaf, Node
from .engine import kind_of
from .errors import AlgorithmError, did_you_mean
from .markup import markdown_text

# Geometry, in SVG user units (= CSS px at 100 %).
MARGIN, INDENT, BOX_W = 12, 28, 420
LINE, LABEL_LINE, PAD, GAP, POINT = 18, 17, 7, 10, 12
# Wrap widths from an average glyph of ~0.55 em: 14 px text in the box (600 weight
# for pathways), 13 px answers, 12 px details.
BOX_CHARS, LABEL_CHARS, DETAIL_CHARS = 44, 56, 56

STYLE = """
.sh-algorithm { font: 14px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.sh-algorithm text { fill: currentColor; }
.sh-algorithm .box { fill: currentColor; fill-opacity: 0.05; stroke: currentColor;
  stroke-width: 1.5; }
.sh-algorithm .pathway .box { stroke-width: 2.5; }
.sh-algorithm .pathway .title { font-weight: 600; }
.sh-algorithm .detail { font-size: 12px; }
.sh-algorithm .answer { font-size: 13px; font-style: italic; }
.sh-algorithm .wire { fill: none; stroke: currentColor; stroke-width: 1.5; }
.sh-algorithm .head { fill: currentColor; }
.sh-algorithm .urgent .box, .sh-algorithm .urgent .wire, .sh-algorithm .legend .wire {
  stroke-dasharray: 6 4; }
.sh-algorithm .on .box { fill-opacity: 0.18; stroke-width: 4; }
.sh-algorithm .on .wire { stroke-width: 4; }
@media print { .sh-algorithm .box { fill: none; } }
"""


@dataclass(frozen=True)
class Row:
    """One question or pathway of the drawing, in the tree's order."""

    id: str
    element: Node | Leaf
    depth: int
    parent: str | None
    answer: str  # the option label(s) that lead here, "(urgent)" marked; "" at the top
    urgent: bool  # on the branch of the urgent answer (decision.md: a deficit)


def _or(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def _option(field: str, value: str) -> str:
    return next(
        o.label for o in _tree().algorithm.question_index[field].options if o.value == value
    )


def _branches(node: Node) -> list[tuple[str, list[str]]]:
    """Each target of a node once, with the values that lead there, in the options' order.

    The options' order (no before yes, as in the form) is the drawing's order.
    """
    targets: dict[str, list[str]] = {}
    for value in _tree().algorithm.question_index[node.field].values:
        targets.setdefault(node.target(value), []).append(value)
    return list(targets.items())


def rows(keep: set[str] | None = None) -> list[Row]:
    """The tree as rows, depth first; with `keep`, only the ids in it."""
    alg = _tree().algorithm
    out: list[Row] = []
    seen: dict[str, str | None] = {}

    def visit(element_id: str, depth: int, parent: str | None, answer: str, urgent: bool) -> None:
        if element_id in seen:
            raise AlgorithmError(
                f"the diagram draws a tree: {element_id!r} is reached from"
                f" {seen[element_id]!r} and {parent!r}"
            )
        seen[element_id] = parent
        element = _tree().elements[element_id]
        kind_of(element_id, element)  # anything but a node or a leaf fails here
        if keep is None or element_id in keep:
            out.append(Row(element_id, element, depth, parent, answer, urgent))
        for target, values in _branches(element) if isinstance(element, Node) else ():
            every = len(values) == len(alg.question_index[element.field].values)
            text = "Any answer" if every else _or([_option(element.field, v) for v in values])
            if every and element.field == alg.urgency_field:
                text += f" ({_option(element.field, alg.urgent_when)}: urgent)"
            # Urgent only where every answer on the branch is the urgent one.
            hot = not urgent and element.field == alg.urgency_field and values == [alg.urgent_when]
            visit(target, depth + 1, element_id, text + " (urgent)" * hot, urgent or hot)

    visit(alg.start, 0, None, "", False)
    return out


def _details(leaf: Leaf) -> list[str]:
    """What a leaf adds to its pathway: alternatives, and the rules read there."""
    titles = {p.id: p.title for p in _tree().algorithm.pathways}
    lines = [f"Alternative: {titles[a.pathway]}" for a in leaf.alternatives]
    for rule in leaf.rules:
        label = _tree().algorithm.question_index[rule.field].label
        alt = rule.add_alternative
        texts = _tree().texts
        effect = (
            f"alternative: {titles[alt.pathway]}"
            if alt
            else f"adds: {_cited(texts[rule.add_step])}"
            if rule.add_step
            else f"adds: {_cited(texts[rule.add_evidence])}"
            if rule.add_evidence
            else "the source does not say which applies (gap)"
        )
        lines.append(f"If {label}: {_option(rule.field, rule.value)} — {effect}")
    return lines


def _cited(item: dict) -> str:
    """A statement's text with its reference numbers, as plain text."""
    return f"{item['text']} [{', '.join(map(str, item['refs']))}]"


def _label(element: Node | Leaf) -> str:
    """A question's label, or a leaf's pathway title."""
    alg = _tree().algorithm
    if isinstance(element, Node):
        return alg.question_index[element.field].label
    return alg.pathway_index[element.pathway].title


# --- SVG ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    """A row placed on the page."""

    row: Row
    x: int
    top: int  # of the answer text above the box
    box_top: int
    bottom: int
    lines: list[tuple[str, str]]  # (class, text) inside the box
    answer: list[str]

    @property
    def mid(self) -> int:
        return (self.box_top + self.bottom) // 2


def _layout(rows_: list[Row], y: int) -> list[_Box]:
    boxes = []
    for row in rows_:
        answer = textwrap.wrap(row.answer, LABEL_CHARS)
        main = [("title", line) for line in textwrap.wrap(_label(row.element), BOX_CHARS)]
        details = []
        if isinstance(row.element, Leaf):
            details = [
                ("detail", w) for d in _details(row.element) for w in textwrap.wrap(d, DETAIL_CHARS)
            ]
        box_top = y + LABEL_LINE * len(answer)
        bottom = box_top + 2 * PAD + LINE * (len(main) + len(details))
        x = MARGIN + row.depth * INDENT
        boxes.append(_Box(row, x, y, box_top, bottom, main + details, answer))
        y = bottom + GAP
    return boxes


def _draw_box(b: _Box, on: set[str]) -> str:
    e, x, top, bottom = html.escape, b.x, b.box_top, b.bottom
    question = isinstance(b.row.element, Node)
    cls = " ".join(["question" if question else "pathway"] + ["urgent"] * b.row.urgent
                   + ["on"] * (b.row.id in on))  # fmt: skip
    if question:  # a decision box: pointed at both ends
        shape = (
            f'<path class="box" d="M{x + POINT},{top} H{x + BOX_W - POINT} L{x + BOX_W},{b.mid}'
            f' L{x + BOX_W - POINT},{bottom} H{x + POINT} L{x},{b.mid} Z"/>'
        )
    else:
        shape = (
            f'<rect class="box" x="{x}" y="{top}" width="{BOX_W}" height="{bottom - top}" rx="6"/>'
        )
    texts = "".join(
        f'<text class="{c}" x="{x + POINT + 4}" y="{top + PAD + LINE * (i + 1) - 5}">{e(t)}</text>'
        for i, (c, t) in enumerate(b.lines)
    )
    return f'<g class="{cls}" data-node="{e(b.row.id)}">{shape}{texts}</g>'


def _draw_edge(b: _Box, parent: _Box, on: set[str]) -> str:
    e, x, mid = html.escape, b.x, b.mid
    trunk = parent.x + INDENT // 2
    lit = b.row.id in on and parent.row.id in on
    cls = " ".join(["edge"] + ["urgent"] * b.row.urgent + ["on"] * lit)
    ids = f"{parent.row.id}->{b.row.id}"
    label = "".join(  # the answer, above the box it leads to
        f'<text class="answer" x="{x + 4}" y="{b.top + LABEL_LINE * (i + 1) - 5}">{e(t)}</text>'
        for i, t in enumerate(b.answer)
    )
    return (
        f'<g class="{cls}" data-node="{e(ids)}" data-from="{e(parent.row.id)}"'
        f' data-to="{e(b.row.id)}">'
        f'<path class="wire" d="M{trunk},{parent.bottom} V{mid} H{x - 6}"/>'
        f'<path class="head" d="M{x - 7},{mid - 4} L{x},{mid} L{x - 7},{mid + 4} Z"/>{label}</g>'
    )


def _svg(rows_: list[Row], highlight: set[str], title: str, desc: str) -> str:
    """Lay the rows out top to bottom under a legend, and draw them."""
    alg = _tree().algorithm
    legend = ""
    if any(r.urgent for r in rows_):  # not colour alone: dashed, and said so in words
        legend = (
            f'<g class="legend"><path class="wire" d="M{MARGIN},{MARGIN + 9} h36"/>'
            f'<text class="answer" x="{MARGIN + 44}" y="{MARGIN + 13}">dashed: the urgent branch'
            f" ({html.escape(_option(alg.urgency_field, alg.urgent_when))})</text></g>"
        )
    boxes = _layout(rows_, MARGIN + (LINE + GAP) * bool(legend))
    by_id = {b.row.id: b for b in boxes}
    edges = [_draw_edge(b, by_id[b.row.parent], highlight) for b in boxes if b.row.parent in by_id]
    width = 2 * MARGIN + max(b.row.depth for b in boxes) * INDENT + BOX_W
    height = boxes[-1].bottom + MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sh-algorithm" role="img"'
        # Natural size in width and height; the page's CSS (max-width: 100%;
        # height: auto) scales it down to its column, never up. No style
        # attribute: the site's content security policy forbids them.
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{html.escape(title)}</title><desc>{html.escape(desc)}</desc><style>{STYLE}</style>{legend}"
        f"{''.join(edges)}{''.join(_draw_box(b, highlight) for b in boxes)}</svg>\n"
    )


# --- Public ------------------------------------------------------------------------------


def algorithm_svg(highlight: Sequence[str] = ()) -> str:
    """The whole algorithm as SVG; the ids in `highlight` (a result's path) get class "on"."""
    all_rows = rows()
    questions = len({r.element.field for r in all_rows if isinstance(r.element, Node)})
    pathways = len({r.element.pathway for r in all_rows if isinstance(r.element, Leaf)})
    desc = (
        f"{questions} questions lead to {pathways} pathways. Pointed boxes are questions,"
        " rounded boxes are pathways; the answer that leads to a box is written above it."
        " Dashed boxes and arrows: the urgent branch."
    )
    return _svg(all_rows, set(highlight), "The management algorithm, question by question", desc)


def _offers(leaf: Leaf) -> set[str]:
    """The pathways a leaf ends in or offers as an alternative."""
    rules = {r.add_alternative.pathway for r in leaf.rules if r.add_alternative}
    return {leaf.pathway} | {a.pathway for a in leaf.alternatives} | rules


def path_svg(pathway_id: str) -> str:
    """Only the paths that end in `pathway_id` or offer it as an alternative, as SVG."""
    alg = _tree().algorithm
    if pathway_id not in alg.pathway_index:
        known = [p.id for p in alg.pathways]
        raise ValueError(
            f"unknown pathway {pathway_id!r}{did_you_mean(pathway_id, known)};"
            f" pathways: {', '.join(known)}"
        )
    all_rows = rows()
    by_id = {r.id: r for r in all_rows}
    keep: set[str] = set()
    spelled = []
    for leaf in (r for r in all_rows if isinstance(r.element, Leaf)):
        if pathway_id in _offers(leaf.element):
            chain = [leaf]
            while chain[0].parent is not None:
                chain.insert(0, by_id[chain[0].parent])
            keep.update(r.id for r in chain)
            steps = [f"{_label(a.element)}: {b.answer}" for a, b in pairwise(chain)]
            end = _label(leaf.element)
            if leaf.element.pathway != pathway_id:
                end += f" (alternative: {alg.pathway_index[pathway_id].title})"
            spelled.append(" → ".join([*steps, end]))
    title = alg.pathway_index[pathway_id].title
    return _svg(rows(keep), set(), f"Where the algorithm leads to: {title}", "; ".join(spelled))


def _md(text: str) -> str:
    """Text as Markdown that renders to exactly that text (the content's one rule)."""
    return markdown_text(text)


def text_outline() -> str:
    """The whole algorithm as a nested Markdown list: the diagram's text alternative."""
    lines = []
    for r in rows():
        pad = "    " * r.depth  # four spaces: Python-Markdown's nesting step
        lead = f"*{_md(r.answer)}* → " if r.answer else ""
        if isinstance(r.element, Node):
            lines.append(f"{pad}- {lead}**{_md(_label(r.element))}**")
        else:
            lines.append(f"{pad}- {lead}pathway: **{_md(_label(r.element))}**")
            lines += [f"{pad}    - {_md(d)}" for d in _details(r.element)]
    return "\n".join(lines) + "\n"
