"""The calculator's wheel as the browser gets it: the files that
generator.pyodide_assets writes, and the same answers from Pyodide (under
Node) as from CPython for every combination of answer values."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from generator import pyodide_assets
from generator.pyodide_assets import PyodideAssetsError, build_pyodide_assets

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_EVAL = REPO_ROOT / "tests" / "node" / "pyodide_eval.mjs"

RUNTIME = ["pyodide.js", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"]
OFFLINE = [
    "pyodide-offline.js",
    "pyodide.asm.mjs.js",
    "pyodide.asm.wasm.js",
    "python_stdlib.zip.js",
]

# Inputs outside the product, compared too: what a page could send by mistake.
# The JSON non-objects must give {"error": ...}.
ODD_OBJECTS = [{}, {"no_such_question": "x"}]
NOT_OBJECTS = [[], "text", None, 3]


def _wheel_name(assets: Path) -> str:
    lock = json.loads((assets / "pyodide-lock.json").read_text())
    return lock["packages"]["spine-hemangioma"]["file_name"]


def _cpython(answers: list) -> list[str]:
    import spine_hemangioma  # noqa: PLC0415

    # The text JSON.stringify makes for the same value, so both sides parse
    # identical input.
    return [
        spine_hemangioma.evaluate_json(json.dumps(a, separators=(",", ":"), ensure_ascii=False))
        for a in answers
    ]


def _pyodide(assets: Path, answers: list) -> list[str]:
    node = shutil.which("node")
    assert node, "node not found on PATH"
    proc = subprocess.run(
        [node, str(NODE_EVAL), str(assets)],
        input=json.dumps(answers),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"pyodide_eval.mjs failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def test_pyodide_gives_cpythons_answers_for_every_combination(pyodide_assets_dir, answer_space):
    # All in one Node process: Pyodide starts once (~3 s).
    answers = answer_space + ODD_OBJECTS + NOT_OBJECTS
    expected = _cpython(answers)
    got = _pyodide(pyodide_assets_dir, answers)
    assert len(got) == len(expected)
    diffs = [(a, g, e) for a, g, e in zip(answers, got, expected, strict=True) if g != e]
    assert not diffs, f"{len(diffs)} of {len(answers)} differ; first: {diffs[:3]}"
    parsed = [json.loads(text) for text in expected]
    assert all(isinstance(p, dict) for p in parsed)
    n = len(answers) - len(ODD_OBJECTS) - len(NOT_OBJECTS)
    assert any("error" not in p for p in parsed[:n]), "no combination gave a result"
    assert all(set(p) == {"error"} for p in parsed[-len(NOT_OBJECTS) :]), parsed[-4:]


def test_out_dir_holds_exactly_the_runtime_the_wheel_and_the_payload(pyodide_assets_dir):
    wheel = _wheel_name(pyodide_assets_dir)
    expected = {*RUNTIME, "pyodide-lock.json", "runtime.json", wheel, *OFFLINE, f"{wheel}.js"}
    assert {p.name for p in pyodide_assets_dir.iterdir()} == expected


@pytest.mark.parametrize("name", [n for n in RUNTIME if n != "python_stdlib.zip"])
def test_runtime_files_are_the_npm_packages(pyodide_assets_dir, name):
    assert (pyodide_assets_dir / name).read_bytes() == (
        pyodide_assets.PYODIDE_DIR / name
    ).read_bytes()


def test_stdlib_is_the_calculator_s_modules_compiled_and_stored(pyodide_assets_dir):
    """A part of npm's stdlib, every entry a .pyc of one of its modules, stored."""
    with zipfile.ZipFile(pyodide_assets.PYODIDE_DIR / "python_stdlib.zip") as z:
        npm = set(z.namelist())
    with zipfile.ZipFile(pyodide_assets_dir / "python_stdlib.zip") as z:
        infos = z.infolist()
        ours = {i.filename: z.read(i) for i in infos}
    assert {"tomllib/_parser.pyc", "difflib.pyc", "json/decoder.pyc"} <= set(ours)
    assert all(n.endswith(".pyc") and n[:-1] in npm for n in ours), sorted(ours)
    assert len(ours) < len(npm) / 2, f"{len(ours)} of {len(npm)} entries: not trimmed"
    # Frozen into the wasm (their copy in a zip is never read): left out.
    frozen = {"os.pyc", "io.pyc", "codecs.pyc", "site.pyc", "importlib/_bootstrap.pyc"}
    assert not frozen & set(ours), sorted(frozen & set(ours))
    # Stored: the host's gzip or brotli compresses the archive (deflated
    # entries it could not).
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    for name, data in ours.items():
        # Unchecked hash-based .pyc: valid whatever the file dates (PEP 552).
        assert int.from_bytes(data[4:8], "little") == 0b01, name


