// Registers the published site's service worker (sw.js at the site's root,
// see generator/service_worker.py) once the page has loaded and the browser
// is idle. Its install precaches the guide's pages and assets and the
// calculator's runtime (about 14 MB), so the site then works with no
// network. Not for a reader who asked to save data or is on a 2g link: the
// site works for them as before, online. Never from file:// (the offline
// bundle has no service worker) nor on `make serve` (this script is added
// to the built site only).
//
// The page's <html data-service-worker> says where that stands: "waiting"
// (for load, idle and the calculator), "registering" (sw.js is being fetched,
// also on later pages, where register() checks for an update), then
// "registered", "failed" or "skipped". A page left while "registering" cuts
// that fetch off, which WebKit logs as an error ("Cannot load sw.js due to
// access control checks"); the browser tests wait for it as for any read a
// page has under way.
(function () {
  "use strict";

  var html = document.documentElement;
  function state(name) {
    html.dataset.serviceWorker = name;
  }

  var connection = navigator.connection;
  if (
    !("serviceWorker" in navigator) ||
    !/^https?:$/.test(location.protocol) ||
    (connection && (connection.saveData || /2g$/.test(connection.effectiveType || "")))
  ) {
    return state("skipped");
  }
  state("waiting");
  var swUrl = new URL("../sw.js", document.currentScript.src).href;

  function register() {
    state("registering");
    navigator.serviceWorker.register(swUrl).then(
      function () {
        state("registered");
      },
      function () {
        // No service worker (private mode, blocked by policy): the site works online.
        state("failed");
      },
    );
  }

  function whenIdle(fn) {
    if (window.requestIdleCallback) window.requestIdleCallback(fn, { timeout: 10000 });
    else setTimeout(fn, 2000);
  }

  // On the calculator's pages, wait until the calculator has its runtime (or
  // gave up): the install then takes it from the HTTP cache, and does not
  // compete with the page's own download.
  function whenCalculatorSettled(fn) {
    var root = document.querySelector("[data-spine-calc]");
    var result = root && root.querySelector(".sh-result");
    if (!result) return fn();
    var settled = function () {
      return root.dataset.ready === "true" || result.dataset.status === "failed";
    };
    if (settled()) return fn();
    var observer = new MutationObserver(function () {
      if (!settled()) return;
      observer.disconnect();
      fn();
    });
    observer.observe(root, { attributes: true, subtree: true, attributeFilter: ["data-ready", "data-status"] });
  }

  function start() {
    whenIdle(function () {
      whenCalculatorSettled(register);
    });
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
