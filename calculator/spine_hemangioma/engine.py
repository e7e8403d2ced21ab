"""The decision engine: walk the algorithm's tree over the answers, then build the result.

Pure: no I/O and no globals, so it behaves the same under pytest, the command
line and Pyodide. The clinical texts come from the content by id; none is
written here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from ._version import __version__
from .content import Algorithm, Alternative, Content, Leaf, Node, Pathway, Source, Statement
from .errors import AlgorithmError, check_answers

# The contract's "symptomatic" (decision.md section 3; algorithm.toml, warnings).
SYMPTOMS = "symptoms"
SYMPTOMATIC = frozenset({"pain", "deficit"})

Answers = Mapping[str, str]


# --- The result: the Python side of the JSON that the calculator page reads ---------


class Item(TypedDict):
    text: str  # "label — text" when the statement has a label; "[3]" markers kept
    refs: list[int]  # every reference number the text cites, sorted


class AlternativeItem(Item):
    pathway: str
    title: str


class IdItem(Item):
    id: str  # a warning (pitfall) id or a gap id


class Result(TypedDict):
    """A complete result (decision.md section 4)."""

    status: Literal["complete"]
    pathway: str
    title: str
    urgency: Literal["urgent", "routine"]
    steps: list[Item]  # actions only; the urgent consultation first when urgent
    evidence: list[Item]  # the figures and series behind the pathway (not actions)
    alternatives: list[AlternativeItem]
    warnings: list[IdItem]
    outcomes: list[Item]
    gaps: list[IdItem]
    path: list[str]
    refs: list[int]
    read: list[str]  # fields the decision path read (a given field in neither
    # `read` nor `unused` was read by a pitfall only)
    unused: list[str]
    version: str  # the decision module's version
    source_date: str  # the source article's date, ISO 8601
    disclaimer: str


class Incomplete(TypedDict):
    """The path needs an answer it lacks.

    `next_question` is the first field the path needs and the answers lack.
    `urgency` is known as soon as `symptoms` is (null before). `path` lists the
    ids visited so far and ends at the node or leaf that asks `next_question`
    (empty when an always-read field is missing, before the tree is entered).
    `unused` lists only the fields that no completion of these answers can
    read: neither the path so far, nor any continuation from where it stopped,
    nor a warning. A field listed here stays unused whatever is answered next.
    """

    status: Literal["incomplete"]
    next_question: str
    urgency: Literal["urgent", "routine"] | None
    path: list[str]
    unused: list[str]
    version: str
    source_date: str
    disclaimer: str


# --- The tree, indexed once ------------------------------------------------------------


@dataclass
class Walk:
    """Where the answers lead: ids visited, fields read, and the leaf or the missing field."""

    path: list[str] = field(default_factory=list)
    read: set[str] = field(default_factory=set)
    leaf: Leaf | None = None
    missing: str | None = None
    stopped_at: str | None = None  # the id whose continuation still needs answers

    def need(self, name: str, answers: Answers, at: str) -> bool:
        """Read `name`; when unanswered, stop the walk at `at` and say False."""
        self.read.add(name)
        if name in answers:
            return True
        self.missing, self.stopped_at = name, at
        return False


def _step_node(node: Node, answers: Answers, walk: Walk) -> str | None:
    return node.target(answers[node.field]) if walk.need(node.field, answers, node.id) else None


def _step_leaf(leaf: Leaf, answers: Answers, walk: Walk) -> None:
    for rule in leaf.rules:
        walk.path.append(rule.id)
        if not walk.need(rule.field, answers, leaf.id):
            return
    walk.leaf = leaf


@dataclass(frozen=True)
class Kind:
    """What the engine and the diagram need to know of one kind of tree element."""

    step: Callable[[Any, Answers, Walk], str | None]  # the next id, or None: the walk stops
    reads: Callable[[Any], tuple[str, ...]]  # fields it may read
    children: Callable[[Any], tuple[str, ...]]  # ids it may lead to, in the data's order


KINDS: dict[type, Kind] = {
    Node: Kind(
        step=_step_node,
        reads=lambda node: (node.field,),
        children=lambda node: tuple(dict.fromkeys(node.branches.values())),
    ),
    Leaf: Kind(
        step=_step_leaf,
        reads=lambda leaf: tuple(rule.field for rule in leaf.rules),
        children=lambda leaf: (),
    ),
}


def kind_of(element_id: str, element: object) -> Kind:
    """The Kind of a tree element; AlgorithmError for anything else."""
    kind = KINDS.get(type(element))
    if kind is None:
        raise AlgorithmError(f"{element_id!r} is a {type(element).__name__}, not a node or a leaf")
    return kind


@dataclass(frozen=True)
class Tree:
    """The algorithm and the texts it names, indexed once for many evaluations."""

    algorithm: Algorithm
    elements: Mapping[str, object]  # node and leaf ids -> Node | Leaf
    pathways: Mapping[str, Pathway]
    texts: Mapping[str, Item]  # statement id -> its text and refs
    gaps: Mapping[str, Item]  # gap id -> its text and the refs of its `see` statements
    reach: Mapping[str, frozenset[str]]  # id -> fields that it or anything after it reads
    warning_fields: frozenset[str]
    disclaimer: str
    source_date: str

    @classmethod
    def of(cls, content: Content) -> Tree:
        alg, guide = content.algorithm, content.guide
        statements = guide.statements
        elements = {**alg.node_index, **alg.leaf_index}
        gaps = {
            g.id: Item(text=g.text, refs=sorted({n for s in g.see for n in statements[s].all_refs}))
            for g in guide.gaps
        }
        symptomatic = {SYMPTOMS} if any(w.symptomatic is not None for w in alg.warnings) else set()
        return cls(
            algorithm=alg,
            elements=elements,
            pathways=alg.pathway_index,
            texts={sid: _text(st, guide.condition_of(sid)) for sid, st in statements.items()},
            gaps=gaps,
            reach=_reach(elements, alg.start),
            warning_fields=frozenset({f for w in alg.warnings for f in w.when} | symptomatic),
            disclaimer=disclaimer(guide.source),
            source_date=guide.source.updated.isoformat(),
        )


def disclaimer(source: Source) -> str:
    """The source's own notice and disclaimer, as one paragraph for every result."""
    return f"{source.notice}. {source.disclaimer}"


