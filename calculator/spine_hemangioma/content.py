"""The guide's content and algorithm, validated once into typed objects.

`load()` reads content/guide.toml and content/algorithm.toml and either returns
a `Content` or raises `ContentError` listing every problem found, each naming
the file, the field path, what was expected and what was found. Cross-references
(ids, reference numbers, question values) are checked once both files read
cleanly, so a malformed entry is reported once, not again by everything that
names it. Code after this module never touches raw TOML dicts.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).parent / "content"
PROVENANCES = ("given", "identified", "not identified")
# "[3]" or "[1, 4]" inside a sentence cites part of it.
INLINE_CITATION = re.compile(r"\[(\d+(?:,\s*\d+)*)\]")
TREATMENT_ROLES = ("indication", "technique", "evidence", "outcomes", "complications", "pitfalls")
# The item kind of each list kind; a list of tables is checked item by item
# where it is read (`_Reader.array`), so each item's error names its own path.
LIST_ITEMS = {"strs": str, "ints": int}


class ContentError(Exception):
    """The content files are invalid; `problems` lists every error found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --- Typed content ----------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    number: int
    provenance: str  # one of PROVENANCES
    citation: str | None  # None when the source prints none and none was identified
    evidence: str


@dataclass(frozen=True)
class Abbreviation:
    term: str
    expansion: str


@dataclass(frozen=True)
class Statement:
    """One claim of the article, with the reference numbers printed after it."""

    id: str
    section: str
    text: str
    refs: tuple[int, ...]  # the trailing citation, in the article's order
    label: str | None = None  # a lead-in ("Pain relief", a pitfall's imperative)
    uncited: bool = False  # the article prints this sentence with no reference

    @property
    def all_refs(self) -> tuple[int, ...]:
        """Trailing and inline reference numbers, sorted, once each."""
        inline = [int(n) for m in INLINE_CITATION.findall(self.text) for n in m.split(",")]
        return tuple(sorted({*self.refs, *inline}))


@dataclass(frozen=True)
class Section:
    id: str
    heading: str | None  # None: a lead-in sentence and its bullets, under the heading before
    statements: tuple[Statement, ...]
    parent: str | None = None  # the id of the (earlier) section this one sits under
    lead: str | None = None
    # The heading is the indication of the statements under it ("For cord
    # compression ... without instability"): kept with them wherever they appear.
    condition: bool = False
    # The first statement is the lead-in of the others (always so without a heading).
    lead_in: bool = False


@dataclass(frozen=True)
class Gap:
    """What the source does not say; `see` names the statements it rests on."""

    id: str
    text: str
    see: tuple[str, ...]


@dataclass(frozen=True)
class Treatment:
    id: str
    title: str
    pathways: tuple[str, ...]
    indication: tuple[str, ...]
    technique: tuple[str, ...]
    evidence: tuple[str, ...]
    outcomes: tuple[str, ...]
    complications: tuple[str, ...]
    pitfalls: tuple[str, ...]
    gaps: tuple[str, ...] = ()  # besides those of its pathways' leaves


@dataclass(frozen=True)
class Source:
    question: str
    title: str
    publisher: str
    updated: date
    notice: str
    review_status: str
    review_stages: tuple[str, ...]
    audience: str
    disclaimer_title: str
    disclaimer: str


@dataclass(frozen=True)
class Guide:
    source: Source
    references: tuple[Reference, ...]
    abbreviations: tuple[Abbreviation, ...]
    sections: tuple[Section, ...]
    gaps: tuple[Gap, ...]
    treatments: tuple[Treatment, ...]

    @property
    def statements(self) -> dict[str, Statement]:
        return {s.id: s for sec in self.sections for s in sec.statements}

    @property
    def gap_index(self) -> dict[str, Gap]:
        return {g.id: g for g in self.gaps}

    def condition_of(self, statement_id: str) -> str | None:
        """The heading that is a statement's indication (a `condition` section), if any."""
        by_id = {sec.id: sec for sec in self.sections}
        sec = by_id[self.statements[statement_id].section]
        while sec.heading is None and sec.parent is not None:  # a lead-in: its parent's
            sec = by_id[sec.parent]
        return sec.heading if sec.condition else None


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    help: str
    options: tuple[Option, ...]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Node:
    """A question node: reads `field`, sends each value to a node or leaf id."""

    id: str
    field: str
    branches: dict[str, str]  # value (or "*") -> node or leaf id

    def target(self, value: str) -> str:
        return self.branches.get(value) or self.branches["*"]


