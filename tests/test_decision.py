"""The decision module against its contract (../shared/spec/decision.md).

Tables: the public conformance cases (calculator/cases.json, the repo's copy of
../shared/spec/cases.json; a test below checks the copy when ../shared/ is there), bad inputs
with their exact messages (golden/bad_inputs.json), and every combination of
answer values with each field also absent, checked against invariants and
against an oracle written from the text of decision.md section 2.

golden/pathways.tsv lists every complete combination, reduced to the fields
it needs, with its pathway, urgency, steps (statement ids, in order),
alternatives, warnings and gaps. After a deliberate change to the algorithm,
regenerate it and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_decision.py -k golden
    git diff tests/golden/pathways.tsv
"""

from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
import spine_hemangioma
from cases import BAD_INPUT, CASES, CASES_FILE, COMPLETE_KEYS, INCOMPLETE_KEYS, mismatches
from spine_hemangioma import AnswerError, engine, evaluate, evaluate_json, questions
from spine_hemangioma.content import Algorithm, load
from spine_hemangioma.engine import Tree
from spine_hemangioma.errors import AlgorithmError

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shared original: beside the repository in CI, absent from other clones.
SHARED_CASES_FILE = REPO_ROOT.parent / "shared" / "spec" / "cases.json"
GOLDEN = Path(__file__).parent / "golden"

# decision.md section 1 and 4: the public field names, values and pathway ids.
CONTRACT_FIELDS = {
    "mri": ["typical", "atypical", "not_done"],
    "symptoms": ["none", "pain", "deficit"],
    "extension": ["intraosseous", "extraosseous"],
    "level": ["cervical", "thoracic", "lumbar", "sacral"],
    "instability": ["no", "yes"],
    "fracture": ["no", "yes"],
    "recurrent": ["no", "yes"],
    "surgery_feasible": ["no", "yes"],  # decision.md: yes/no in one order everywhere
    "preference": ["treatment", "conservative"],
}
CONTRACT_PATHWAYS = {
    "obtain-mri", "atypical-imaging", "observation", "radiation", "embolization-corpectomy",
    "embolization-vertebrectomy", "embolization-laminectomy", "surgical-evaluation",
    "unstable-pain", "vertebroplasty", "conservative",
}  # fmt: skip
ALTERNATIVE_ONLY = {"embolization-alone"}
# Section 2, items 4.2-4.5: the pathways that include surgery (for section 3).
SURGICAL = {
    "embolization-corpectomy", "embolization-vertebrectomy", "embolization-laminectomy",
    "surgical-evaluation",
}  # fmt: skip
SURGERY = re.compile(r"laminectomy|vertebrectomy|spondylectomy|corpectomy|decompression|resection")


class Recording(dict):
    """Answers that remember which fields were read."""

    def __init__(self, answers: dict) -> None:
        super().__init__(answers)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return super().__getitem__(name)


def oracle(a: Recording) -> dict:  # noqa: PLR0911, PLR0912 (one branch per rule of the text)
    """decision.md section 2, read as plain code (a KeyError: a needed answer is missing)."""
    urgency = "urgent" if a["symptoms"] == "deficit" else "routine"
    out = {"urgency": urgency, "alternatives": set(), "fracture_evidence": False, "gaps": set()}
    if a["mri"] == "not_done":
        return {**out, "pathway": "obtain-mri"}
    if a["mri"] == "atypical":
        return {**out, "pathway": "atypical-imaging"}
    if a["symptoms"] == "none":
        return {**out, "pathway": "observation"}
    if a["symptoms"] == "deficit":
        if a["surgery_feasible"] == "no":
            return {**out, "pathway": "radiation", "gaps": {"deficit-surgery-not-feasible"}}
        if a["level"] == "cervical":
            pathway = "embolization-corpectomy"
            if a["extension"] == "extraosseous":
                out["gaps"] = {"cervical-extraosseous"}
        elif a["extension"] == "extraosseous":
            pathway = "embolization-vertebrectomy"
        elif a["instability"] == "yes":
            pathway = "surgical-evaluation"
        else:
            pathway = "embolization-laminectomy"
        alternatives = {"radiation"} if a["recurrent"] == "yes" else set()
        return {**out, "pathway": pathway, "alternatives": alternatives}
    if a["instability"] == "yes":
        return {**out, "pathway": "unstable-pain", "gaps": {"unstable-pain"}}
    if a["recurrent"] == "yes":
        return {**out, "pathway": "radiation", "alternatives": {"conservative"}}
    if a["preference"] == "conservative":
        return {**out, "pathway": "conservative"}
    alternatives = {"conservative"}
    if a["extension"] == "intraosseous":
        alternatives.add("embolization-alone")
    else:
        out["gaps"] = {"painful-extraosseous"}
    return {
        **out,
        "pathway": "vertebroplasty",
        "alternatives": alternatives,
        "fracture_evidence": a["fracture"] == "yes",
    }


