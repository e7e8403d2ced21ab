"""Broken content, as a careless author makes it: each case is one ContentError
naming the file and the field, `python -m generator build` exits 2 with it,
and site/, docs/ and dist/ are byte for byte what they were.

Also: the package's own content broken (the README's `ref`-for-`refs`
example, in a copy of the repository whose package comes first on the path)
is the documented list and exit 2 from the build, and one line and exit 2
from `python -m spine_hemangioma`: nothing reads the content at import.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from build_copy import REPO_ROOT, build_env, copy_repo
from spine_hemangioma import __main__ as cli
from spine_hemangioma.content import CONTENT_DIR, ContentError, load_from

REAL = load_from(CONTENT_DIR)
NODES, LEAVES = len(REAL.algorithm.nodes), len(REAL.algorithm.leaves)
GAPS = len(REAL.guide.gaps)
TREATMENT = next(i for i, t in enumerate(REAL.guide.treatments) if t.pathways)
FIRST_NODE = REAL.algorithm.nodes[0]
A_LEAF = REAL.algorithm.leaves[0]
A_STATEMENT = next(iter(REAL.guide.statements))
ID_RULE = "lower-case letters and digits, joined by single - or _, at most 64 characters"


def replace_once(file: str, old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        text = (folder / file).read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {file}"
        (folder / file).write_text(text.replace(old, new), encoding="utf-8")

    return change


def append(file: str, text: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        with (folder / file).open("a", encoding="utf-8") as f:
            f.write("\n" + text)

    return change


def reencode(file: str, encoding: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / file
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding, "replace"))

    return change


def first_non_ascii(file: str) -> int:
    data = (CONTENT_DIR / file).read_text(encoding="utf-8").encode("cp1252", "replace")
    return next(i for i, b in enumerate(data) if b >= 0x80)


GUIDE_BYTE = first_non_ascii("guide.toml")
# The branch of the first node that leads to another node: sent back to the first.
LOOP_VALUE, LOOP_TARGET = next(
    (v, t) for v, t in FIRST_NODE.branches.items() if t in REAL.algorithm.node_index
)
LOOP_BRANCHES = ", ".join(f'{v} = "{t}"' for v, t in FIRST_NODE.branches.items())

# (id, change to a copy of the real content, one problem it must report exactly)
CASES = [
    (
        "guide not UTF-8",
        reencode("guide.toml", "cp1252"),
        f"guide.toml: not UTF-8 text (byte {GUIDE_BYTE} is"
        f" 0x{'•'.encode('cp1252')[0]:02x}); save the file as UTF-8",
    ),
    (
        "algorithm is UTF-16",
        reencode("algorithm.toml", "utf-16"),
        "algorithm.toml: not UTF-8 text (byte 0 is 0xff); save the file as UTF-8",
    ),
    (
        "TOML syntax",
        replace_once("guide.toml", "[source]", "[source"),
        "guide.toml: not valid TOML (Expected ']' at the end of a table declaration"
        " (at line 15, column 8))",
    ),
    (
        "cycle",
        replace_once(
            "algorithm.toml",
            f"branches = {{ {LOOP_BRANCHES} }}",
            f"branches = {{ {LOOP_BRANCHES.replace(f'"{LOOP_TARGET}"', f'"{FIRST_NODE.id}"')} }}",
        ),
        f"algorithm.toml: nodes[0] ({FIRST_NODE.id}).branches: makes a cycle:"
        f" {FIRST_NODE.id} → {FIRST_NODE.id}",
    ),
    (
        "unreachable node",
        append(
            "algorithm.toml",
            f'[[nodes]]\nid = "orphan"\nfield = "{FIRST_NODE.field}"\n'
            f'branches = {{ "*" = "{A_LEAF.id}" }}\n',
        ),
        f"algorithm.toml: nodes[{NODES}] (orphan): unreachable: no answers lead here"
        f" from '{REAL.algorithm.start}'",
    ),
    (
        "unreachable leaf",
        append(
            "algorithm.toml",
            f'[[leaves]]\nid = "orphan-leaf"\npathway = "{A_LEAF.pathway}"\n'
            f'steps = ["{A_STATEMENT}"]\n',
        ),
        f"algorithm.toml: leaves[{LEAVES}] (orphan-leaf): unreachable: no answers lead here"
        f" from '{REAL.algorithm.start}'",
    ),
    (
        "treatment names an unknown pathway",
        lambda folder: _treatment_pathway(folder, "nowhere"),
        f"guide.toml: treatments[{TREATMENT}].pathways: unknown pathway 'nowhere'",
    ),
    (
        "id that is a path",
        append("guide.toml", f'[[gaps]]\nid = "../../etc"\ntext = "t"\nsee = ["{A_STATEMENT}"]\n'),
        f"guide.toml: gaps[{GAPS}].id: '../../etc' is not an id: {ID_RULE}",
    ),
    (
        "abbreviation term with a bracket",
        append("guide.toml", '[[abbreviations]]\nterm = "A]B"\nexpansion = "x"\n'),
        f"guide.toml: abbreviations[{len(REAL.guide.abbreviations)}].term: 'A]B' is not a term:"
        " letters, digits, spaces and . + - /, at most 64 characters",
    ),
]


def _treatment_pathway(folder: Path, pathway: str) -> None:
    treatment = REAL.guide.treatments[TREATMENT]
    old = "pathways = [" + ", ".join(f'"{p}"' for p in treatment.pathways) + "]"
    new = old.replace(f'"{treatment.pathways[0]}"', f'"{pathway}"')
    text = (folder / "guide.toml").read_text(encoding="utf-8")
    marker = f'id = "{treatment.id}"'
    head, _, tail = text.partition(marker)
    (folder / "guide.toml").write_text(head + marker + tail.replace(old, new, 1), "utf-8")


def broken_copy(tmp_path: Path, change: Callable[[Path], None]) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    for name in ("guide.toml", "algorithm.toml"):
        (folder / name).write_bytes((CONTENT_DIR / name).read_bytes())
    change(folder)
    return folder


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): (
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(("change", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_content_is_one_named_problem(tmp_path, change, problem):
    with pytest.raises(ContentError) as info:
        load_from(broken_copy(tmp_path, change))
    assert problem in info.value.problems
    assert all(p.startswith(("guide.toml: ", "algorithm.toml: ")) for p in info.value.problems)


@pytest.mark.parametrize(("change", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_build_refuses_broken_content_and_changes_nothing(tmp_path, change, problem):
    folder = broken_copy(tmp_path, change)
    outputs = [REPO_ROOT / name for name in ("site", "docs", "dist")]
    before = [snapshot(o) for o in outputs]
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--content", str(folder)],
        cwd=REPO_ROOT,
        env=build_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"generator: error: the content in {folder} is invalid")
    assert f"  {problem}\n" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [snapshot(o) for o in outputs] == before


README_EXAMPLE = [
    "guide.toml: sections[1].statements[0].ref: unknown key (did you mean 'refs'?);"
    " allowed: id, text, refs, label, uncited",
    "guide.toml: sections[1].statements[0].refs: missing; a statement needs its reference"
    " numbers (or uncited = true if the source prints none)",
]


@pytest.fixture(scope="module")
def broken_package(tmp_path_factory) -> Path:
    """A repository copy whose package content has the README's mistake."""
    repo = copy_repo(tmp_path_factory.mktemp("broken-package") / "repo")
    guide = repo / "calculator" / "spine_hemangioma" / "content" / "guide.toml"
    second = REAL.guide.sections[1].statements[0]
    text = guide.read_text(encoding="utf-8")
    at = text.index(f'id = "{second.id}"')
    refs = "refs = [" + ", ".join(map(str, second.refs)) + "]"
    at_refs = text.index(refs, at)
    guide.write_text(text[:at_refs] + "ref" + text[at_refs + 4 :], encoding="utf-8")
    return repo