@dataclass(frozen=True)
class Alternative:
    pathway: str
    because: tuple[str, ...]  # statement ids
    gap: str | None = None  # what the source does not say of it (a gap id)


# What a leaf rule can add to a result when its field has its value.
RULE_EFFECTS = ("add_step", "add_evidence", "add_gap", "add_alternative")


@dataclass(frozen=True)
class LeafRule:
    """Read at a leaf: when `field` has `value`, add one thing (one of RULE_EFFECTS)."""

    id: str
    field: str
    value: str
    add_step: str | None = None  # a statement id (an action)
    add_alternative: Alternative | None = None
    add_evidence: str | None = None  # a statement id (a figure or series)
    add_gap: str | None = None  # a gap id
    # Replaces the pathway's title when the rule fires: a result that is a gap
    # says so in its title (decision.md section 2).
    title: str | None = None


@dataclass(frozen=True)
class Leaf:
    id: str
    pathway: str
    steps: tuple[str, ...]  # actions only (decision.md v2)
    evidence: tuple[str, ...] = ()  # the figures behind the pathway, never actions
    gaps: tuple[str, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    rules: tuple[LeafRule, ...] = ()


@dataclass(frozen=True)
class Pathway:
    id: str
    title: str
    outcomes: tuple[str, ...] = ()
    surgical: bool = False


@dataclass(frozen=True)
class WarningRule:
    """A pitfall raised when every `when` pair holds (id = pitfall statement id)."""

    id: str
    when: dict[str, str]  # field -> value
    surgical: bool | None = None
    symptomatic: bool | None = None


@dataclass(frozen=True)
class Algorithm:
    always_read: tuple[str, ...]
    start: str
    urgency_field: str
    urgent_when: str
    urgent_first_step: str  # statement id: the first step of every urgent result
    questions: tuple[Question, ...]
    nodes: tuple[Node, ...]
    leaves: tuple[Leaf, ...]
    pathways: tuple[Pathway, ...]
    warnings: tuple[WarningRule, ...]

    @property
    def question_index(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @property
    def node_index(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    @property
    def leaf_index(self) -> dict[str, Leaf]:
        return {leaf.id: leaf for leaf in self.leaves}

    @property
    def pathway_index(self) -> dict[str, Pathway]:
        return {p.id: p for p in self.pathways}


@dataclass(frozen=True)
class Content:
    guide: Guide
    algorithm: Algorithm


# --- Reading with collected errors ----------------------------------------------


_MISSING = object()


@dataclass
class _Reader:
    """Walks raw TOML, collecting one message per problem instead of stopping."""

    file: str
    problems: list[str] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.problems.append(f"{self.file}: {path}: {message}")

    def table(self, raw: Any, path: str, required: dict, optional: dict) -> dict | None:
        """Check a table's keys and value types; returns raw or None if unusable.

        `path` is "" for the file's top level.
        """
        if not isinstance(raw, dict):
            self.error(path, f"expected a table, found {_describe(raw)}")
            return None
        allowed = {**required, **optional}
        for key in raw:
            if key not in allowed:
                near = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                self.error(_at(path, key), f"unknown key{hint}; allowed: {', '.join(allowed)}")
        ok = True
        for key, kind in allowed.items():
            at = _at(path, key)
            value = raw.get(key, _MISSING)
            if value is _MISSING:
                if key in required:
                    self.error(at, f"missing; expected {_kind_name(kind)}")
                    ok = False
                continue
            if not _is(value, kind):
                self.error(at, f"expected {_kind_name(kind)}, found {_describe(value)}")
                ok = False
            elif kind in LIST_ITEMS:
                for i, item in enumerate(value):
                    if not _is(item, LIST_ITEMS[kind]):
                        self.error(
                            f"{at}[{i}]",
                            f"expected {_kind_name(LIST_ITEMS[kind])}, found {_describe(item)}",
                        )
                        ok = False
        return raw if ok else None

    def array(self, raw: dict, key: str, path: str) -> list[tuple[str, Any]]:
        """Items of an array of tables with their field paths."""
        items = raw.get(key, [])
        if not isinstance(items, list):
            return []
        return [(f"{path}{key}[{i}]", item) for i, item in enumerate(items)]


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is(value: Any, kind: Any) -> bool:
    """Whether value has kind; for a list kind, only whether it is a list."""
    if kind in LIST_ITEMS or kind == "tables":
        return isinstance(value, list)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _kind_name(kind: Any) -> str:
    names = {
        str: "text",
        int: "a whole number",
        bool: "true or false",
        dict: "a table",
        date: "a date (YYYY-MM-DD)",
        "strs": "a list of texts",
        "ints": "a list of whole numbers",
        "tables": "a list of tables",
    }
    return names.get(kind, str(kind))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()  # as TOML writes it
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "a list of tables"  # [[name]] where [name] was meant
    kind = {
        str: "text",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if not isinstance(value, dict | list) else kind


def _read_toml(path: Path, problems: list[str]) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        problems.append(f"{path.name}: cannot be read ({e.strerror})")
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path.name}: not valid TOML ({e})")
    except UnicodeDecodeError as e:
        # TOML is UTF-8; a file saved as Latin-1 or UTF-16 fails here, not in the parser.
        problems.append(
            f"{path.name}: not UTF-8 text (byte {e.start} is 0x{e.object[e.start]:02x});"
            " save the file as UTF-8"
        )
    return {}


# --- guide.toml -------------------------------------------------------------------


def _read_guide(raw: dict, r: _Reader) -> Guide:
    r.table(
        raw,
        "",
        {"source": dict, "references": "tables", "sections": "tables", "treatments": "tables"},
        {"abbreviations": "tables", "gaps": "tables"},
    )
    # A missing or non-table source was reported at the top level, just above.
    src = raw.get("source")
    src = (
        r.table(
            src,
            "source",
            {
                "question": str,
                "title": str,
                "publisher": str,
                "updated": date,
                "notice": str,
                "review_status": str,
                "review_stages": "strs",
                "audience": str,
                "disclaimer_title": str,
                "disclaimer": str,
            },
            {},
        )
        if isinstance(src, dict)
        else None
    )
    source = Source(**{**src, "review_stages": tuple(src["review_stages"])}) if src else None

    references = []
    for path, item in r.array(raw, "references", ""):
        t = r.table(
            item, path, {"number": int, "provenance": str, "evidence": str}, {"citation": str}
        )
        if not t:
            continue
        if t["provenance"] not in PROVENANCES:
            r.error(
                f"{path}.provenance",
                f"expected one of {', '.join(PROVENANCES)}, found {t['provenance']!r}",
            )
        if t["provenance"] != "not identified" and "citation" not in t:
            r.error(
                f"{path}.citation", f"missing; a '{t['provenance']}' reference needs its citation"
            )
        references.append(Reference(t["number"], t["provenance"], t.get("citation"), t["evidence"]))

    abbreviations = [
        Abbreviation(t["term"], t["expansion"])
        for path, item in r.array(raw, "abbreviations", "")
        if (t := r.table(item, path, {"term": str, "expansion": str}, {}))
    ]

    sections = []
    for path, item in r.array(raw, "sections", ""):
        t = r.table(
            item,
            path,
            {"id": str, "statements": "tables"},
            {"heading": str, "parent": str, "lead": str, "condition": bool, "lead_in": bool},
        )
        if not t:
            continue
        statements = []
        for spath, sitem in r.array(t, "statements", f"{path}."):
            s = r.table(
                sitem,
                spath,
                {"id": str, "text": str},
                {"refs": "ints", "label": str, "uncited": bool},
            )
            if not s:
                continue
            st = Statement(
                s["id"],
                t["id"],
                s["text"],
                tuple(s.get("refs", ())),
                s.get("label"),
                s.get("uncited", False),
            )
            # A clinical statement must carry the article's citation, or say it has none.
            if not st.all_refs and not st.uncited:
                r.error(
                    f"{spath}.refs",
                    "missing; a statement needs its reference numbers"
                    " (or uncited = true if the source prints none)",
                )
            if st.all_refs and st.uncited:
                cited = ", ".join(map(str, st.all_refs))
                r.error(
                    f"{spath}.uncited",
                    f"is true, but the statement cites [{cited}]; keep one of the two",
                )
            statements.append(st)
        sections.append(
            Section(
                t["id"],
                t.get("heading"),
                tuple(statements),
                t.get("parent"),
                t.get("lead"),
                condition=t.get("condition", False),
                lead_in=t.get("lead_in", False) or "heading" not in t,
            )
        )

    gaps = [
        Gap(t["id"], t["text"], tuple(t["see"]))
        for path, item in r.array(raw, "gaps", "")
        if (t := r.table(item, path, {"id": str, "text": str, "see": "strs"}, {}))
    ]

    treatments = []
    for path, item in r.array(raw, "treatments", ""):
        roles = dict.fromkeys(TREATMENT_ROLES, "strs")
        t = r.table(
            item, path, {"id": str, "title": str, "pathways": "strs", **roles}, {"gaps": "strs"}
        )
        if t:
            treatments.append(
                Treatment(**{k: tuple(v) if isinstance(v, list) else v for k, v in t.items()})
            )

    guide = Guide(
        source,
        tuple(references),
        tuple(abbreviations),
        tuple(sections),
        tuple(gaps),
        tuple(treatments),
    )
    if not r.problems:
        _check_guide(guide, raw, r)
    return guide


def _check_guide(guide: Guide, raw: dict, r: _Reader) -> None:
    for i, sec in enumerate(guide.sections):
        _id_well_formed(r, f"sections[{i}].id", sec.id)
        for j, st in enumerate(sec.statements):
            _id_well_formed(r, f"sections[{i}].statements[{j}].id", st.id)
    for kind, items in (("gaps", guide.gaps), ("treatments", guide.treatments)):
        for i, item in enumerate(items):
            _id_well_formed(r, f"{kind}[{i}].id", item.id)
    for i, a in enumerate(guide.abbreviations):
        # `*[term]: expansion` on one line: a bracket, backslash or line break ends it early.
        if not TERM_RE.fullmatch(a.term):
            r.error(
                f"abbreviations[{i}].term",
                f"{a.term[:MAX_ID]!r} is not a term: letters, digits, spaces and . + - /,"
                f" at most {MAX_ID} characters",
            )
    numbers = [ref.number for ref in guide.references]
    _unique(r, "references", [str(n) for n in numbers], "number")
    known_refs = set(numbers)
    ids = [s.id for sec in guide.sections for s in sec.statements]
    _unique(r, "sections", [sec.id for sec in guide.sections], "id")
    _unique(r, "sections[].statements", ids, "id")
    _unique(r, "gaps", [g.id for g in guide.gaps], "id")
    _unique(r, "treatments", [t.id for t in guide.treatments], "id")
    for i, sec in enumerate(guide.sections):
        for j, st in enumerate(sec.statements):
            for n in st.all_refs:
                if n not in known_refs:
                    r.error(
                        f"sections[{i}].statements[{j}] ({st.id})",
                        f"cites reference {n}, which does not exist;"
                        f" references: {', '.join(map(str, sorted(known_refs)))}",
                    )
    earlier: set[str] = set()
    for i, sec in enumerate(guide.sections):
        # The article's nesting: a parent comes first, so the nesting has no cycle.
        if sec.parent is not None and sec.parent not in earlier:
            _refs_exist(r, f"sections[{i}].parent", (sec.parent,), earlier, "earlier section")
        if sec.heading is None and (sec.parent is None or not sec.statements):
            r.error(
                f"sections[{i}].heading",
                "missing; only a lead-in under a parent section, with statements, has none",
            )
        earlier.add(sec.id)
    known = set(ids)
    for i, gap in enumerate(guide.gaps):
        _refs_exist(r, f"gaps[{i}].see", gap.see, known, "statement")
    for i, t in enumerate(guide.treatments):
        for role in TREATMENT_ROLES:
            _refs_exist(r, f"treatments[{i}].{role}", getattr(t, role), known, "statement")
        _refs_exist(r, f"treatments[{i}].gaps", t.gaps, set(guide.gap_index), "gap")


# Ids become file names, anchors, URL parameters and form names: nothing else.
ID_RE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
MAX_ID = 64
TERM_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 .+/-]{0,62}[A-Za-z0-9.+])?")


def _id_well_formed(r: _Reader, path: str, value: str) -> None:
    if len(value) > MAX_ID or not ID_RE.fullmatch(value):
        r.error(
            path,
            f"{value[:MAX_ID]!r} is not an id: lower-case letters and digits, joined by"
            f" single - or _, at most {MAX_ID} characters",
        )


def _unique(r: _Reader, path: str, values: list[str], key: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            r.error(path, f"duplicated {key} {v!r}")
        seen.add(v)


def _refs_exist(r: _Reader, path: str, names: tuple[str, ...], known: set[str], what: str) -> None:
    for name in names:
        if name not in known:
            near = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            r.error(path, f"unknown {what} {name!r}{hint}")


# --- algorithm.toml -----------------------------------------------------------------


def _read_algorithm(raw: dict, r: _Reader) -> Algorithm:
    top = (
        r.table(
            raw,
            "",
            {
                "always_read": "strs",
                "start": str,
                "urgency": dict,
                "questions": "tables",
                "nodes": "tables",
                "leaves": "tables",
                "pathways": "tables",
                "warnings": "tables",
            },
            {},
        )
        or {}
    )
    # A missing or non-table urgency was reported at the top level, just above.
    urgency = raw.get("urgency")
    urgency = (
        r.table(urgency, "urgency", {"field": str, "urgent_when": str, "first_step": str}, {})
        if isinstance(urgency, dict)
        else None
    ) or {}

    questions = []
    for path, item in r.array(raw, "questions", ""):
        t = r.table(item, path, {"id": str, "label": str, "help": str, "options": "tables"}, {})
        if not t:
            continue
        options = [
            Option(o["value"], o["label"])
            for opath, oitem in r.array(t, "options", f"{path}.")
            if (o := r.table(oitem, opath, {"value": str, "label": str}, {}))
        ]
        questions.append(Question(t["id"], t["label"], t["help"], tuple(options)))

    nodes = [
        Node(t["id"], t["field"], dict(t["branches"]))
        for path, item in r.array(raw, "nodes", "")
        if (t := r.table(item, path, {"id": str, "field": str, "branches": dict}, {}))
    ]

    def alternative(t: dict, key: str) -> Alternative:
        return Alternative(t[key], tuple(t.get("because", ())), t.get("gap"))

    leaves = []
    for path, item in r.array(raw, "leaves", ""):
        t = r.table(
            item,
            path,
            {"id": str, "pathway": str, "steps": "strs"},
            {"evidence": "strs", "gaps": "strs", "alternatives": "tables", "rules": "tables"},
        )
        if not t:
            continue
        alts = [
            alternative(a, "pathway")
            for apath, aitem in r.array(t, "alternatives", f"{path}.")
            if (a := r.table(aitem, apath, {"pathway": str, "because": "strs"}, {"gap": str}))
        ]
        rules = []
        for rpath, ritem in r.array(t, "rules", f"{path}."):
            rule = r.table(
                ritem,
                rpath,
                {"id": str, "field": str, "value": str},
                {**dict.fromkeys(RULE_EFFECTS, str), "because": "strs", "gap": str, "title": str},
            )
            if not rule:
                continue
            effects = [k for k in RULE_EFFECTS if k in rule]
            if len(effects) != 1:
                found = ", ".join(effects) or "none"
                r.error(rpath, f"expected exactly one of {', '.join(RULE_EFFECTS)}, found {found}")
            alt = alternative(rule, "add_alternative") if "add_alternative" in rule else None
            rules.append(
                LeafRule(
                    rule["id"],
                    rule["field"],
                    rule["value"],
                    add_step=rule.get("add_step"),
                    add_alternative=alt,
                    add_evidence=rule.get("add_evidence"),
                    add_gap=rule.get("add_gap"),
                    title=rule.get("title"),
                )
            )
        leaves.append(
            Leaf(
                t["id"],
                t["pathway"],
                tuple(t["steps"]),
                tuple(t.get("evidence", ())),
                tuple(t.get("gaps", ())),
                tuple(alts),
                tuple(rules),
            )
        )

    pathways = [
        Pathway(t["id"], t["title"], tuple(t.get("outcomes", ())), t.get("surgical", False))
        for path, item in r.array(raw, "pathways", "")
        if (
            t := r.table(
                item, path, {"id": str, "title": str}, {"outcomes": "strs", "surgical": bool}
            )
        )
    ]

    warnings = []
    for path, item in r.array(raw, "warnings", ""):
        t = r.table(item, path, {"id": str, "when": dict}, {})
        if not t:
            continue
        when = dict(t["when"])
        flags = {k: when.pop(k) for k in ("surgical", "symptomatic") if k in when}
        for k, v in flags.items():
            if not isinstance(v, bool):
                r.error(f"{path}.when.{k}", f"expected true or false, found {_describe(v)}")
        warnings.append(WarningRule(t["id"], when, flags.get("surgical"), flags.get("symptomatic")))

    return Algorithm(
        tuple(top.get("always_read", ())),
        top.get("start", ""),
        urgency.get("field", ""),
        urgency.get("urgent_when", ""),
        urgency.get("first_step", ""),
        tuple(questions),
        tuple(nodes),
        tuple(leaves),
        tuple(pathways),
        tuple(warnings),
    )


def _check_algorithm(alg: Algorithm, guide: Guide, r: _Reader) -> None:
    questions = alg.question_index
    statements = guide.statements
    pathways = alg.pathway_index
    for i, q in enumerate(alg.questions):
        _id_well_formed(r, f"questions[{i}].id", q.id)
        for j, o in enumerate(q.options):
            _id_well_formed(r, f"questions[{i}].options[{j}].value", o.value)
    for kind, items in (("nodes", alg.nodes), ("leaves", alg.leaves), ("pathways", alg.pathways)):
        for i, item in enumerate(items):
            _id_well_formed(r, f"{kind}[{i}].id", item.id)
    _unique(r, "questions", [q.id for q in alg.questions], "id")
    _unique(r, "nodes and leaves", [n.id for n in alg.nodes] + [x.id for x in alg.leaves], "id")
    _unique(r, "pathways", [p.id for p in alg.pathways], "id")

    def field_value(path: str, name: str, value: str | None = None) -> None:
        if name not in questions:
            _refs_exist(r, path, (name,), set(questions), "question")
        elif value is not None and value not in questions[name].values:
            _refs_exist(r, path, (value,), set(questions[name].values), f"value of {name}")

    for name in (*alg.always_read, alg.urgency_field):
        field_value("always_read/urgency.field", name)
    field_value("urgency.urgent_when", alg.urgency_field, alg.urgent_when)
    _refs_exist(r, "urgency.first_step", (alg.urgent_first_step,), set(statements), "statement")
    targets = set(alg.node_index) | set(alg.leaf_index)
    _refs_exist(r, "start", (alg.start,), targets, "node")
    for i, node in enumerate(alg.nodes):
        path = f"nodes[{i}] ({node.id})"
        field_value(f"{path}.field", node.field)
        for value, target in node.branches.items():
            if value != "*" and node.field in questions:  # else reported once, at .field
                field_value(f"{path}.branches", node.field, value)
            if not isinstance(target, str):
                r.error(
                    f"{path}.branches.{value}",
                    f"expected a node or leaf id, found {_describe(target)}",
                )
            else:
                _refs_exist(r, f"{path}.branches.{value}", (target,), targets, "node or leaf")
        # Every value must lead somewhere: the tree answers every combination.
        if node.field in questions and "*" not in node.branches:
            missing = [v for v in questions[node.field].values if v not in node.branches]
            if missing:
                r.error(
                    f"{path}.branches",
                    f"no branch for {', '.join(map(repr, missing))};"
                    f" each value of {node.field} needs one (or a '*' branch)",
                )
    for i, leaf in enumerate(alg.leaves):
        path = f"leaves[{i}] ({leaf.id})"
        _refs_exist(r, f"{path}.pathway", (leaf.pathway,), set(pathways), "pathway")
        _refs_exist(r, f"{path}.steps", leaf.steps, set(statements), "statement")
        _refs_exist(r, f"{path}.evidence", leaf.evidence, set(statements), "statement")
        _refs_exist(r, f"{path}.gaps", leaf.gaps, set(guide.gap_index), "gap")
        alts = list(leaf.alternatives)
        for j, rule in enumerate(leaf.rules):
            field_value(f"{path}.rules[{j}]", rule.field, rule.value)
            for key, value, known in (
                ("add_step", rule.add_step, statements),
                ("add_evidence", rule.add_evidence, statements),
                ("add_gap", rule.add_gap, guide.gap_index),
            ):
                if value:
                    what = "gap" if key == "add_gap" else "statement"
                    _refs_exist(r, f"{path}.rules[{j}].{key}", (value,), set(known), what)
            if rule.add_alternative:
                alts.append(rule.add_alternative)
        for alt in alts:
            _refs_exist(r, f"{path}.alternatives", (alt.pathway,), set(pathways), "pathway")
            _refs_exist(
                r, f"{path}.alternatives.because", alt.because, set(statements), "statement"
            )
            if alt.gap is not None:
                _refs_exist(r, f"{path}.alternatives.gap", (alt.gap,), set(guide.gap_index), "gap")
    for i, p in enumerate(alg.pathways):
        _refs_exist(r, f"pathways[{i}].outcomes", p.outcomes, set(statements), "statement")
    if not r.problems:  # a broken branch would make the nodes behind it "unreachable" too
        _check_tree_shape(alg, r)
    for i, w in enumerate(alg.warnings):
        _refs_exist(r, f"warnings[{i}].id", (w.id,), set(statements), "pitfall statement")
        for name, value in w.when.items():
            if not isinstance(value, str):
                r.error(f"warnings[{i}].when.{name}", f"expected text, found {_describe(value)}")
            else:
                field_value(f"warnings[{i}].when.{name}", name, value)


def _check_tree_shape(alg: Algorithm, r: _Reader) -> None:
    """The nodes from `start` form a tree walk that ends: no cycle, and every node
    and leaf is reached by some answers (one that is not would be dead content)."""
    nodes = alg.node_index
    position = {n.id: f"nodes[{i}] ({n.id})" for i, n in enumerate(alg.nodes)}
    reached: set[str] = set()
    done: set[str] = set()

    def visit(element_id: str, trail: list[str]) -> None:
        if element_id in trail:  # back on the way here: the walk would never end
            cycle = " → ".join([*trail[trail.index(element_id) :], element_id])
            r.error(f"{position[trail[-1]]}.branches", f"makes a cycle: {cycle}")
            return
        reached.add(element_id)
        node = nodes.get(element_id)
        if node is None or element_id in done:
            return
        for target in node.branches.values():  # each a known id: checked before this runs
            visit(target, [*trail, element_id])
        done.add(element_id)

    visit(alg.start, [])
    for kind, items in (("nodes", alg.nodes), ("leaves", alg.leaves)):
        for i, item in enumerate(items):
            if item.id not in reached:
                r.error(
                    f"{kind}[{i}] ({item.id})",
                    f"unreachable: no answers lead here from {alg.start!r}",
                )


def _check_across(guide: Guide, alg: Algorithm, r: _Reader) -> None:
    """What guide.toml names in algorithm.toml (reported against guide.toml)."""
    for i, t in enumerate(guide.treatments):
        _refs_exist(r, f"treatments[{i}].pathways", t.pathways, set(alg.pathway_index), "pathway")


# --- Entry point ------------------------------------------------------------------


def load_from(directory: Path) -> Content:
    """Load and validate the two content files of `directory`, or raise ContentError."""
    problems: list[str] = []
    guide_raw = _read_toml(directory / "guide.toml", problems)
    alg_raw = _read_toml(directory / "algorithm.toml", problems)
    if problems:
        raise ContentError(problems)
    gr, ar = _Reader("guide.toml"), _Reader("algorithm.toml")
    guide = _read_guide(guide_raw, gr)
    algorithm = _read_algorithm(alg_raw, ar)
    if not gr.problems and not ar.problems:
        _check_algorithm(algorithm, guide, ar)
        _check_across(guide, algorithm, gr)
    problems = gr.problems + ar.problems
    if problems:
        raise ContentError(problems)
    return Content(guide, algorithm)


@cache
def load() -> Content:
    """The package's own content (validated once per process)."""
    return load_from(CONTENT_DIR)