def oracle_warnings(a: dict, pathway: str) -> set[str]:
    """decision.md section 3 on the answers given."""
    symptomatic = a.get("symptoms") in {"pain", "deficit"}
    extraosseous = a.get("extension") == "extraosseous"
    return {
        warning
        for warning, applies in [
            ("no-surgery-without-embolization", pathway in SURGICAL),
            ("no-vertebroplasty-with-deficit", a.get("symptoms") == "deficit"),
            ("not-all-pain-needs-surgery", a.get("symptoms") == "pain"),
            ("recognize-extraosseous-extension", extraosseous and symptomatic),
        ]
        if applies
    }


def ids(items: list[dict], key: str) -> list[str]:
    return [item[key] for item in items]


def product(with_absent: bool) -> list[dict]:
    """Every combination of answer values (and, with_absent, of leaving a field out)."""
    choices = [[None] * with_absent + [o["value"] for o in q["options"]] for q in questions()]
    names = [q["id"] for q in questions()]
    return [
        {n: v for n, v in zip(names, combo, strict=True) if v is not None}
        for combo in itertools.product(*choices)
    ]


@pytest.fixture(scope="module")
def every_result() -> list[tuple[dict, dict]]:
    """Every combination, fields absent included, with its result (about 1 s)."""
    return [(a, evaluate(a)) for a in product(with_absent=True)]


@pytest.fixture(scope="module")
def complete_results(every_result) -> list[tuple[dict, dict]]:
    return [(a, r) for a, r in every_result if r["status"] == "complete"]


# --- The public contract ------------------------------------------------------------


def test_conformance_copy_is_the_shared_file():
    if not SHARED_CASES_FILE.is_file():
        pytest.skip(f"no {SHARED_CASES_FILE} beside this clone: the repo copy cannot be compared")
    copy = CASES_FILE.read_text(encoding="utf-8")
    shared = SHARED_CASES_FILE.read_text(encoding="utf-8")
    assert copy == shared, f"{CASES_FILE} is out of date: cp {SHARED_CASES_FILE} {CASES_FILE}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_conformance_case(case):
    result = evaluate(case["answers"])
    assert mismatches(result, case["expect"]) == []
    assert json.loads(evaluate_json(json.dumps(case["answers"]))) == result


@pytest.mark.parametrize("case", BAD_INPUT, ids=lambda c: json.dumps(c["answers"]))
def test_conformance_bad_input(case):
    with pytest.raises(AnswerError) as info:
        evaluate(case["answers"])
    for word in case["message_mentions"]:
        assert word in str(info.value)
    assert json.loads(evaluate_json(json.dumps(case["answers"]))) == {"error": str(info.value)}


def test_questions_are_the_contracts_fields_and_values():
    got = {q["id"]: [o["value"] for o in q["options"]] for q in questions()}
    assert got == CONTRACT_FIELDS
    for q in questions():
        assert set(q) == {"id", "label", "help", "options"}
        assert q["label"]
        assert q["help"]
        assert all(o["label"] for o in q["options"])


