// Rewrites Pyodide's python_stdlib.zip so that the modules the calculator
// imports are compiled (.pyc) rather than source (.py): Python's start in the
// browser then skips compiling them, about 1.4 s of main-thread CPU
// (bench/experiments.py, README "Performance").
//
//   node generator/compile_stdlib.mjs PYODIDE_DIR WHEEL OUT_ZIP
//
// Compiled by the Pyodide of PYODIDE_DIR itself (its CPython 3.14: the host's
// Python may be another version), as unchecked hash-based .pyc (valid whatever
// the files' dates) with fixed zip dates: equal inputs give equal bytes.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, wheel, out] = process.argv.slice(2).map((p) => resolve(p));
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
const py = await loadPyodide({ indexURL: `${pyodideDir}/` });
// Installed as the page's loader does, with loadPackage (its imports count too).
await py.loadPackage(wheel, { messageCallback: () => {} });
py.runPython(`
import importlib.util, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

# What the calculator imports: its package, a complete answer, a bad one.
import spine_hemangioma
spine_hemangioma.evaluate_json('{"mri": "typical", "symptoms": "pain"}')
spine_hemangioma.evaluate_json('{"mri": "typicl"}')
STDLIB = "/lib/python%d%d.zip" % sys.version_info[:2]
used = {
    f[len(STDLIB) + 1:] for m in list(sys.modules.values())
    if (f := getattr(m, "__file__", None) or "").startswith(STDLIB + "/")
}
with zipfile.ZipFile(STDLIB) as src, zipfile.ZipFile("/tmp/out.zip", "w") as dst:
    for info in src.infolist():
        name, data = info.filename, src.read(info)
        if name in used:
            code = compile(data, name, "exec", dont_inherit=True)
            data = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), False))
            name += "c"
        entry = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        entry.compress_type = info.compress_type
        dst.writestr(entry, data)
`);
writeFileSync(out, py.FS.readFile("/tmp/out.zip"));
