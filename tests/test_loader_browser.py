"""calculator/web/loader.js in real Chromium: one evaluation over http and
from file://, nothing fetched from outside, and clear, bounded failures."""

from __future__ import annotations

import base64
import json
import re
import shutil
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
LOADER = REPO_ROOT / "calculator" / "web" / "loader.js"
PAGE = "calc/index.html"
# The icon link stops Chromium's /favicon.ico request (a 404 console error).
PAGE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loader test</title>
<link rel="icon" href="data:,"></head>
<body><script src="../loader.js"></script></body></html>
"""

# Loads, answers once and reports; errors come back as values, so a failure
# to load is something the test reads, not an exception in evaluate().
LOAD_AND_CALL = """async ([baseUrl, answers]) => {
  const stages = [];
  const t0 = performance.now();
  const opts = {baseUrl, onProgress: (s) => stages.push(s)};
  try {
    const first = SpineCalc.load(opts);
    const once = first === SpineCalc.load(opts);
    const calc = await first;
    const loadMs = performance.now() - t0;
    const result = calc.call(answers);
    return {ok: true, result, stages, once, loadMs, totalMs: performance.now() - t0};
  } catch (e) {
    return {ok: false, error: e.message, kind: e.kind, stages, totalMs: performance.now() - t0};
  }
}"""

STAGES = {
    "http": ["runtime", "package", "import", "ready"],
    "file": ["payload", "runtime", "package", "import", "ready"],
}


def make_site(root: Path, assets: Path) -> Path:
    """A minimal site: pyodide/ (the built assets), loader.js and one page."""
    shutil.copytree(assets, root / "pyodide")
    shutil.copyfile(LOADER, root / "loader.js")
    (root / "calc").mkdir()
    (root / PAGE).write_text(PAGE_HTML, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory, pyodide_assets_dir) -> Path:
    return make_site(tmp_path_factory.mktemp("loader-site"), pyodide_assets_dir)


@pytest.fixture
def fresh_site(tmp_path, pyodide_assets_dir) -> Path:
    """A site of this test's own, to break."""
    return make_site(tmp_path / "site", pyodide_assets_dir)


@pytest.fixture(scope="module")
def sample(answer_space) -> tuple[dict, dict]:
    """One answer object (the first option of every question) and CPython's result."""
    import spine_hemangioma  # noqa: PLC0415 (the package under test, imported late)

    answers = answer_space[0]
    return answers, json.loads(spine_hemangioma.evaluate_json(json.dumps(answers)))


@pytest.fixture
def open_site_page(static_server, browser_page, open_file_page):
    """open_site_page(mode, site_root) -> PageProbe of the test page, served
    over http by a local server or opened from file://."""

    def open_page(mode: str, site_root: Path):
        if mode == "http":
            browser_page.page.goto(static_server(site_root) + PAGE)
            return browser_page
        return open_file_page(site_root / PAGE)

    return open_page


@pytest.mark.parametrize("mode", ["http", "file"])
def test_loader_answers_one_evaluation(mode, site, sample, open_site_page):
    answers, expected = sample
    probe = open_site_page(mode, site)
    out = probe.page.evaluate(LOAD_AND_CALL, ["../pyodide/", answers])
    assert out["ok"], out["error"]
    assert out["result"] == expected
    assert out["stages"] == STAGES[mode]
    assert out["once"], "a second load() started a second runtime"
    assert probe.console_errors == []
    if mode == "http":
        origin = re.match(r"https?://[^/]+", probe.page.url).group(0)
        assert [u for u in probe.requests if not u.startswith(origin)] == []
    else:
        assert [u for u in probe.requests if re.match(r"(https?|wss?):", u)] == []
    print(f"\n[{mode}] first answer after {out['totalMs']:.0f} ms (load {out['loadMs']:.0f} ms)")


def _tamper_wheel(root: Path) -> None:
    """Change one byte of the wheel, in the file and in its file:// payload."""
    lock = json.loads((root / "pyodide" / "pyodide-lock.json").read_text())
    wheel = root / "pyodide" / lock["packages"]["spine-hemangioma"]["file_name"]
    data = bytearray(wheel.read_bytes())
    data[-1] ^= 0xFF  # the zip comment length's byte: still a readable zip
    wheel.write_bytes(bytes(data))
    payload = wheel.with_name(wheel.name + ".js")
    text = payload.read_text(encoding="ascii")
    encoded = base64.b64encode(bytes(data)).decode("ascii")
    payload.write_text(re.sub(r'= "[^"]*";', f'= "{encoded}";', text), encoding="ascii")


def _drop_wasm_payload(root: Path) -> None:
    (root / "pyodide" / "pyodide.asm.wasm.js").unlink()


# mode, how the site or the page is broken, the kind of failure, its message,
# how soon it must come (ms): a fault is reported when it happens.
FAILURES = [
    ("http", "block-wasm", "download", r"pyodide\.asm\.wasm: the connection failed", 2000),
    ("file", "no-wasm-payload", "download", r"pyodide\.asm\.wasm\.js did not load", 4000),
    ("http", "tampered-wheel", "damaged", r"arrived damaged \(spine_hemangioma-\S+\.whl", 30_000),
    ("file", "tampered-wheel", "damaged", r"arrived damaged \(spine_hemangioma-\S+\.whl", 30_000),
]


@pytest.mark.parametrize("case", FAILURES, ids=[f"{c[0]}-{c[1]}" for c in FAILURES])
def test_loader_rejects_within_its_bound_with_a_clear_error(
    case, fresh_site, sample, browser_page, open_site_page
):
    mode, breakage, kind, message, bound_ms = case
    root = fresh_site
    if breakage == "tampered-wheel":
        _tamper_wheel(root)
    elif breakage == "no-wasm-payload":
        _drop_wasm_payload(root)
    elif breakage == "block-wasm":
        browser_page.block("pyodide.asm.wasm")
    probe = open_site_page(mode, root)
    started = time.monotonic()
    out = probe.page.evaluate(LOAD_AND_CALL, ["../pyodide/", sample[0]])
    elapsed_ms = (time.monotonic() - started) * 1000
    assert not out["ok"], "the loader succeeded on a broken site"
    assert out["kind"] == kind, out
    assert re.search(message, out["error"]), out["error"]
    assert elapsed_ms < bound_ms + 2000, f"rejected after {elapsed_ms:.0f} ms"
    if breakage == "block-wasm":
        assert probe.blocked, "the wasm request was never made"
