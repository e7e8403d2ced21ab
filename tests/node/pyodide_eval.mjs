// Evaluate many answer sets with the calculator's wheel under Pyodide in Node,
// so tests can compare the browser's Python with CPython without a browser.
//
//   node tests/node/pyodide_eval.mjs ASSETS_DIR [ANSWERS_FILE]
//
// ASSETS_DIR: the output of generator.pyodide_assets (runtime files, the
// lock file and the wheel). ANSWERS_FILE (default: stdin) holds a JSON list of
// answer objects. Prints on stdout the JSON list of the strings that
// spine_hemangioma.evaluate_json returned, in order; everything Pyodide
// itself prints goes to stderr so stdout stays parseable.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const { loadPyodide } = await import(
  path.join(here, "..", "..", "node_modules", "pyodide", "pyodide.mjs")
);

const [assetsArg, answersArg] = process.argv.slice(2);
if (!assetsArg) {
  process.stderr.write("usage: pyodide_eval.mjs ASSETS_DIR [ANSWERS_FILE]\n");
  process.exit(2);
}
const assets = path.resolve(assetsArg) + path.sep;
const answers = JSON.parse(readFileSync(answersArg ?? 0, "utf8"));
if (!Array.isArray(answers)) throw new Error("expected a JSON list of answer objects");

const toStderr = (msg) => process.stderr.write(msg + "\n");
// indexURL = ASSETS_DIR: the runtime comes from the built copy, not from
// node_modules, so a bad copy fails here. packageBaseUrl too, which also
// stops Node's fallback download of missing packages from a CDN.
const pyodide = await loadPyodide({
  indexURL: assets,
  lockFileURL: assets + "pyodide-lock.json",
  packageBaseUrl: assets,
  stdout: toStderr,
  stderr: toStderr,
});
// The wheel named in the lock file, checked and installed as the page's
// loader (calculator/web/loader.js) does: unpacked into site-packages.
const lock = JSON.parse(readFileSync(assets + "pyodide-lock.json", "utf8"));
const entry = lock.packages["spine-hemangioma"];
const wheel = new Uint8Array(readFileSync(assets + entry.file_name));
if (createHash("sha256").update(wheel).digest("hex") !== entry.sha256) {
  throw new Error(`${entry.file_name} does not match its sha256 in the lock file`);
}
const site = pyodide.runPython("import site; site.getsitepackages()[0]");
pyodide.unpackArchive(wheel, "wheel", { extractDir: site });
const evaluate = pyodide.pyimport("spine_hemangioma").evaluate_json;
if (typeof evaluate !== "function") {
  throw new Error("spine_hemangioma has no evaluate_json");
}
// One JS->Python call per answer set: the same path as the browser's loader.
const results = answers.map((a) => evaluate(JSON.stringify(a)));
process.stdout.write(JSON.stringify(results) + "\n");