def test_disclaimer_is_the_sources_notice_and_disclaimer():
    source = load().guide.source
    assert source.notice in spine_hemangioma.DISCLAIMER
    assert source.disclaimer in spine_hemangioma.DISCLAIMER
    for phrase in ("Educational purpose only", "pending human review", "clinical judgment"):
        assert phrase in spine_hemangioma.DISCLAIMER


# --- Every combination ----------------------------------------------------------------

# decision.md section 4: the basis a reader can check.
SOURCE_DATE = "2025-12-07"
# Gaps the oracle does not derive: they come with a pathway whatever the answers.
# Beyond decision.md's: observation's follow-up, the source's two answers for
# pain (vertebroplasty), a painful recurrence (see the README).
PATHWAY_GAPS = {
    "obtain-mri": {"mri-pending"}, "atypical-imaging": {"atypical-imaging"},
    "observation": {"observation-follow-up"}, "vertebroplasty": {"pain-most-effective"},
    "embolization-corpectomy": {"corpectomy-outcomes"},
    "surgical-evaluation": {"unstable-deficit"}, "conservative": {"conservative-details"},
}  # fmt: skip


def test_every_combination_gives_a_result_of_the_contracts_shape(every_result):
    for answers, r in every_result:
        assert set(r) == (COMPLETE_KEYS if r["status"] == "complete" else INCOMPLETE_KEYS), answers
        assert r["disclaimer"] == spine_hemangioma.DISCLAIMER
        assert (r["version"], r["source_date"]) == (spine_hemangioma.__version__, SOURCE_DATE)
        assert set(r["unused"]) <= set(answers)
        assert r["unused"] == sorted(r["unused"])
        if r["status"] == "incomplete":
            assert r["next_question"] in CONTRACT_FIELDS
            assert r["next_question"] not in answers
        else:
            assert r["pathway"] in CONTRACT_PATHWAYS, answers


def test_every_pathway_node_and_leaf_is_reached(complete_results):
    alg = load().algorithm
    pathways = {r["pathway"] for _, r in complete_results}
    alternatives = {a["pathway"] for _, r in complete_results for a in r["alternatives"]}
    visited = {i for _, r in complete_results for i in r["path"]}
    assert pathways == CONTRACT_PATHWAYS
    assert ALTERNATIVE_ONLY <= alternatives <= CONTRACT_PATHWAYS | ALTERNATIVE_ONLY
    assert {n.id for n in alg.nodes} | {leaf.id for leaf in alg.leaves} <= visited


def test_urgent_exactly_when_deficit(every_result):
    for answers, r in every_result:
        expected = {"deficit": "urgent", None: None}.get(answers.get("symptoms"), "routine")
        assert r["urgency"] == expected, answers


def test_invariants_of_every_complete_result(complete_results):
    for answers, r in complete_results:
        if answers["symptoms"] == "deficit":
            assert r["pathway"] != "vertebroplasty", answers
            assert "vertebroplasty" not in ids(r["alternatives"], "pathway"), answers
        if answers["symptoms"] == "none" and answers["mri"] == "typical":
            assert r["pathway"] == "observation", answers
        texts = [s["text"] for s in r["steps"]]
        # v2, item 1: an urgent patient's first step is the urgent consultation [2].
        if r["urgency"] == "urgent":
            assert "Urgent multidisciplinary consultation" in texts[0], answers
            assert r["steps"][0]["refs"] == [2], answers
        else:
            assert not any("Urgent multidisciplinary" in t for t in texts), answers
        surgery = [i for i, t in enumerate(texts[1:], 1) if SURGERY.search(t)]
        embolization = [i for i, t in enumerate(texts) if "emboliz" in t.lower()]
        if surgery:
            assert embolization, (answers, texts)
            assert embolization[0] <= surgery[0], (answers, texts)


