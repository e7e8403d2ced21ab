"""The trimmed standard library (generator/compile_stdlib.mjs): the archive the
site serves answers every combination in real Pyodide under Node, and a build
whose archive would lack a module the calculator needs fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from generator.pyodide_assets import PyodideAssetsError, build_pyodide_assets

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_EVAL = REPO_ROOT / "tests" / "node" / "pyodide_eval.mjs"
NPM_STDLIB = REPO_ROOT / "node_modules" / "pyodide" / "python_stdlib.zip"

PYPROJECT = """[build-system]
requires = ["setuptools==80.9.0"]
build-backend = "setuptools.build_meta"

[project]
name = "spine-hemangioma"
version = "0.0.1"
"""
# A calculator whose answer needs a stdlib module that it then hides from
# sys.modules: the trimming cannot see it, so only the check run can.
HIDDEN_IMPORT = """import json, sys

def questions():
    return [{"id": "q", "options": [{"value": "a"}]}]

def evaluate_json(text):
    import colorsys
    del sys.modules["colorsys"]
    return json.dumps({"h": colorsys.rgb_to_hsv(1, 0, 0)[0]})
"""


def test_served_archive_is_the_trimmed_one_and_answers_every_combination(
    pyodide_assets_dir, answer_space
):
    import spine_hemangioma  # noqa: PLC0415 (the package under test, imported late)

    with zipfile.ZipFile(pyodide_assets_dir / "python_stdlib.zip") as z:
        names = z.namelist()
    with zipfile.ZipFile(NPM_STDLIB) as z:
        assert len(names) < len(z.namelist()) / 2, "the archive is not trimmed"
    # The same Node runner as the wheel test, on the archive the site serves.
    proc = subprocess.run(
        ["node", str(NODE_EVAL), str(pyodide_assets_dir)],
        input=json.dumps(answer_space),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout)
    expected = [spine_hemangioma.evaluate_json(json.dumps(a)) for a in answer_space]
    assert len(got) == len(expected)
    diffs = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert diffs == [], f"{len(diffs)} of {len(got)} differ; first: {answer_space[diffs[0]]}"


@pytest.mark.parametrize(
    ("module_source", "message"),
    [
        (
            HIDDEN_IMPORT,
            r"cannot run the calculator: ModuleNotFoundError: No module named 'colorsys'",
        ),
    ],
    ids=["hidden-import"],
)
def test_build_fails_when_the_trimmed_archive_lacks_a_module(tmp_path, module_source, message):
    calc = tmp_path / "calc"
    (calc / "spine_hemangioma").mkdir(parents=True)
    (calc / "pyproject.toml").write_text(PYPROJECT)
    (calc / "spine_hemangioma" / "__init__.py").write_text(module_source)
    out = tmp_path / "out"
    with pytest.raises(PyodideAssetsError, match=message) as info:
        build_pyodide_assets(out, calculator_dir=calc, offline=False)
    assert "\n" not in str(info.value)
    assert not out.exists(), "a failed build left an output directory"
    assert shutil.which("node")