def _text(st: Statement, condition: str | None) -> Item:
    """A statement as a result shows it: with its label, or with the article's
    condition for it ("For cord compression ... without instability: ...")."""
    text = f"{st.label} — {st.text}" if st.label else st.text
    return Item(text=f"{condition}: {text}" if condition else text, refs=list(st.all_refs))


def _reach(elements: Mapping[str, object], start: str) -> dict[str, frozenset[str]]:
    """For each id: the fields it or anything after it reads (checks the tree on the way)."""
    reach: dict[str, frozenset[str]] = {}

    def visit(element_id: str, trail: tuple[str, ...]) -> frozenset[str]:
        if element_id in trail:
            raise AlgorithmError(f"the tree loops back to {element_id!r}: {' -> '.join(trail)}")
        if element_id not in reach:
            if element_id not in elements:
                raise AlgorithmError(f"{trail[-1]!r} leads to {element_id!r}, which does not exist")
            element = elements[element_id]
            kind = kind_of(element_id, element)
            after = [visit(c, (*trail, element_id)) for c in kind.children(element)]
            reach[element_id] = frozenset(kind.reads(element)).union(*after)
        return reach[element_id]

    visit(start, ("start",))
    return reach


# --- Evaluation --------------------------------------------------------------------------


def walk(tree: Tree, answers: Answers) -> Walk:
    """Follow the answers from the always-read fields through the tree to a leaf."""
    alg = tree.algorithm
    w = Walk()
    if not all(w.need(name, answers, alg.start) for name in alg.always_read):
        return w
    current: str | None = alg.start
    while current is not None:
        element = tree.elements.get(current)
        if element is None:
            raise AlgorithmError(f"{w.path[-1]!r} leads to {current!r}, which does not exist")
        if current in w.path:
            raise AlgorithmError(f"the tree loops back to {current!r}: {' -> '.join(w.path)}")
        w.path.append(current)
        current = kind_of(current, element).step(element, answers, w)
    return w