def test_every_complete_result_matches_the_contract_oracle(complete_results):
    for answers, r in complete_results:
        a = Recording(answers)
        try:
            expected = oracle(a)
        except KeyError as e:  # pragma: no cover (reports a failure)
            pytest.fail(f"{answers}: complete without {e}, which decision.md needs")
        assert r["pathway"] == expected["pathway"], answers
        assert set(ids(r["alternatives"], "pathway")) == expected["alternatives"], answers
        assert r["urgency"] == expected["urgency"], answers
        assert set(ids(r["warnings"], "id")) == oracle_warnings(answers, r["pathway"]), answers
        gaps = expected["gaps"] | PATHWAY_GAPS.get(r["pathway"], set())
        if r["pathway"] == "radiation" and answers["symptoms"] == "pain":
            gaps |= {"radiation-outcomes", "recurrent-pain"}
        assert set(ids(r["gaps"], "id")) == gaps, answers
        fracture = load().guide.statements["vertebroplasty-fracture"].text
        assert (fracture in [s["text"] for s in r["evidence"]]) == expected["fracture_evidence"]
        assert fracture not in [s["text"] for s in r["steps"]], answers


def test_no_text_twice_in_one_result(complete_results):
    """decision.md section 4: no statement twice; a pitfall is never also a step."""
    for answers, r in complete_results:
        texts = [
            item["text"]
            for part in ("steps", "evidence", "alternatives", "warnings", "outcomes", "gaps")
            for item in r[part]
            if item["text"]
        ]
        assert len(texts) == len(set(texts)), answers
        pieces = [t for t in texts if " — " not in t]  # a pitfall's reason is not reused either
        for w in r["warnings"]:
            assert not any(p in w["text"] for p in pieces), (answers, w["id"])


def test_steps_are_actions_and_figures_are_evidence(complete_results):
    """v2, item 2: a figure ("1 of 11", "47 ...", "7 of 9") is evidence, never a step."""
    figure = re.compile(r"\b\d+ of \d+\b|\b(?:Three|Seven|All three|47|13)\b")
    for answers, r in complete_results:
        for s in r["steps"]:
            assert not figure.search(s["text"]), (answers, s["text"])


def test_the_calculator_asks_exactly_what_the_contract_reads():
    """Answering only next_question, again and again, reaches the same pathway."""
    for full in product(with_absent=False):
        asked: dict[str, str] = {}
        while (r := evaluate(asked))["status"] == "incomplete":
            asked[r["next_question"]] = full[r["next_question"]]
        a = Recording(full)
        expected = oracle(a)
        assert set(asked) == a.read, full
        assert r["pathway"] == expected["pathway"], full
        assert r["unused"] == [], full
        assert sorted(set(full) - set(asked) - {"extension"}) == evaluate(full)["unused"], full


def test_unused_of_an_incomplete_result_stays_unused(every_result):
    for answers, r in every_result:
        if r["status"] == "incomplete" and r["unused"]:
            done = dict(answers)
            while (later := evaluate(done))["status"] == "incomplete":
                done[later["next_question"]] = CONTRACT_FIELDS[later["next_question"]][-1]
            assert set(r["unused"]) <= set(later["unused"]), answers


def shown_text(guide, s) -> str:
    """A statement as a result shows it: label, or the article's condition, then its text."""
    text = f"{s.label} — {s.text}" if s.label else s.text
    condition = guide.condition_of(s.id)
    return f"{condition}: {text}" if condition else text