def _run_in(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**build_env(), "PYTHONPATH": str(repo / "calculator")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_broken_package_content_is_the_documented_list_from_the_build(broken_package):
    proc = _run_in(broken_package, "-m", "generator", "build")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].endswith("is invalid (2 problems); nothing written")
    assert [line.strip() for line in lines[1:]] == README_EXAMPLE
    assert not (broken_package / "site").exists()
    assert not (broken_package / "docs" / "index.md").exists()


@pytest.mark.parametrize("args", [['{"mri": "typical"}'], ["--questions"], ["--help"]])
def test_broken_package_content_is_one_line_from_the_cli(broken_package, args):
    proc = _run_in(broken_package, "-m", "spine_hemangioma", *args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        f"spine_hemangioma: error: invalid content: {README_EXAMPLE[0]} (and 1 more problem)\n"
    )


def test_import_reads_no_content(broken_package):
    proc = _run_in(broken_package, "-c", "import spine_hemangioma, spine_hemangioma.diagram")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert (
        os.fspath(broken_package)
        in _run_in(
            broken_package, "-c", "import spine_hemangioma; print(spine_hemangioma.__file__)"
        ).stdout
    )


@pytest.mark.parametrize(
    ("problems", "line"),
    [
        (["guide.toml: a: b"], "guide.toml: a: b"),
        (["guide.toml: a: b", "x", "y"], "guide.toml: a: b (and 2 more problems)"),
    ],
    ids=["one", "three"],
)
def test_cli_reports_invalid_package_content_in_one_line(monkeypatch, capsys, problems, line):
    """The same path as above, in this process (the decision module's coverage)."""

    def broken():
        raise ContentError(problems)

    monkeypatch.setattr(cli, "tree", broken)
    assert cli.main(['{"mri": "typical"}']) == 2
    assert capsys.readouterr() == ("", f"spine_hemangioma: error: invalid content: {line}\n")
