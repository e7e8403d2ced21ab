"""Bad content → the exact problems reported, and the CLI refuses it (exit 2, nothing written).

Each case copies the real content into tmp_path and changes one thing, so the
fixtures never drift from the real files; a folder under tests/fixtures/content/
holds what cannot be made that way (a missing file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from spine_hemangioma.content import CONTENT_DIR, ContentError, load_from

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "content"

PAIN_RELIEF = "Complete resolution in most patients with vertebroplasty"
CORPECTOMY = 'text = "Corpectomy is the procedure of choice for cervical spine involvement."'
OFFER_VP = 'text = "Offer vertebroplasty as first-line treatment."'
MISSING_REFS = (
    "missing; a statement needs its reference numbers (or uncited = true if the source prints none)"
)
ABBREVIATIONS = (
    '[[abbreviations]]\nterm = "MRI"\nexpansion = "magnetic resonance imaging"\n\n'
    '[[abbreviations]]\nterm = "T1"\nexpansion = "T1-weighted MRI sequence"\n\n'
    '[[abbreviations]]\nterm = "T2"\nexpansion = "T2-weighted MRI sequence"'
)
SJS_CITATION = (
    'citation = "Management of cement vertebroplasty in the treatment of vertebral hemangioma.'
    ' *Scandinavian Journal of Surgery* (SJS), 2011."\n'
)
ALTERNATIVE_CONSERVATIVE = (
    'alternatives = [{ pathway = "conservative", because = ["not-all-pain-needs-surgery"],'
    ' gap = "conservative-details" }]'
)
FRACTURE_STEP = 'value = "yes", add_evidence = "vertebroplasty-fracture" }'
RECURRENT_BRANCHES = 'branches = { yes = "pain-radiation", no = "pain-preference" }'
EXPECTED_ONE_ADD = "expected exactly one of add_step, add_evidence, add_gap, add_alternative"

# (case id, file, exact text to replace (must occur once), replacement, expected problems)
CASES = [
    (
        "unknown-key-did-you-mean",
        "guide.toml",
        'refs = [2]\n\n[[sections]]\nid = "pain-without-deficit"',
        'ref = [2]\n\n[[sections]]\nid = "pain-without-deficit"',
        [
            "guide.toml: sections[1].statements[0].ref: unknown key (did you mean 'refs'?);"
            " allowed: id, text, refs, label, uncited",
            f"guide.toml: sections[1].statements[0].refs: {MISSING_REFS}",
        ],
    ),
    (
        "citation-of-missing-reference",
        "guide.toml",
        f"{CORPECTOMY}\nrefs = [5]",
        f"{CORPECTOMY}\nrefs = [6]",
        [
            "guide.toml: sections[8].statements[0] (corpectomy): cites reference 6,"
            " which does not exist; references: 1, 2, 3, 4, 5"
        ],
    ),
    (
        "inline-citation-of-missing-reference",
        "guide.toml",
        f"{PAIN_RELIEF} [3]",
        f"{PAIN_RELIEF} [7]",
        [
            "guide.toml: sections[18].statements[0] (outcome-pain-relief): cites reference 7,"
            " which does not exist; references: 1, 2, 3, 4, 5"
        ],
    ),
    (
        "duplicated-id",
        "guide.toml",
        'id = "radiation-not-feasible"',
        'id = "radiation-recurrent"',
        [
            "guide.toml: sections[].statements: duplicated id 'radiation-recurrent'",
            "guide.toml: gaps[5].see: unknown statement 'radiation-not-feasible'"
            " (did you mean 'radiation-two-of-eleven'?)",
            "guide.toml: treatments[6].indication: unknown statement 'radiation-not-feasible'"
            " (did you mean 'radiation-two-of-eleven'?)",
        ],
    ),
    (
        "statement-without-citation",
        "guide.toml",
        f"{OFFER_VP}\nrefs = [3]",
        OFFER_VP,
        [f"guide.toml: sections[15].statements[0].refs: {MISSING_REFS}"],
    ),
    (
        "wrong-type",
        "guide.toml",
        'expansion = "magnetic resonance imaging"',
        "expansion = 42",
        ["guide.toml: abbreviations[0].expansion: expected text, found a number 42"],
    ),
    (
        "missing-field",
        "guide.toml",
        'publisher = "Dr.Oracle"\n',
        "",
        ["guide.toml: source.publisher: missing; expected text"],
    ),
    (
        "unknown-provenance",
        "guide.toml",
        'provenance = "given"',
        'provenance = "printed"',
        [
            "guide.toml: references[2].provenance: expected one of given, identified,"
            " not identified, found 'printed'"
        ],
    ),
    (
        "invalid-toml",
        "guide.toml",
        "[source]",
        "[source",
        [
            "guide.toml: not valid TOML (Expected ']' at the end of a table declaration"
            " (at line 15, column 8))"
        ],
    ),
    (
        "algorithm-unknown-statement",
        "algorithm.toml",
        'steps = ["mri-diagnostic"]',
        'steps = ["mri-diagnostik"]',
        [
            "algorithm.toml: leaves[0] (obtain-mri).steps: unknown statement 'mri-diagnostik'"
            " (did you mean 'mri-diagnostic'?)"
        ],
    ),
    # --- Shapes: tables, lists and their items -------------------------------------
    (
        "not-a-table",
        "guide.toml",
        "[source]",
        "[[source]]",
        ["guide.toml: source: expected a table, found a list of tables"],
    ),
    (
        "urgency-not-a-table",
        "algorithm.toml",
        '[urgency]\nfield = "symptoms"\nurgent_when = "deficit"\n'
        "# decision.md v2: an urgent patient gets the urgent action first, on every\n"
        "# pathway (obtain-mri and atypical-imaging included).\n"
        'first_step = "urgent-consultation"\n',
        'urgency = "deficit"\n',
        ["algorithm.toml: urgency: expected a table, found text 'deficit'"],
    ),
    (
        "not-a-list-of-tables",
        "guide.toml",
        ABBREVIATIONS,
        '[abbreviations]\nterm = "MRI"\nexpansion = "magnetic resonance imaging"',
        ["guide.toml: abbreviations: expected a list of tables, found a table"],
    ),
    (
        "list-item-not-a-table",
        "algorithm.toml",
        f'gaps = ["radiation-outcomes", "recurrent-pain"]\n{ALTERNATIVE_CONSERVATIVE}',
        'gaps = ["radiation-outcomes", "recurrent-pain"]\nalternatives = ["conservative"]',
        ["algorithm.toml: leaves[9].alternatives[0]: expected a table, found text 'conservative'"],
    ),
    (
        "list-item-wrong-type",
        "guide.toml",
        f"{OFFER_VP}\nrefs = [3]",
        f'{OFFER_VP}\nrefs = [3, "4"]',
        ["guide.toml: sections[15].statements[0].refs[1]: expected a whole number, found text '4'"],
    ),
    # --- guide.toml: each kind of entry unusable, once (nothing that names it is
    # reported as unknown: cross-references wait for both files to read cleanly)
    (
        "reference-unusable",
        "guide.toml",
        "number = 5",
        'number = "5"',
        ["guide.toml: references[4].number: expected a whole number, found text '5'"],
    ),
    (
        "section-unusable",
        "guide.toml",
        'heading = "Clinical Context and Treatment Selection"',
        'heading = ["Clinical Context"]',
        ["guide.toml: sections[1].heading: expected text, found a list"],
    ),
    (
        "statement-unusable",
        "guide.toml",
        'id = "prevalence"',
        "id = 7",
        ["guide.toml: sections[1].statements[0].id: expected text, found a number 7"],
    ),
    (
        "gap-unusable",
        "guide.toml",
        'see = ["corpectomy"]',
        'see = "corpectomy"',
        ["guide.toml: gaps[10].see: expected a list of texts, found text 'corpectomy'"],
    ),
    (
        "treatment-unusable",
        "guide.toml",
        'pitfalls = ["not-all-pain-needs-surgery"]',
        'pitfalls = "not-all-pain-needs-surgery"',
        [
            "guide.toml: treatments[7].pitfalls: expected a list of texts,"
            " found text 'not-all-pain-needs-surgery'"
        ],
    ),
    # --- guide.toml: the article's nesting --------------------------------------------
    (
        "section-parent-unknown",
        "guide.toml",
        'parent = "deficit"\nstatements = []',
        'parent = "deficits"\nstatements = []',
        [
            "guide.toml: sections[5].parent: unknown earlier section 'deficits'"
            " (did you mean 'deficit'?)"
        ],
    ),
    (
        "section-without-heading-or-parent",
        "guide.toml",
        'id = "embolization-alone"\nparent = "pain-without-deficit"',
        'id = "embolization-alone"',
        [
            "guide.toml: sections[3].heading: missing; only a lead-in under a parent section,"
            " with statements, has none"
        ],
    ),
    # --- guide.toml: citations ------------------------------------------------------
    (
        "reference-without-citation",
        "guide.toml",
        SJS_CITATION,
        "",
        ["guide.toml: references[2].citation: missing; a 'given' reference needs its citation"],
    ),
    (
        "uncited-but-cites",
        "guide.toml",
        f"{OFFER_VP}\nrefs = [3]",
        f"{OFFER_VP}\nrefs = [3]\nuncited = true",
        [
            "guide.toml: sections[15].statements[0].uncited: is true, but the statement"
            " cites [3]; keep one of the two"
        ],
    ),
    # --- algorithm.toml: each kind of entry unusable, once ---------------------------
    (
        "question-unusable",
        "algorithm.toml",
        'help = "Whether surgical intervention is feasible for this patient. The source gives no'
        ' criteria for feasibility."\n',
        "",
        ["algorithm.toml: questions[2].help: missing; expected text"],
    ),
    (
        "node-unusable",
        "algorithm.toml",
        'field = "surgery_feasible"',
        "field = 3",
        ["algorithm.toml: nodes[4].field: expected text, found a number 3"],
    ),
    (
        "leaf-unusable",
        "algorithm.toml",
        'pathway = "unstable-pain"\nsteps = []',
        'pathway = "unstable-pain"\nsteps = "none"',
        ["algorithm.toml: leaves[8].steps: expected a list of texts, found text 'none'"],
    ),
    (
        "rule-unusable",
        "algorithm.toml",
        FRACTURE_STEP,
        FRACTURE_STEP.replace('value = "yes"', "value = true"),
        ["algorithm.toml: leaves[11].rules[0].value: expected text, found true"],
    ),
    (
        "rule-adds-both",
        "algorithm.toml",
        FRACTURE_STEP,
        FRACTURE_STEP.replace(" }", ', add_alternative = "conservative" }'),
        [
            f"algorithm.toml: leaves[11].rules[0]: {EXPECTED_ONE_ADD},"
            " found add_evidence, add_alternative"
        ],
    ),
    (
        "rule-adds-neither",
        "algorithm.toml",
        FRACTURE_STEP,
        'value = "yes" }',
        [f"algorithm.toml: leaves[11].rules[0]: {EXPECTED_ONE_ADD}, found none"],
    ),
    (
        "pathway-unusable",
        "algorithm.toml",
        'title = "Conservative management"',
        "title = 1",
        ["algorithm.toml: pathways[11].title: expected text, found a number 1"],
    ),
    (
        "warning-unusable",
        "algorithm.toml",
        'when = { symptoms = "pain" }',
        'when = "pain"',
        ["algorithm.toml: warnings[2].when: expected a table, found text 'pain'"],
    ),
    (
        "warning-flag-not-boolean",
        "algorithm.toml",
        "when = { surgical = true }",
        'when = { surgical = "yes" }',
        ["algorithm.toml: warnings[0].when.surgical: expected true or false, found text 'yes'"],
    ),
    # --- algorithm.toml: questions, values and targets named in the tree ------------
    (
        "warning-value-not-text",
        "algorithm.toml",
        'when = { symptoms = "pain" }',
        "when = { symptoms = 1 }",
        ["algorithm.toml: warnings[2].when.symptoms: expected text, found a number 1"],
    ),
    (
        "warning-unknown-question",
        "algorithm.toml",
        'when = { extension = "extraosseous"',
        'when = { extent = "extraosseous"',
        [
            "algorithm.toml: warnings[3].when.extent: unknown question 'extent'"
            " (did you mean 'extension'?)"
        ],
    ),
    (
        "warning-unknown-value",
        "algorithm.toml",
        'when = { symptoms = "deficit" }',
        'when = { symptoms = "deficits" }',
        [
            "algorithm.toml: warnings[1].when.symptoms: unknown value of symptoms 'deficits'"
            " (did you mean 'deficit'?)"
        ],
    ),
    (
        "node-unknown-question",
        "algorithm.toml",
        'field = "recurrent"\nbranches',
        'field = "recurent"\nbranches',
        [
            "algorithm.toml: nodes[9] (pain-recurrent).field: unknown question 'recurent'"
            " (did you mean 'recurrent'?)"
        ],
    ),
    (
        "rule-unknown-value",
        "algorithm.toml",
        FRACTURE_STEP,
        FRACTURE_STEP.replace('"yes"', '"true"'),
        ["algorithm.toml: leaves[11] (vertebroplasty).rules[0]: unknown value of fracture 'true'"],
    ),
    (
        "branch-target-not-text",
        "algorithm.toml",
        RECURRENT_BRANCHES,
        RECURRENT_BRANCHES.replace('"pain-preference"', "false"),
        [
            "algorithm.toml: nodes[9] (pain-recurrent).branches.no: expected a node or leaf id,"
            " found false"
        ],
    ),
    (
        "node-missing-branch",
        "algorithm.toml",
        RECURRENT_BRANCHES,
        'branches = { yes = "pain-radiation" }',
        [
            "algorithm.toml: nodes[9] (pain-recurrent).branches: no branch for 'no';"
            " each value of recurrent needs one (or a '*' branch)"
        ],
    ),
]


def content_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """The real content in tmp_path with one exact change."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    text = (folder / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the case's text must occur once in {file}: {old!r}"
    (folder / file).write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_real_content_is_valid():
    load_from(CONTENT_DIR)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_content_reports_exact_problems(tmp_path, file, old, new, expected):
    folder = content_copy(tmp_path, file, old, new)
    with pytest.raises(ContentError) as excinfo:
        load_from(folder)
    assert excinfo.value.problems == expected