def test_runtime_manifest_gives_each_file_s_size_and_sha256(pyodide_assets_dir):
    manifest = json.loads((pyodide_assets_dir / "runtime.json").read_text())
    assert set(manifest) == {*RUNTIME, "pyodide-lock.json", _wheel_name(pyodide_assets_dir)}
    for name, entry in manifest.items():
        data = (pyodide_assets_dir / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}, name


def test_lock_file_pins_the_wheel_by_sha256(pyodide_assets_dir):
    lock = json.loads((pyodide_assets_dir / "pyodide-lock.json").read_text())
    entry = lock["packages"]["spine-hemangioma"]
    wheel = pyodide_assets_dir / entry["file_name"]
    assert re.fullmatch(r"spine_hemangioma-[\w.]+-py3-none-any\.whl", wheel.name)
    assert entry["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert entry["imports"] == ["spine_hemangioma"]
    assert entry["depends"] == []
    original = json.loads((pyodide_assets.PYODIDE_DIR / "pyodide-lock.json").read_text())
    assert lock["info"] == original["info"]
    # Only the calculator's entry: the page loads no other package.
    assert set(lock["packages"]) == {"spine-hemangioma"}


def _embedded(js: str) -> tuple[str, str]:
    m = re.fullmatch(
        r'\(window\.__pyodideFiles = window\.__pyodideFiles \|\| \{\}\)\[("[^"]+")\] = (".*");\n',
        js,
        re.DOTALL,
    )
    assert m, f"unexpected payload script: {js[:120]!r}"
    return json.loads(m.group(1)), json.loads(m.group(2))


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("pyodide.asm.mjs", "text"),
        ("pyodide.asm.wasm", "base64"),
        ("python_stdlib.zip", "base64"),
        ("<wheel>", "base64"),
    ],
)
def test_offline_payload_carries_the_exact_bytes(pyodide_assets_dir, name, encoding):
    if name == "<wheel>":
        name = _wheel_name(pyodide_assets_dir)
    key, literal = _embedded((pyodide_assets_dir / f"{name}.js").read_text(encoding="ascii"))
    assert key == name
    data = literal.encode() if encoding == "text" else base64.b64decode(literal, validate=True)
    assert data == (pyodide_assets_dir / name).read_bytes()


def test_offline_manifest_lists_the_scripts_and_the_lock_file(pyodide_assets_dir):
    text = (pyodide_assets_dir / "pyodide-offline.js").read_text(encoding="ascii")
    prefix = "window.__pyodideOffline = "
    assert text.startswith(prefix)
    assert text.endswith(";\n")
    manifest = json.loads(text[len(prefix) : -2])
    wheel = _wheel_name(pyodide_assets_dir)
    assert manifest["wheel"] == wheel
    assert sorted(manifest["scripts"]) == sorted([*OFFLINE[1:], f"{wheel}.js"])
    lock = json.loads((pyodide_assets_dir / "pyodide-lock.json").read_text())
    assert manifest["lockFile"] == lock


def test_two_builds_are_byte_identical(calculator_dir, tmp_path):
    # Two fresh builds back to back (not the session's): the source may change
    # during a long session.
    builds = []
    for name in ("first", "second"):
        build_pyodide_assets(tmp_path / name, calculator_dir=calculator_dir)
        builds.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    first, second = builds
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] == []


def _broken_pyproject(tmp_path: Path) -> dict:
    calc = tmp_path / "calc"
    calc.mkdir()
    (calc / "pyproject.toml").write_text("[project\nname = ")
    return {"calculator_dir": calc}


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp: {"pyodide_dir": tmp / "nowhere"}, "lacks pyodide.js"),
        (lambda tmp: {"calculator_dir": tmp}, "has no pyproject.toml"),
        (_broken_pyproject, "python -m build failed"),
    ],
    ids=["no-npm-package", "no-pyproject", "broken-pyproject"],
)
def test_a_failed_build_raises_one_line_and_leaves_out_dir_alone(tmp_path, make_args, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous build")
    with pytest.raises(PyodideAssetsError) as info:
        build_pyodide_assets(out, **make_args(tmp_path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("args", "stderr_pattern"),
    [
        ([], r"usage: python -m generator\.pyodide_assets OUT_DIR\n"),
        (["a", "b"], r"usage: .*\n"),
        (["{file}/sub"], r"pyodide-assets: error: .*\n"),
    ],
    ids=["no-args", "two-args", "out-under-a-file"],
)
def test_cli_fails_with_exit_2_and_one_line(tmp_path, args, stderr_pattern):
    a_file = tmp_path / "file"
    a_file.write_text("")
    args = [a.format(file=a_file) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "generator.pyodide_assets", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.splitlines(keepends=True)[-1]
    assert re.fullmatch(stderr_pattern, last), proc.stderr