def test_texts_and_references_come_from_the_guide(complete_results):
    guide = load().guide
    statements = {shown_text(guide, s): list(s.all_refs) for s in guide.statements.values()}
    gap_refs = {
        g.text: sorted({n for sid in g.see for n in guide.statements[sid].all_refs})
        for g in guide.gaps
    }
    statements |= gap_refs  # an alternative ends with what the source does not say of it
    gaps = {g.id: g.text for g in guide.gaps}
    known = {ref.number for ref in guide.references}
    for answers, r in complete_results:
        for item in r["steps"] + r["evidence"] + r["outcomes"] + r["warnings"]:
            assert statements.get(item["text"]) == item["refs"], (answers, item)
        shown = {item["text"] for part in ("steps", "evidence", "warnings") for item in r[part]}
        for alt in r["alternatives"]:
            rest, refs = alt["text"], set()
            while rest:  # the text is whole statements, one after the other
                first = next((t for t in statements if rest.startswith(t)), None)
                assert first, (answers, alt)
                refs |= set(statements[first])
                rest = rest[len(first) :].lstrip()
            # A statement shown elsewhere in the result is cited, not repeated.
            refs |= {n for t in shown for n in statements.get(t, [])} & set(alt["refs"])
            assert alt["refs"] == sorted(refs), (answers, alt)
            assert alt["refs"], (answers, alt)
        for gap in r["gaps"]:
            assert gaps[gap["id"]] == gap["text"]
        cited = {n for part in ("steps", "evidence", "alternatives", "warnings", "outcomes", "gaps")
                 for item in r[part] for n in item["refs"]}  # fmt: skip
        assert r["refs"] == sorted(cited), answers
        assert cited <= known, answers


def test_evaluate_json_is_evaluate_in_json():
    for answers in product(with_absent=False)[::7]:
        assert json.loads(evaluate_json(json.dumps(answers))) == evaluate(answers)


# --- Golden table ------------------------------------------------------------------------

GOLDEN_HEADER = "answers\tpathway\turgency\tsteps\tevidence\talternatives\twarnings\tgaps"


def golden_rows() -> list[str]:
    """Each complete combination reduced to the fields it reads, once, with its result."""
    statement_of = {shown_text(load().guide, s): s.id for s in load().guide.statements.values()}
    rows = {}
    for full in product(with_absent=False):
        r = evaluate(full)
        needed = " ".join(f"{k}={v}" for k, v in full.items() if k not in r["unused"])
        columns = [
            needed,
            r["pathway"],
            r["urgency"],
            ",".join(statement_of[s["text"]] for s in r["steps"]),  # in order
            ",".join(statement_of[s["text"]] for s in r["evidence"]),
            ",".join(ids(r["alternatives"], "pathway")),
            ",".join(ids(r["warnings"], "id")),
            ",".join(ids(r["gaps"], "id")),
        ]
        rows.setdefault(needed, "\t".join(columns))
    return [GOLDEN_HEADER, *rows.values()]


def test_golden_pathways_table():
    path = GOLDEN / "pathways.tsv"
    rows = golden_rows()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    regenerate = "UPDATE_GOLDEN=1 pytest tests/test_decision.py -k golden, then review the diff"
    assert path.is_file(), f"{path} is missing: run {regenerate}"
    assert path.read_text(encoding="utf-8").splitlines() == rows, (
        f"the algorithm's results changed: if on purpose, run {regenerate}"
    )


def test_golden_rows_need_no_other_answer():
    for row in golden_rows()[1:]:
        needed, pathway, *_ = row.split("\t")
        r = evaluate(dict(pair.split("=") for pair in needed.split()))
        assert (r["status"], r["pathway"], r["unused"]) == ("complete", pathway, []), row


# --- Incomplete results -------------------------------------------------------------------

T, P = {"mri": "typical"}, {"mri": "typical", "symptoms": "pain"}
PAIN_TO_VERTEBROPLASTY = {**P, "instability": "no", "recurrent": "no", "preference": "treatment"}


