"""The Pyodide runtime and the calculator's wheel, as the site serves them.

`build_pyodide_assets(out_dir)` fills `out_dir` (replacing it whole) with:

    pyodide.js, pyodide.asm.mjs, pyodide.asm.wasm
        copied unchanged from node_modules/pyodide (the pinned npm package);
    python_stdlib.zip
        the calculator's own standard library: only the modules Pyodide's
        start and the calculator load, precompiled, stored entries (so HTTP
        compression works on it); see compile_stdlib.mjs. The build fails if
        the trimmed archive cannot answer every combination of answers;
    spine_hemangioma-<version>-py3-none-any.whl
        the pure wheel of calculator/, built with pypa/build;
    pyodide-lock.json
        the wheel's entry (name "spine-hemangioma", file_name, sha256), made
        offline by `pyodide lockfile add-wheels`; the other ~300 entries of
        Pyodide's lock file are dropped (the page loads no other package);
    runtime.json
        {file name: {"bytes", "sha256"}} of the files above: the loader's
        progress bar (bytes of the total) and its integrity check;

and, for pages opened from file:// (see `build_offline_payload`):

    pyodide-offline.js        manifest: window.__pyodideOffline = {wheel, lockFile, scripts}
    pyodide.asm.mjs.js        the module source as a string
    pyodide.asm.wasm.js       \
    python_stdlib.zip.js       > base64 of the bytes
    <wheel name>.js           /

each payload script sets `window.__pyodideFiles[<file name>]`.

Run by hand: `python -m generator.pyodide_assets OUT_DIR`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# DEFAULT_SOURCE_DATE_EPOCH: a manual run without SOURCE_DATE_EPOCH still gives
# the same wheel bytes, hence the same sha256 in the lock file.
from generator.context import DEFAULT_SOURCE_DATE_EPOCH, run_child

REPO_ROOT = Path(__file__).resolve().parent.parent
CALCULATOR_DIR = REPO_ROOT / "calculator"
PYODIDE_DIR = REPO_ROOT / "node_modules" / "pyodide"

# The runtime files a page needs; the rest of the npm package (types, source
# maps, consoles) stays out of the site.
RUNTIME_FILES = ("pyodide.js", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
LOCK_FILE = "pyodide-lock.json"
# What the wheel's content/ holds (spine_hemangioma.content reads these two).
CONTENT_FILES = ("guide.toml", "algorithm.toml")
PACKAGE_NAME = "spine-hemangioma"
OFFLINE_MANIFEST = "pyodide-offline.js"
RUNTIME_MANIFEST = "runtime.json"
# Embedded as base64 (binary) or as a string (the module source).
OFFLINE_BINARY = ("pyodide.asm.wasm", "python_stdlib.zip")
OFFLINE_TEXT = ("pyodide.asm.mjs",)


class PyodideAssetsError(Exception):
    """A build step failed; the message is one line meant for the user."""


def _log(message: str) -> None:
    print(f"pyodide-assets: {message}", file=sys.stderr, flush=True)


def _run(args: list[str], what: str, cwd: Path) -> None:
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        # As the build's other children (run_child): Ctrl-C stops it with the build.
        proc = run_child(args, cwd=cwd, env=env, capture_output=True, text=True)
    except OSError as exc:
        raise PyodideAssetsError(f"{what} could not start: {exc}") from None
    if proc.returncode != 0:
        # The last non-empty line of the tool's output says what went wrong.
        lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        last = lines[-1] if lines else "no output"
        raise PyodideAssetsError(f"{what} failed (exit {proc.returncode}): {last}")


def _build_wheel(calculator_dir: Path, work: Path, content_dir: Path | None = None) -> Path:
    # Build from a clean copy: setuptools reuses calculator/build/lib, where a
    # module deleted from the source would survive into the wheel, and the
    # source tree is shared with others working in it.
    src = work / "src"
    shutil.copytree(
        calculator_dir,
        src,
        ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "*.pyc"),
    )
    if content_dir is not None:
        # `--content DIR`: the wheel carries the content the pages are built from.
        packaged = src / "spine_hemangioma" / "content"
        for name in CONTENT_FILES:
            shutil.copyfile(Path(content_dir) / name, packaged / name)
    dist = work / "dist"
    _log(f"building the wheel of {calculator_dir}")
    # --no-isolation: the setuptools pinned in the build's own environment
    # (pyproject.toml, requirements.lock), not one downloaded for every build.
    args = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    _run([*args, str(src)], "python -m build", cwd=work)
    wheels = sorted(dist.glob("*.whl"))
    if len(wheels) != 1 or not wheels[0].name.endswith("-py3-none-any.whl"):
        names = ", ".join(w.name for w in wheels) or "none"
        raise PyodideAssetsError(f"expected one pure wheel (py3-none-any), got: {names}")
    _store_wheel(wheels[0])
    return wheels[0]


class Utf8ZipInfo(zipfile.ZipInfo):
    # zipfile sets the UTF-8 flag only for non-ASCII names (and clears
    # flag_bits when writing): this hook is where the name and flag are made.
    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("utf-8"), self.flag_bits | 0x800


def _store_wheel(wheel: Path) -> None:
    """Rewrite the wheel with stored (not deflated) entries, as the stdlib
    zip: a compressing host then sends it smaller (brotli 36 kB -> 29 kB).
    Names are flagged UTF-8 (the wheel spec's encoding), so Python's zipfile
    does not import a cp437 codec to read them. Contents, RECORD and dates
    are unchanged."""
    tmp = wheel.with_name(wheel.name + ".part")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as dst:
        for old in src.infolist():
            info = Utf8ZipInfo(old.filename, old.date_time)
            info.external_attr = old.external_attr
            dst.writestr(info, src.read(old))
    tmp.replace(wheel)


STDLIB_ZIP = "python_stdlib.zip"
COMPILE_STDLIB = Path(__file__).resolve().parent / "compile_stdlib.mjs"


def _compile_stdlib(pyodide_dir: Path, wheel: Path, out_zip: Path, work: Path) -> None:
    """Write the trimmed, precompiled, stored stdlib zip (README, Performance);
    fails if it cannot answer every combination the full one answers."""
    _log("trimming and compiling the stdlib to the modules the calculator loads")
    args = ["node", str(COMPILE_STDLIB), str(pyodide_dir), str(wheel), str(out_zip)]
    _run(args, "node compile_stdlib.mjs", cwd=work)


def _add_wheel_to_lock(pyodide_dir: Path, wheel: Path, out_lock: Path, work: Path) -> None:
    _log("adding the wheel to pyodide-lock.json")
    _run(
        [
            sys.executable,
            "-m",
            "pyodide_cli",
            "lockfile",
            "add-wheels",
            "--input",
            str(pyodide_dir / LOCK_FILE),
            "--output",
            str(out_lock),
            "--base-path",
            str(wheel.parent),
            str(wheel),
        ],
        "pyodide lockfile add-wheels",
        cwd=work,
    )
    lock = json.loads(out_lock.read_text(encoding="utf-8"))
    entry = lock["packages"].get(PACKAGE_NAME)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if not entry or entry.get("file_name") != wheel.name or entry.get("sha256") != digest:
        raise PyodideAssetsError(f"{LOCK_FILE} has no matching entry for {wheel.name}")
    if entry.get("depends"):
        raise PyodideAssetsError(f"{wheel.name} depends on {entry['depends']}: not shipped")
    # 119 kB of entries for packages the page never loads: only ours stays.
    lock["packages"] = {PACKAGE_NAME: entry}
    out_lock.write_text(json.dumps(lock, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def _write_runtime_manifest(out_dir: Path) -> None:
    """runtime.json: size and sha256 of each file the loader fetches."""
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in sorted(out_dir.iterdir())
        if p.is_file() and p.name != RUNTIME_MANIFEST
    }
    (out_dir / RUNTIME_MANIFEST).write_text(json.dumps(files, indent=1) + "\n", encoding="utf-8")


def _check_pyodide_dir(pyodide_dir: Path) -> None:
    missing = [n for n in (*RUNTIME_FILES, LOCK_FILE) if not (pyodide_dir / n).is_file()]
    if missing:
        raise PyodideAssetsError(
            f"{pyodide_dir} lacks {', '.join(missing)} (is the npm package installed? `make deps`)"
        )


def _write_js(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="ascii")
    tmp.replace(path)


def build_offline_payload(out_dir: Path) -> None:
    """Write the file:// payload scripts next to the runtime files in `out_dir`.

    Pages opened from file:// can neither fetch() nor import modules, but they
    can run classic scripts: each script below stores one file in
    `window.__pyodideFiles[name]` (base64, or source text for pyodide.asm.mjs),
    and `pyodide-offline.js` sets `window.__pyodideOffline = {wheel, lockFile,
    scripts}` so the loader knows what to load and the lock file
    comes without a fetch.
    """
    out_dir = Path(out_dir)
    lock_path = out_dir / LOCK_FILE
    if not lock_path.is_file():
        raise PyodideAssetsError(f"{lock_path} missing: build the runtime assets first")
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    wheel = lock["packages"].get(PACKAGE_NAME, {}).get("file_name")
    if not wheel or not (out_dir / wheel).is_file():
        raise PyodideAssetsError(f"{out_dir} has no wheel for {PACKAGE_NAME}")
    prefix = "(window.__pyodideFiles = window.__pyodideFiles || {})"
    scripts = []
    for name in (*OFFLINE_TEXT, *OFFLINE_BINARY, wheel):
        data = (out_dir / name).read_bytes()
        if name in OFFLINE_TEXT:
            literal = json.dumps(data.decode("utf-8"))  # ASCII-only JS string literal
        else:
            literal = '"' + base64.b64encode(data).decode("ascii") + '"'
        _write_js(out_dir / f"{name}.js", f"{prefix}[{json.dumps(name)}] = {literal};\n")
        scripts.append(f"{name}.js")
    manifest = {
        "wheel": wheel,
        "scripts": scripts,
        "lockFile": lock,
    }
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    _write_js(out_dir / OFFLINE_MANIFEST, f"window.__pyodideOffline = {body};\n")


def build_pyodide_assets(
    out_dir: Path,
    *,
    calculator_dir: Path = CALCULATOR_DIR,
    pyodide_dir: Path = PYODIDE_DIR,
    offline: bool = True,
    content_dir: Path | None = None,
) -> None:
    """Replace `out_dir` with the runtime files, the wheel, the lock file and
    (if `offline`) the file:// payload; the wheel carries `content_dir`'s
    content files if given (the package's own otherwise). Built in a sibling temporary directory
    and renamed into place, so `out_dir` is never half-written.
    Raises PyodideAssetsError with a one-line message on failure."""
    out_dir = Path(out_dir).resolve()
    calculator_dir = Path(calculator_dir)
    pyodide_dir = Path(pyodide_dir)
    _check_pyodide_dir(pyodide_dir)
    if not (calculator_dir / "pyproject.toml").is_file():
        raise PyodideAssetsError(f"{calculator_dir} has no pyproject.toml")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pyodide-assets-") as work_name:
        work = Path(work_name)
        wheel = _build_wheel(calculator_dir, work, content_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        try:
            for name in RUNTIME_FILES:
                shutil.copyfile(pyodide_dir / name, staging / name)
            shutil.copyfile(wheel, staging / wheel.name)
            _compile_stdlib(pyodide_dir, staging / wheel.name, staging / STDLIB_ZIP, work)
            _add_wheel_to_lock(pyodide_dir, staging / wheel.name, staging / LOCK_FILE, work)
            _write_runtime_manifest(staging)
            if offline:
                _log("writing the file:// payload")
                build_offline_payload(staging)
            staging.chmod(0o755)
            replace_dir(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    total = sum(p.stat().st_size for p in out_dir.iterdir())
    _log(f"{out_dir}: {total / 1e6:.1f} MB in {time.monotonic() - started:.1f} s")


def replace_dir(new: Path, target: Path) -> None:
    """Put `new` in place of `target` (also used by the offline bundle step).

    Two renames: the old directory moves aside, the new one takes its name."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m generator.pyodide_assets OUT_DIR", file=sys.stderr)
        return 2
    try:
        build_pyodide_assets(Path(args[0]))
    except (PyodideAssetsError, OSError) as exc:
        print(f"pyodide-assets: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