def test_unreadable_folder_reports_every_file():
    with pytest.raises(ContentError) as excinfo:
        load_from(FIXTURES / "unreadable")
    assert excinfo.value.problems == [
        "guide.toml: not valid TOML (Expected ']' at the end of a table declaration"
        " (at line 2, column 8))",
        "algorithm.toml: cannot be read (No such file or directory)",
    ]


# --- The command line ---------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file of a folder with its mtime and digest (empty if there is no folder)."""
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


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GUIDE_CONTENT"}
    return subprocess.run(
        [sys.executable, "-m", "generator", "build", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [pytest.param(*CASES[i][1:], id=CASES[i][0]) for i in (0, 3)],
)
def test_cli_refuses_bad_content_and_writes_nothing(tmp_path, file, old, new, expected):
    folder = content_copy(tmp_path, file, old, new)
    site_dir = tmp_path / "site"
    docs_before = snapshot(REPO_ROOT / "docs")
    proc = run_build("--content", str(folder), "--site-dir", str(site_dir))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        f"generator: error: the content in {folder} is invalid"
        f" ({len(expected)} problems); nothing written"
    )
    assert [line.strip() for line in lines[1:]] == expected
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert snapshot(REPO_ROOT / "docs") == docs_before
    assert not site_dir.exists()


def test_cli_content_env_var_is_read(tmp_path):
    folder = content_copy(tmp_path, *CASES[5][1:4])
    env = {**os.environ, "GUIDE_CONTENT": str(folder)}
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2
    assert CASES[5][4][0] in proc.stderr


def test_cli_missing_content_folder(tmp_path):
    proc = run_build("--content", str(tmp_path / "nowhere"), "--site-dir", str(tmp_path / "s"))
    assert proc.returncode == 2
    assert "guide.toml: cannot be read (No such file or directory)" in proc.stderr
    assert not (tmp_path / "s").exists()
