// The published site's service worker, made by Workbox (workbox-build,
// pinned in package.json): generator/service_worker.py runs it on the final
// site (after the content security policy is in the pages, so each file's
// revision is that of the bytes served).
//
//   node generator/service_worker/generate_sw.mjs SITE_DIR
//
// Prints {"count", "size"} of the precache on stdout.
import { generateSW } from "workbox-build";

const [siteDir] = process.argv.slice(2);
const { count, size, warnings } = await generateSW({
  globDirectory: siteDir,
  globPatterns: [
    "**/*.html",
    "assets/**/*.{css,js,png,svg}",
    "icons/*.png",
    "manifest.webmanifest",
    "search/search_index.json",
    "pyodide/*",
  ],
  globIgnores: [
    "404.html", // served at any path: its links are absolute, not cached
    "sw.js",
    "assets/javascripts/lunr/**", // other languages' search: the guide is English
    "assets/calculator/embed-host.js", // runs on the course page, not here
  ],
  swDest: `${siteDir}/sw.js`,
  // One file, no workbox-*.js beside it: sw.js is the one script that must
  // be served uncached.
  inlineWorkboxRuntime: true,
  mode: "production",
  sourcemap: false,
  cacheId: "spine-hemangioma-guide",
  // A new build's sw.js differs (its revisions): it installs, takes over at
  // once, and drops the entries the new build no longer lists.
  skipWaiting: true,
  clientsClaim: true,
  cleanupOutdatedCaches: true,
  // pyodide.asm.wasm is 9.6 MB.
  maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
  // The calculator's answers live in the query: /calculator/?mri=... is
  // the cached /calculator/.
  ignoreURLParametersMatching: [/.*/],
  // Fetched without Workbox's ?__WB_REVISION__ (so the HTTP cache can answer
  // the install after the calculator page got them): names with a content
  // hash, and the runtime files, which the host must serve with no-cache
  // (README, Hosting).
  dontCacheBustURLsMatching: /(^|\/)pyodide\/|\.[0-9a-f]{8}\.min\.(js|css)$/,
});
for (const w of warnings) process.stderr.write(`workbox: ${w}\n`);
if (warnings.length) process.exit(1);
process.stdout.write(JSON.stringify({ count, size }) + "\n");
