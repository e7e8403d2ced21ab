// SCORM 1.2 for the calculator page of the LMS package, and only there
// (generator/scorm.py adds this script to that page's copy; the site and the
// offline bundle never load it). Loaded before the calculator's scripts.
//
//   - finds the LMS's API as SCORM 1.2 says: window.API in this window or a
//     parent (up to 7 levels), then in the opener and its parents;
//   - LMSInitialize(""); a status of "not attempted" becomes "incomplete";
//   - the first complete result shown (.sh-result[data-status="complete"],
//     set by calculator.js) sets cmi.core.lesson_status to "completed";
//   - LMSFinish("") once, when the page is left.
// No API (opened outside an LMS), a cross-origin parent or a refusing LMS:
// the page works as a plain page and says nothing.
(function () {
  "use strict";

  // An LMS may serve .wasm as application/octet-stream, which streaming
  // compilation refuses (and Pyodide would wait forever): compile such a
  // response from its bytes instead.
  if (window.WebAssembly && WebAssembly.instantiateStreaming) {
    var streaming = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = function (source, imports) {
      return Promise.resolve(source).then(function (response) {
        var type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
        if (type.toLowerCase() === "application/wasm") {
          return streaming.call(WebAssembly, response, imports);
        }
        return response.arrayBuffer().then(function (bytes) {
          return WebAssembly.instantiate(bytes, imports);
        });
      });
    };
  }

  function findAPI(win) {
    for (var tries = 0; win && tries <= 7; tries++) {
      try {
        if (win.API) return win.API;
        if (!win.parent || win.parent === win) return null;
      } catch (e) {
        return null; // a parent of another origin: not an LMS that can talk to us
      }
      win = win.parent;
    }
    return null;
  }

  function getAPI() {
    var api = findAPI(window);
    if (!api && window.opener) api = findAPI(window.opener);
    return api;
  }

  function call(api, name) {
    try {
      var args = Array.prototype.slice.call(arguments, 2);
      return String(api[name].apply(api, args));
    } catch (e) {
      return "false";
    }
  }

  var api = getAPI();
  if (!api || call(api, "LMSInitialize", "") !== "true") return;

  var status = call(api, "LMSGetValue", "cmi.core.lesson_status");
  if (status === "not attempted" || status === "") {
    call(api, "LMSSetValue", "cmi.core.lesson_status", "incomplete");
  }

  var completed = status === "completed" || status === "passed";
  var finished = false;

  function complete() {
    if (completed || finished) return;
    completed = true;
    call(api, "LMSSetValue", "cmi.core.lesson_status", "completed");
    call(api, "LMSCommit", "");
  }

  function finish() {
    if (finished) return;
    finished = true;
    call(api, "LMSFinish", "");
  }

  function watch() {
    var result = document.querySelector("[data-spine-calc] .sh-result");
    if (!result) return;
    var check = function () {
      if (result.getAttribute("data-status") === "complete") complete();
    };
    new MutationObserver(check).observe(result, {
      attributes: true,
      attributeFilter: ["data-status"],
    });
    check();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);
})();
