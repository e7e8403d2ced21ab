"""The diagrams drawn from the tree: the SVG of the whole algorithm, the SVG of the
paths to one pathway, and the Markdown outline that is their text alternative."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
import spine_hemangioma
from spine_hemangioma import diagram, evaluate, questions
from spine_hemangioma.content import load
from spine_hemangioma.engine import Tree
from spine_hemangioma.errors import AlgorithmError

SVG = "{http://www.w3.org/2000/svg}"
ALG = load().algorithm
ELEMENT_IDS = [n.id for n in ALG.nodes] + [leaf.id for leaf in ALG.leaves]
PATHWAYS = [p.id for p in ALG.pathways]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def drawn(root: ET.Element) -> dict[str, ET.Element]:
    """Node and leaf groups by id (edges excluded)."""
    return {
        g.get("data-node"): g
        for g in root.iter(f"{SVG}g")
        if g.get("data-node") and "edge" not in g.get("class", "").split()
    }


def edges(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {
        (g.get("data-from"), g.get("data-to")): g
        for g in root.iter(f"{SVG}g")
        if "edge" in g.get("class", "").split()
    }


def text_of(g: ET.Element, cls: str) -> str:
    return " ".join(t.text for t in g.iter(f"{SVG}text") if cls in t.get("class", "").split())


def classes(g: ET.Element) -> set[str]:
    return set(g.get("class", "").split())


def full_answers() -> list[dict]:
    names = [q["id"] for q in questions()]
    values = [[o["value"] for o in q["options"]] for q in questions()]
    return [dict(zip(names, c, strict=True)) for c in itertools.product(*values)]


# --- The whole algorithm -------------------------------------------------------------


def test_svg_is_an_accessible_scalable_image():
    root = parse(diagram.algorithm_svg())
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    # Natural size as attributes (the page's CSS scales it down, never up); no
    # style attribute, which the content security policy would block.
    assert [root.get("width"), root.get("height")] == root.get("viewBox").split()[2:]
    assert root.get("style") is None
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text.strip()
    assert desc.text.strip()
    assert list(root)[:2] == [title, desc]


def test_style_prints_and_follows_the_text_colour():
    style = parse(diagram.algorithm_svg()).find(f"{SVG}style").text
    sizes = [int(n) for n in re.findall(r"(\d+)px", style)]
    assert sizes
    assert min(sizes) >= 12
    assert "currentColor" in style
    assert "url(" not in style
    assert "@import" not in style
    assert re.search(r"\.urgent \.box.*stroke-dasharray", style, re.DOTALL)


def test_every_node_and_leaf_is_drawn_once_with_its_label():
    svg = diagram.algorithm_svg()
    for element_id in ELEMENT_IDS:
        assert svg.count(f'data-node="{element_id}"') == 1, element_id
    groups = drawn(parse(svg))
    assert set(groups) == set(ELEMENT_IDS)
    for node in ALG.nodes:
        assert "question" in classes(groups[node.id])
        assert text_of(groups[node.id], "title") == ALG.question_index[node.field].label
    for leaf in ALG.leaves:
        assert "pathway" in classes(groups[leaf.id])
        assert text_of(groups[leaf.id], "title") == ALG.pathway_index[leaf.pathway].title


def test_every_branch_is_an_edge_labelled_with_its_options():
    found = edges(parse(diagram.algorithm_svg()))
    expected = {(n.id, t) for n in ALG.nodes for t in n.branches.values()}
    assert set(found) == expected
    for node in ALG.nodes:
        options = ALG.question_index[node.field].options
        for option in options:
            target = node.target(option.value)
            # One branch for every option reads "Any answer", not the list of all.
            every = all(node.target(o.value) == target for o in options)
            label = "Any answer" if every else option.label
            assert label in text_of(found[node.id, target], "answer"), option
            assert found[node.id, target].get("data-node") == f"{node.id}->{target}"


def test_the_urgent_branch_is_dashed_and_said_so():
    root = parse(diagram.algorithm_svg())
    groups, found = drawn(root), edges(root)
    urgent = {
        i for a in full_answers() if a["symptoms"] == "deficit" and a["mri"] == "typical"
        for i in evaluate(a)["path"] if i in groups
    } - {"mri", "symptoms"}  # fmt: skip
    assert {i for i, g in groups.items() if "urgent" in classes(g)} == urgent
    assert {to for (_, to), g in found.items() if "urgent" in classes(g)} == urgent
    assert text_of(found["symptoms", "deficit-surgery-feasible"], "answer").endswith("(urgent)")
    assert "urgent branch" in text_of(root.find(f"{SVG}g"), "answer")


def test_highlight_marks_a_results_path():
    answers = {"mri": "typical", "symptoms": "pain", "instability": "no", "recurrent": "yes"}
    path = evaluate(answers)["path"]
    root = parse(diagram.algorithm_svg(path))
    assert {i for i, g in drawn(root).items() if "on" in classes(g)} == set(path)
    lit = {pair for pair, g in edges(root).items() if "on" in classes(g)}
    assert lit == set(itertools.pairwise(path))


# --- The paths to one pathway ----------------------------------------------------------


@pytest.fixture(scope="module")
def paths_to() -> dict[str, set[str]]:
    """For each pathway, the tree ids of every result that ends in it or offers it."""
    out: dict[str, set[str]] = {p: set() for p in PATHWAYS}
    for answers in full_answers():
        r = evaluate(answers)
        for p in {r["pathway"], *(a["pathway"] for a in r["alternatives"])}:
            out[p] |= {i for i in r["path"] if i in ELEMENT_IDS}
    return out


@pytest.mark.parametrize("pathway", PATHWAYS)
def test_path_svg_holds_exactly_the_paths_to_its_pathway(pathway, paths_to):
    root = parse(diagram.path_svg(pathway))
    groups = drawn(root)
    assert set(groups) == paths_to[pathway]
    assert all(a in groups and b in groups for a, b in edges(root))
    title = ALG.pathway_index[pathway].title
    assert title in root.find(f"{SVG}title").text
    desc = root.find(f"{SVG}desc").text  # each path spelled out: its answers, then the pathway
    assert desc.count(title) == desc.count("; ") + 1


def test_path_svg_of_an_unknown_pathway():
    with pytest.raises(ValueError, match=r"unknown pathway 'vertebroplsty' \(did you mean"):
        diagram.path_svg("vertebroplsty")


# --- The outline --------------------------------------------------------------------------


def test_outline_mentions_every_question_answer_and_pathway():
    outline = diagram.text_outline()
    for q in ALG.questions:
        if q.id in {n.field for n in ALG.nodes}:
            assert f"**{diagram._md(q.label)}**" in outline, q.id
    for p in ALG.pathways:
        assert diagram._md(p.title) in outline, p.id
    for line in outline.splitlines():
        assert re.fullmatch(r"(    )*- \S.*", line), line


def test_outline_nests_as_the_tree_does():
    outline = diagram.text_outline().splitlines()
    rows = diagram.rows()
    items = [line for line in outline if "**" in line]
    assert len(items) == len(rows)
    for line, row in zip(items, rows, strict=True):
        assert len(line) - len(line.lstrip()) == 4 * row.depth


def test_markdown_characters_are_escaped():
    # "<" as an entity: "\\<" is no Markdown escape (the tag would stay HTML).
    assert diagram._md("a*b_c [x] `y` <z>") == r"a\*b\_c \[x\] \`y\` &lt;z>"


# --- Deterministic, and only for a tree --------------------------------------------------

SCRIPT = (
    "from spine_hemangioma import diagram as d;"
    "print(d.algorithm_svg(['mri']) + d.path_svg('radiation') + d.text_outline())"
)


def test_output_is_the_same_in_every_process():
    runs = [
        subprocess.run(
            [sys.executable, "-c", SCRIPT],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    here = diagram.algorithm_svg(["mri"]) + diagram.path_svg("radiation") + diagram.text_outline()
    assert runs[0].decode("utf-8") == here + "\n"


def test_a_shared_leaf_is_refused_by_the_diagram(monkeypatch):
    nodes = tuple(
        replace(n, branches={"yes": "pain-radiation", "no": "pain-recurrent"})
        if n.id == "pain-instability"
        else n
        for n in ALG.nodes
    )
    shared = Tree.of(replace(load(), algorithm=replace(ALG, nodes=nodes)))
    monkeypatch.setattr(diagram, "_tree", lambda: shared)
    with pytest.raises(AlgorithmError, match="'pain-radiation' is reached from"):
        diagram.algorithm_svg()
    assert spine_hemangioma.tree() is not shared
