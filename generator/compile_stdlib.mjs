// Writes the calculator's own standard library: exactly the modules that
// Pyodide's start, installing the wheel, importing spine_hemangioma and
// evaluating every answer combination load, compiled (.pyc), in a zip whose
// entries are stored (not deflated) so that the host's gzip or brotli
// compresses it. Stock python_stdlib.zip is 3.3 MB of already-deflated
// entries that no HTTP compression can shrink; the calculator imports a small
// part of it (README, "Performance").
//
//   node generator/compile_stdlib.mjs PYODIDE_DIR WHEEL OUT_ZIP
//
// 1. Start the Pyodide of PYODIDE_DIR (its CPython 3.14: the host's Python
//    may be another version) with its full stdlib, install WHEEL as the
//    page's loader does, and run every combination of
//    answers (each question answered with each option or not at all) plus
//    malformed input, so error paths load their modules too.
// 2. Keep the stdlib modules now in sys.modules; compile each as an unchecked
//    hash-based .pyc (valid whatever the files' dates), fixed zip dates:
//    equal inputs give equal bytes. Compiled as `python -OO` would (no
//    docstrings, no asserts), and each code object's line table says "the
//    function's first line" throughout: the two take the archive from 1.5 MB
//    to 0.8 MB gzipped; a traceback through the stdlib then names the
//    function, not the line.
// 3. Start a second Pyodide on the trimmed zip alone and run the same inputs:
//    any difference (a module missing, an ImportError turned into an error
//    result) fails the build here, not in a reader's browser.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, wheel, out] = process.argv.slice(2).map((p) => resolve(p));
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);

// Every input the page can send, as JSON texts, and their answers.
const RUN_ALL = `
import itertools, json, spine_hemangioma
_qs = spine_hemangioma.questions()
_texts = []
for _combo in itertools.product(*[[o["value"] for o in q["options"]] + [None] for q in _qs]):
    _texts.append(json.dumps({q["id"]: v for q, v in zip(_qs, _combo) if v is not None}))
_texts += ['{"mri": "typicl"}', '{"no_such_question": "x"}', "[]", '"text"', "null", "3", "{", ""]
json.dumps([spine_hemangioma.evaluate_json(t) for t in _texts])
`;

// The wheel is installed as calculator/web/loader.js installs it
// (unpackArchive into site-packages), so the modules loadPackage alone would
// import (tarfile, importlib.metadata, email) stay out.
async function start(stdLibURL) {
  const quiet = () => {};
  const py = await loadPyodide({ indexURL: `${pyodideDir}/`, stdLibURL, stdout: quiet, stderr: quiet });
  const site = py.runPython("import site; site.getsitepackages()[0]");
  py.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: site });
  return py;
}

function fail(message) {
  process.stderr.write(`compile_stdlib: ${message}\n`);
  process.exit(1);
}

// 1.
const full = await start(undefined);
const expected = full.runPython(RUN_ALL);
// 2.
const count = full.runPython(`
import importlib.util, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

STDLIB = "/lib/python%d%d.zip" % sys.version_info[:2]
# A line table entry "no columns, same line" (PEP 626 format, code 13)
# covers up to 8 code units; a table of them maps every instruction to
# co_firstlineno. Real tables are half of the archive's compressed size.
def first_line_only(code):
    consts = tuple(first_line_only(c) if hasattr(c, "co_code") else c for c in code.co_consts)
    units = len(code.co_code) // 2
    table = bytes([0x80 | 13 << 3 | 7, 0]) * (units // 8)
    if units % 8:
        table += bytes([0x80 | 13 << 3 | (units % 8 - 1), 0])
    return code.replace(co_linetable=table, co_consts=consts)

# Frozen modules (os, io, codecs, site, importlib._bootstrap, ...) are in the
# wasm binary and always load from there (FrozenImporter comes first on
# sys.meta_path), though their __file__ names the zip: a copy in the zip is
# never read.
used = {
    f[len(STDLIB) + 1:] for m in list(sys.modules.values())
    if (f := getattr(m, "__file__", None) or "").startswith(STDLIB + "/")
    and getattr(getattr(m, "__spec__", None), "origin", None) != "frozen"
}
# Loaded by Pyodide's start, but only behind "try: import ... except
# ImportError" (asyncio for ssl; shutil and zipfile for bz2, lzma, zstd): left
# out, the calculator runs as on a Python built without them (step 3 checks).
OPTIONAL = ("ssl.py", "_ssl.py", "bz2.py", "lzma.py", "compression/")
used = {name for name in used if not name.startswith(OPTIONAL)}
with zipfile.ZipFile(STDLIB) as src, zipfile.ZipFile("/tmp/out.zip", "w", zipfile.ZIP_STORED) as dst:
    for name in sorted(used):
        data = src.read(name)
        code = first_line_only(compile(data, name, "exec", dont_inherit=True, optimize=2))
        pyc = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), False))
        dst.writestr(zipfile.ZipInfo(name + "c", (1980, 1, 1, 0, 0, 0)), pyc)
len(used)
`);
writeFileSync(out, full.FS.readFile("/tmp/out.zip"));
// 3.
let got;
try {
  got = (await start(out)).runPython(RUN_ALL);
} catch (err) {
  // The Python exception's own line (Pyodide appends a hint after it).
  const lines = String(err).split("\n").filter(Boolean);
  const line = lines.filter((l) => /^[\w.]*(Error|Exception)\b/.test(l)).pop() ?? lines.pop();
  fail(`the trimmed stdlib (${count} modules) cannot run the calculator: ${line}`);
}
if (got !== expected) {
  const a = JSON.parse(expected);
  const b = JSON.parse(got);
  const i = a.findIndex((x, k) => x !== b[k]);
  fail(`the trimmed stdlib (${count} modules) answers differently at input ${i}: ${b[i].slice(0, 200)}`);
}
process.stderr.write(`compile_stdlib: ${count} modules, ${JSON.parse(expected).length} inputs checked\n`);