@pytest.mark.parametrize(
    ("answers", "next_question", "urgency", "path", "unused"),
    [
        ({}, "mri", None, [], []),
        ({"symptoms": "deficit"}, "mri", "urgent", [], []),
        (T, "symptoms", None, [], []),
        ({"mri": "not_done", "level": "lumbar"}, "symptoms", None, [], []),
        ({**T, "symptoms": "deficit"}, "surgery_feasible", "urgent",
         ["mri", "symptoms", "deficit-surgery-feasible"], []),
        ({**P, "level": "lumbar", "surgery_feasible": "no"}, "instability", "routine",
         ["mri", "symptoms", "pain-instability"], ["level", "surgery_feasible"]),
        (PAIN_TO_VERTEBROPLASTY, "fracture", "routine",
         ["mri", "symptoms", "pain-instability", "pain-recurrent", "pain-preference",
          "vertebroplasty", "vertebroplasty-fracture"], []),
        ({**T, "symptoms": "deficit", "surgery_feasible": "yes", "level": "cervical"},
         "extension", "urgent",
         ["mri", "symptoms", "deficit-surgery-feasible", "deficit-level",
          "embolization-corpectomy", "corpectomy-extraosseous"], []),
        ({**T, "symptoms": "deficit", "surgery_feasible": "yes", "level": "cervical",
          "extension": "intraosseous"}, "recurrent", "urgent",
         ["mri", "symptoms", "deficit-surgery-feasible", "deficit-level",
          "embolization-corpectomy", "corpectomy-extraosseous", "corpectomy-recurrent"], []),
    ],
)  # fmt: skip
def test_incomplete_result(answers, next_question, urgency, path, unused):
    r = evaluate(answers)
    assert r == {
        "status": "incomplete",
        "next_question": next_question,
        "urgency": urgency,
        "path": path,
        "unused": unused,
        "version": spine_hemangioma.__version__,
        "source_date": SOURCE_DATE,
        "disclaimer": spine_hemangioma.DISCLAIMER,
    }


# --- A broken tree is a bug, reported as one -------------------------------------------------


def _broken(**nodes) -> Algorithm:
    """The package's algorithm with some nodes' branches replaced."""
    alg = load().algorithm
    return replace(
        alg, nodes=tuple(replace(n, branches=nodes.get(n.id, n.branches)) for n in alg.nodes)
    )


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ({"pain-preference": {"*": "nowhere"}}, "'pain-preference' leads to 'nowhere', which does"),
        (
            {"pain-preference": {"*": "pain-instability"}},
            "the tree loops back to 'pain-instability'",
        ),
    ],
    ids=["unknown target", "loop"],
)
def test_a_broken_tree_is_refused_when_indexed(nodes, message):
    with pytest.raises(AlgorithmError, match=re.escape(message)):
        Tree.of(replace(load(), algorithm=_broken(**nodes)))


def test_a_shared_leaf_is_walked_like_any_other():
    # Two branches may end in one leaf; the tree is then a DAG, which the engine accepts.
    shared = {"pain-instability": {"yes": "pain-radiation", "no": "pain-recurrent"}}
    tree = Tree.of(replace(load(), algorithm=_broken(**shared)))
    assert tree.reach["pain-instability"] == spine_hemangioma.tree().reach["pain-instability"]
    answers = {"mri": "typical", "symptoms": "pain", "instability": "yes"}
    assert engine.evaluate(tree, answers)["pathway"] == "radiation"
    assert "unstable-pain" not in tree.reach


PAIN = {"mri": "typical", "symptoms": "pain", "instability": "no", "recurrent": "no"}
LOOP = replace(load().algorithm.node_index["pain-preference"], branches={"*": "pain-instability"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("pain-preference"), "'pain-recurrent' leads to 'pain-preference', which"),
        (
            lambda e: e.update({"pain-preference": LOOP}),
            "the tree loops back to 'pain-instability'",
        ),
        (lambda e: e.update({"pain-preference": 3}), "'pain-preference' is a int, not a node or"),
    ],
    ids=["unknown node", "loop", "unknown kind"],
)
def test_a_broken_tree_stops_the_walk(change, message):
    tree = spine_hemangioma.tree()
    elements = dict(tree.elements)
    change(elements)
    with pytest.raises(AlgorithmError, match=re.escape(message)):
        engine.walk(replace(tree, elements=elements), {**PAIN, "preference": "treatment"})
