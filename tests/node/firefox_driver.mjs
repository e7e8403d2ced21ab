// Debian's Firefox ESR driven over WebDriver BiDi by puppeteer-core, for the
// pytest side (tests/engines.py): one JSON command a line on stdin, one JSON
// answer a line on stdout.
//
//   node tests/node/firefox_driver.mjs [FIREFOX]      (default /usr/bin/firefox-esr)
//
// Commands: {op: "goto", url} | {op: "eval", js, frame?} | {op: "click", selector,
// frame?} | {op: "type", selector, text} | {op: "wait", js, frame?, timeout}
// | {op: "errors"} | {op: "new_page"} | {op: "close"}. `js` is an expression;
// `frame` the id of an iframe of the page. Answers: {ok: true, value} or
// {ok: false, error}. "errors" gives (and forgets) the console errors, page
// errors and CSP violations seen since the last call, in every frame.
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const { default: puppeteer } = await import(
  path.join(here, "..", "..", "node_modules", "puppeteer-core", "lib", "esm", "puppeteer", "puppeteer-core.js")
);

const executablePath = process.argv[2] || "/usr/bin/firefox-esr";
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath,
  headless: true,
  defaultViewport: { width: 1280, height: 1024 },
  // puppeteer turns Firefox's file:// policy off for its own tests; the
  // offline bundle must work with the default a trainee has.
  extraPrefsFirefox: { "security.fileuri.strict_origin_policy": true },
});

// Reported by the page itself, so that a blocked load counts whether or not
// the browser also writes it to the console.
const REPORT_CSP = () => {
  addEventListener("securitypolicyviolation", (e) => {
    console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} in ${e.documentURI}`);
  });
};

let errors = [];
let page = null;

async function newPage() {
  if (page) await page.close();
  page = await browser.newPage();
  await page.evaluateOnNewDocument(REPORT_CSP);
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message ?? err}`));
}

async function target(frame) {
  if (!frame) return page;
  const element = await page.$(`iframe#${frame}`);
  if (!element) throw new Error(`no iframe #${frame}`);
  return element.contentFrame();
}

const OPS = {
  new_page: async () => newPage(),
  goto: async ({ url }) => {
    await page.goto(url, { waitUntil: "load" });
    return page.url();
  },
  eval: async ({ js, frame }) => (await target(frame)).evaluate(js),
  click: async ({ selector, frame }) => {
    const element = await (await target(frame)).$(selector);
    if (!element) throw new Error(`nothing matches ${selector}`);
    await element.click();
  },
  type: async ({ selector, text }) => {
    await page.click(selector);
    await page.keyboard.type(text);
  },
  // Polled here rather than with waitForFunction: a navigation under way
  // (a click on a link) destroys the context it would be waiting in.
  wait: async ({ js, frame, timeout }) => {
    const deadline = Date.now() + timeout;
    let last = null;
    for (;;) {
      try {
        if (await (await target(frame)).evaluate(js)) return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${js}${last ? `: ${last.message}` : ""}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  },
  errors: async () => {
    const seen = errors;
    errors = [];
    return seen;
  },
  close: async () => {
    await browser.close();
    process.exit(0);
  },
};

await newPage();
process.stdout.write(JSON.stringify({ ok: true, value: await browser.version() }) + "\n");
for await (const line of createInterface({ input: process.stdin })) {
  let answer;
  try {
    const command = JSON.parse(line);
    const op = OPS[command.op];
    if (!op) throw new Error(`unknown op ${command.op}`);
    answer = { ok: true, value: (await op(command)) ?? null };
  } catch (err) {
    answer = { ok: false, error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
