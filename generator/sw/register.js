// Registers the published site's service worker (sw.js at the site's root,
// see generator/service_worker.py) once the page has loaded and the browser
// is idle. Its install precaches the guide's pages and assets and the
// calculator's runtime (about 14 MB), so the site then works with no
// network. Not for a reader who asked to save data or is on a 2g link: the
// site works for them as before, online. Never from file:// (the offline
// bundle has no service worker) nor on `make serve` (this script is added
// to the built site only).
(function () {
  "use strict";

  if (!("serviceWorker" in navigator) || !/^https?:$/.test(location.protocol)) return;
  var connection = navigator.connection;
  if (connection && (connection.saveData || /2g$/.test(connection.effectiveType || ""))) return;
  var swUrl = new URL("../sw.js", document.currentScript.src).href;

  function register() {
    navigator.serviceWorker.register(swUrl).catch(function () {
      // No service worker (private mode, blocked by policy): the site works online.
    });
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
