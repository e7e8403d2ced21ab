// Loads the calculator's Python (the spine_hemangioma wheel) into Pyodide, on
// the page's main thread, from the site's own files: no CDN, no build step.
//
//   SpineCalc.load({baseUrl: "../pyodide/", onProgress, timeoutMs})
//     .then((calc) => calc.call({question_id: "value", ...}))  // -> result object
//
// One switch: over http(s) Pyodide fetches its files as usual; from file://
// the browser forbids fetch() and module imports, so the same files come
// from classic scripts that carry them as strings (see
// generator/pyodide_assets.py, build_offline_payload).
(function () {
  "use strict";

  var PACKAGE = "spine-hemangioma"; // name in pyodide-lock.json
  var MODULE = "spine_hemangioma";
  var DEFAULT_TIMEOUT_MS = 60000;
  var pending = null; // one runtime per page: loading it twice costs ~10 MB

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = url;
      s.onload = function () {
        s.remove();
        resolve();
      };
      s.onerror = function () {
        s.remove();
        reject(new Error("could not load " + url));
      };
      document.head.appendChild(s);
    });
  }

  function decodeBase64(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function base64(bytes) {
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }

  // Pyodide asks for "<indexURL>pyodide.asm.wasm", python_stdlib.zip and the
  // wheel through fetch(); answer those from the embedded bytes. The lock
  // file's sha256 reaches fetch() as an SRI `integrity`, which a synthetic
  // Response would skip, so it is checked here.
  function installFetchShim(base, files) {
    var realFetch = window.fetch;
    async function shim(input, init) {
      var url = new URL(input instanceof Request ? input.url : String(input), location.href);
      var href = url.href.split("#")[0];
      if (href.indexOf(base) !== 0) return realFetch.apply(this, arguments);
      var name = href.slice(base.length);
      var bytes = files[name];
      if (!bytes) return new Response("not embedded: " + name, { status: 404 });
      var integrity = init && init.integrity;
      if (integrity) {
        var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        if ("sha256-" + base64(digest) !== integrity) {
          throw new TypeError("integrity check failed for " + name);
        }
      }
      var type = /\.wasm$/.test(name) ? "application/wasm" : "application/octet-stream";
      return new Response(bytes, { headers: { "Content-Type": type } });
    }
    window.fetch = shim;
    return function restore() {
      if (window.fetch === shim) window.fetch = realFetch;
    };
  }

  async function startOffline(base, progress) {
    progress("payload");
    await loadScript(base + "pyodide-offline.js");
    var manifest = window.__pyodideOffline;
    if (!manifest) throw new Error("pyodide-offline.js did not define the payload");
    for (var i = 0; i < manifest.scripts.length; i++) {
      await loadScript(base + manifest.scripts[i]);
    }
    await loadScript(base + "pyodide.js");
    var embedded = window.__pyodideFiles || {};
    var files = {};
    Object.keys(embedded).forEach(function (name) {
      if (name !== "pyodide.asm.mjs") files[name] = decodeBase64(embedded[name]);
    });
    // The module goes through a blob: URL, the one kind of module URL a
    // file:// page may import.
    var src = new Blob([embedded["pyodide.asm.mjs"]], { type: "text/javascript" });
    var moduleUrl = URL.createObjectURL(src);
    var createPyodideModule;
    try {
      createPyodideModule = (await import(moduleUrl)).default;
    } finally {
      URL.revokeObjectURL(moduleUrl);
    }
    delete window.__pyodideFiles; // ~17 MB of strings, decoded now
    progress("runtime");
    var restore = installFetchShim(base, files);
    try {
      var pyodide = await window.loadPyodide({
        indexURL: base,
        lockFileContents: manifest.lockFile,
        packageBaseUrl: base,
        createPyodideModule: createPyodideModule,
      });
      progress("package");
      await loadPackage(pyodide);
      return pyodide;
    } finally {
      restore();
    }
  }

  async function startOnline(base, progress) {
    progress("runtime");
    if (!window.loadPyodide) await loadScript(base + "pyodide.js");
    var pyodide = await window.loadPyodide({
      indexURL: base,
      lockFileURL: base + "pyodide-lock.json",
      packageBaseUrl: base,
    });
    progress("package");
    await loadPackage(pyodide);
    return pyodide;
  }

  async function loadPackage(pyodide) {
    // Through the lock file, so the wheel's sha256 is checked; loadPackage
    // reports failures through errorCallback and resolves anyway.
    var errors = [];
    var loaded = await pyodide.loadPackage(PACKAGE, {
      messageCallback: function () {},
      errorCallback: function (msg) {
        errors.push(msg);
      },
    });
    if (!loaded.some(function (p) { return p.name === PACKAGE; })) {
      throw new Error(errors.join(" ") || PACKAGE + " did not load");
    }
  }

  async function start(base, progress) {
    var offline = location.protocol === "file:";
    var pyodide = offline ? await startOffline(base, progress) : await startOnline(base, progress);
    progress("import");
    var evaluate = pyodide.pyimport(MODULE).evaluate_json;
    if (typeof evaluate !== "function") throw new Error(MODULE + " has no evaluate_json");
    // Answers cross as JSON text, never as Python source.
    return {
      call: function (answers) {
        return JSON.parse(evaluate(JSON.stringify(answers)));
      },
      pyodide: pyodide,
    };
  }

  function load(opts) {
    opts = opts || {};
    if (pending) return pending;
    var stage = "start";
    var progress = function (s) {
      stage = s;
      if (opts.onProgress) opts.onProgress(s);
    };
    var timeoutMs = opts.timeoutMs || DEFAULT_TIMEOUT_MS;
    // A failed wasm fetch makes Pyodide log a warning and wait forever, so
    // the bound is ours.
    var timer;
    var timeout = new Promise(function (_, reject) {
      timer = setTimeout(function () {
        reject(new Error("timed out after " + timeoutMs / 1000 + " s"));
      }, timeoutMs);
    });
    var base = new URL(opts.baseUrl || "pyodide/", document.baseURI).href.replace(/\/?$/, "/");
    pending = Promise.race([start(base, progress), timeout])
      .then(function (calc) {
        progress("ready");
        return calc;
      })
      .catch(function (err) {
        pending = null; // let the page offer a retry
        var msg = err && err.message ? err.message : String(err);
        throw new Error(
          "SpineCalc: the calculator could not load (" + stage + "): " + msg,
          { cause: err }
        );
      })
      .finally(function () {
        clearTimeout(timer);
      });
    return pending;
  }

  window.SpineCalc = { load: load };
})();