def evaluate(tree: Tree, answers: object) -> Result | Incomplete:
    """Check every answer (AnswerError), then walk the tree and build the result."""
    given = check_answers(tree.algorithm.question_index, answers)
    w = walk(tree, given)
    alg = tree.algorithm
    urgency = None
    if alg.urgency_field in given:
        urgency = "urgent" if given[alg.urgency_field] == alg.urgent_when else "routine"
    could_read = w.read | tree.warning_fields
    if w.leaf is None:
        could_read |= tree.reach[w.stopped_at] | set(alg.always_read)
    unused = sorted(set(given) - could_read)
    if w.leaf is None:
        return Incomplete(
            status="incomplete",
            next_question=w.missing,
            urgency=urgency,
            path=w.path,
            unused=unused,
            version=__version__,
            source_date=tree.source_date,
            disclaimer=tree.disclaimer,
        )
    return _complete(tree, given, w, urgency=urgency, unused=unused)


def _complete(tree: Tree, given: Answers, w: Walk, *, urgency: str, unused: list[str]) -> Result:
    leaf = w.leaf
    alg = tree.algorithm
    pathway = tree.pathways[leaf.pathway]
    fired = [r for r in leaf.rules if given[r.field] == r.value]
    title = next((r.title for r in fired if r.title), pathway.title)
    urgent_first = [alg.urgent_first_step] if urgency == "urgent" else []
    step_ids = [*urgent_first, *leaf.steps, *(r.add_step for r in fired if r.add_step)]
    evidence_ids = [*leaf.evidence, *(r.add_evidence for r in fired if r.add_evidence)]
    alts = [*leaf.alternatives, *(r.add_alternative for r in fired if r.add_alternative)]
    gap_ids = [*leaf.gaps, *(r.add_gap for r in fired if r.add_gap)]
    warning_ids = [
        w.id
        for w in alg.warnings
        if all(given.get(f) == v for f, v in w.when.items())
        and w.surgical in (None, pathway.surgical)
        and w.symptomatic in (None, given.get(SYMPTOMS) in SYMPTOMATIC)
    ]
    # No statement twice in one result (decision.md section 4): a statement
    # keeps its first place in this order (a pitfall stays a pitfall, never
    # also a step or a figure), and an alternative only cites what is shown.
    shown: set[str] = set()

    def once(ids: list[str]) -> list[str]:
        kept = [i for i in dict.fromkeys(ids) if i not in shown]
        shown.update(kept)
        return kept

    steps = [_copy(tree.texts[s]) for s in once(step_ids)]
    warnings = [IdItem(id=i, **_copy(tree.texts[i])) for i in once(warning_ids)]
    evidence = [_copy(tree.texts[s]) for s in once(evidence_ids)]
    outcomes = [_copy(tree.texts[s]) for s in once(list(pathway.outcomes))]
    alternatives = [_alternative(tree, a, shown) for a in alts]
    gaps = [IdItem(id=g, **_copy(tree.gaps[g])) for g in dict.fromkeys(gap_ids)]
    parts = (steps, evidence, alternatives, warnings, outcomes, gaps)
    return Result(
        status="complete",
        pathway=pathway.id,
        title=title,
        urgency=urgency,
        steps=steps,
        evidence=evidence,
        alternatives=alternatives,
        warnings=warnings,
        outcomes=outcomes,
        gaps=gaps,
        path=w.path,
        refs=sorted({n for part in parts for item in part for n in item["refs"]}),
        read=sorted(w.read),
        unused=unused,
        version=__version__,
        source_date=tree.source_date,
        disclaimer=tree.disclaimer,
    )


def _copy(item: Item) -> Item:
    # Each result owns its lists: a caller that edits one cannot change the next.
    return Item(text=item["text"], refs=list(item["refs"]))


def _alternative(tree: Tree, alt: Alternative, shown: set[str]) -> AlternativeItem:
    """An alternative pathway, its text joined from the statements that justify it.

    A statement the result already shows (a pitfall, a step) is cited by its
    reference numbers, not repeated. Its `gap` (what the source does not say of
    that alternative) follows the statements.
    """
    because = [tree.texts[s] for s in alt.because]
    gap = [tree.gaps[alt.gap]] if alt.gap else []
    texts = [tree.texts[s]["text"] for s in alt.because if s not in shown]
    return AlternativeItem(
        pathway=alt.pathway,
        title=tree.pathways[alt.pathway].title,
        text=" ".join(texts + [g["text"] for g in gap]),
        refs=sorted({n for b in because + gap for n in b["refs"]}),
    )
