// Loads the calculator's Python (the spine_hemangioma wheel) into Pyodide, on
// the page's main thread, from the site's own files: no CDN, no build step.
//
//   SpineCalc.load({baseUrl: "../pyodide/", onProgress, onBytes, stallMs})
//     .then((calc) => calc.call({question_id: "value", ...}))  // -> result object
//
//   onProgress(stage)          "runtime", "package", "import", "ready"
//                              (from file:// "payload" first)
//   onBytes(received, total)   bytes of the runtime downloaded so far
//   rejects with an Error whose `kind` says what happened, and whose message
//   says it in plain words for the reader:
//     "download"  a file could not be fetched (HTTP error, connection failed)
//     "stalled"   nothing arrived for stallMs while files were downloading
//     "damaged"   a file's sha256 is not the one the build wrote
//     "nowasm"    the browser has no WebAssembly
//     "start"     anything else (Python itself failed to start)
//
// Over http(s) every file is fetched by this script, watched: the bytes are
// counted (progress and stall detection) and checked against runtime.json
// (sizes and sha256, written by generator/pyodide_assets.py). There is no
// overall time limit: a slow link that keeps delivering bytes is not a
// failure. Pyodide's own files are requested at once with runtime.json, in
// parallel, and each is checked when both it and runtime.json are in; the
// wheel, whose name runtime.json gives, follows. The files Pyodide fetches
// itself are handed to it when it asks; the two scripts are read first, so
// their script and import() load from the HTTP cache.
//
// From file:// the browser forbids fetch() and module imports, so the same
// files come from classic scripts that carry them as strings (see
// generator/pyodide_assets.py, build_offline_payload).
(function () {
  "use strict";

  var PACKAGE = "spine-hemangioma"; // name in pyodide-lock.json
  var MODULE = "spine_hemangioma";
  var MANIFEST = "runtime.json";
  // No byte for this long while a download is open is a stall. TCP backs off
  // 1, 2, 4, 8 s on lost packets (15 s for four losses in a row) and a phone
  // handing over between cells pauses for a few seconds: 20 s outlasts both,
  // and is short enough that a dead link is reported while the reader waits.
  var DEFAULT_STALL_MS = 20000;
  // Named by Pyodide, so requested beside runtime.json, not after it: on the
  // calculator page the theme's DOMContentLoaded work held runtime.json's
  // answer back ~0.1 s (bench/profile_page.py). The two scripts first:
  // loadPyodide waits for them, and an HTTP/1.1 host serves six requests at
  // a time (the wasm's 9.6 MB no sooner for it).
  var PYODIDE_FILES = ["pyodide.asm.mjs", "pyodide.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"];
  var pending = null; // one runtime per page: loading it twice costs ~10 MB
  var never = new Promise(function () {});

  function loadError(kind, message, cause) {
    var err = new Error(message, cause ? { cause: cause } : undefined);
    err.kind = kind;
    return err;
  }

  var MESSAGES = {
    download: function (d) {
      return "Could not download the calculator (" + d + "). Check the connection, then retry.";
    },
    stalled: function (d) {
      return "The download of the calculator stalled: nothing arrived for " + d +
        ". Check the connection, then retry.";
    },
    damaged: function (d) {
      return "A file of the calculator arrived damaged (" + d +
        " does not match its checksum). Retry; if it happens again, the site's copy is damaged.";
    },
    nowasm: function () {
      return "This browser lacks WebAssembly, which the calculator needs. " +
        "Try another browser, or use the algorithm page.";
    },
    start: function (d) {
      return "The calculator could not start in this browser (" + d + ").";
    },
  };

  function fail(kind, detail, cause) {
    return loadError(kind, MESSAGES[kind](detail), cause);
  }

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
        reject(fail("download", url.split("/").pop() + " did not load"));
      };
      document.head.appendChild(s);
    });
  }

  function hex(buffer) {
    return Array.prototype.map
      .call(new Uint8Array(buffer), function (b) { return (b < 16 ? "0" : "") + b.toString(16); })
      .join("");
  }

  function base64(bytes) {
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }

  // --- Watched downloads (http) --------------------------------------------------

  // One load's downloads: progress, the stall clock, and the first fault,
  // which rejects `failed` (raced against the start) at once.
  function Downloads(base, opts, realFetch) {
    var self = this;
    var stallMs = opts.stallMs || DEFAULT_STALL_MS;
    var open = []; // {name, cut(err)}: the files still downloading
    var last = Date.now();
    var received = 0;
    this.total = 0;
    this.expected = {}; // name -> {bytes, sha256}
    // Names whose body Pyodide is reading: after a fault of another file
    // (the wheel, while Python starts) they must still end (arrive, fail, or
    // be cut by the stall clock), or the Python left for the Retry (`spare`)
    // would wait for them for ever.
    this.taken = {};
    this.failed = new Promise(function (_, reject) {
      self.fault = function (err) {
        if (!self.error) self.error = err;
        reject(self.error);
      };
    });
    this.failed.catch(function () {}); // raced; never unhandled
    // Rejected when, after the fault, a file Pyodide reads or asks for fails:
    // the Python left for the Retry will not start (a wasm it cannot read
    // leaves Pyodide's start pending for ever, not failed).
    this.lost = new Promise(function (_, reject) {
      self.lose = function (err) {
        reject(err);
        // That Python is given up: what it still reads stops downloading
        // (it would compete with the Retry's own).
        open.slice().forEach(function (f) {
          if (self.taken[f.name]) f.cut(err);
        });
      };
    });
    this.lost.catch(function () {}); // raced
    var kept = false; // the load has failed and left its Python to the Retry
    var beat = Date.now();
    var clock = setInterval(function () {
      var now = Date.now();
      // A late beat means this thread was busy (compiling, or a loaded
      // machine): bytes that arrived meanwhile have not been counted yet.
      if (now - beat > 1000) last = now;
      beat = now;
      // Once the load has left its Python to the Retry, the clock watches
      // the files that Python reads; no byte of any for the bound cuts them
      // all, and that Python is lost.
      var watched = kept ? open.filter(function (f) { return self.taken[f.name]; }) : open;
      if (kept && !watched.length) return clearInterval(clock);
      if (!watched.length || now - last <= stallMs) return;
      var stalled = function () { return fail("stalled", Math.round(stallMs / 1000) + " s"); };
      if (kept) watched.forEach(function (f) { f.cut(stalled()); });
      else self.fault(stalled());
    }, 250);
    // keep: the load failed and left its Python to the Retry (see above).
    this.stop = function (keep) {
      kept = !!keep;
      if (!kept) clearInterval(clock);
    };

    function tick(name, n) {
      last = Date.now();
      if (name === MANIFEST) return; // not in the total
      received += n;
      if (opts.onBytes && self.total) opts.onBytes(Math.min(received, self.total), self.total);
    }

    // fetch(base + name) -> Response whose body is read at once (so a file
    // Pyodide asks for later keeps downloading, and counts, meanwhile) and
    // checked against `sha256` (hex, or a promise of it: the body ends once
    // it is known and matches). After a fault nothing settles but what
    // Pyodide is reading (`taken`): the fault alone rejects the load.
    this.get = function (name, sha256) {
      if (self.error) return never;
      if (!open.length) last = Date.now();
      var abort = new AbortController();
      var cutBy = null;
      // Ends the download, wherever it waits (its response, its next bytes),
      // as failed with `err`.
      var file = {
        name: name,
        cut: function (err) {
          cutBy = err;
          abort.abort();
        },
      };
      open.push(file);
      var done = function () {
        var at = open.indexOf(file);
        if (at >= 0) open.splice(at, 1);
      };
      // Every failure faults the load; one of a file Pyodide reads, after
      // another file's fault, also loses the Python left for the Retry.
      var broke = function (err) {
        done();
        if (!err.file) err.file = name;
        var readAfterFault = self.error && self.taken[name];
        self.fault(err);
        if (!readAfterFault) return never;
        self.lose(err);
        return Promise.reject(err);
      };
      var request = { credentials: "same-origin", signal: abort.signal };
      return realFetch(base + name, request).then(
        function (response) {
          if (self.error && !self.taken[name]) {
            abort.abort(); // frees the connection; nothing will read it
            return never;
          }
          tick(name, 0);
          if (!response.ok) return broke(fail("download", name + ": HTTP " + response.status));
          var reader = response.body.getReader();
          var chunks = [];
          var body = new ReadableStream({
            start: function (controller) {
              function pump() {
                return reader.read().then(function (r) {
                  if (self.error && !self.taken[name]) return reader.cancel();
                  if (r.done) return finish(controller);
                  chunks.push(r.value);
                  tick(name, r.value.length);
                  controller.enqueue(r.value);
                  return pump();
                });
              }
              pump().catch(function (e) {
                var err = cutBy || (e && e.kind ? e : fail("download", name + ": the connection broke", e));
                broke(err).catch(function () {
                  controller.error(err);
                });
              });
            },
          });
          function finish(controller) {
            done();
            return Promise.resolve(sha256).then(function (want) {
              if (!want) return controller.close();
              return crypto.subtle.digest("SHA-256", concat(chunks)).then(function (digest) {
                chunks = null;
                if (hex(digest) !== want) throw fail("damaged", name);
                if (!self.error || self.taken[name]) controller.close();
              });
            });
          }
          return new Response(body, { status: response.status, headers: response.headers });
        },
        function (e) {
          return broke(cutBy || fail("download", name + ": the connection failed", e));
        }
      );
    };
  }

  function concat(chunks) {
    var n = 0;
    chunks.forEach(function (c) { n += c.length; });
    var out = new Uint8Array(n);
    var at = 0;
    chunks.forEach(function (c) {
      out.set(c, at);
      at += c.length;
    });
    return out;
  }

  // A Python that was still starting when its load failed for the wheel
  // alone: it has asked for its files and finishes starting once they are
  // in, so the Retry takes it over rather than start a second one beside it
  // (two starting at once in one page never finished:
  // tests/test_loading_faults.py, the tampered wheel). Rejected if one of
  // those files fails or stalls after all (Downloads.lost).
  var spare = null;

  async function startOnline(base, progress, opts) {
    var realFetch = window.fetch;
    var booting = null;
    var wheelName = null;
    // Once this load has failed it tells the page nothing more: its Python
    // may go on starting (for the Retry) and its files on arriving, which
    // would put a stage over the failure message and bring the bar back.
    var over = false;
    var keep = false; // its Python left to the Retry (spare)
    var say = function (stage) {
      if (!over) progress(stage);
    };
    var watch = {
      stallMs: opts.stallMs,
      onBytes: function (received, total) {
        if (!over && opts.onBytes) opts.onBytes(received, total);
      },
    };
    var dl = new Downloads(base, watch, realFetch.bind(window));
    var handOver = {}; // name -> Response promise, given to Pyodide's first fetch of it
    function shim(input, init) {
      var href = new URL(input instanceof Request ? input.url : String(input), location.href).href;
      var name = href.indexOf(base) === 0 ? href.slice(base.length) : null;
      if (name && handOver[name]) {
        var response = handOver[name];
        delete handOver[name];
        if (dl.error) {
          // Asked for after the fault: that file no longer downloads, so the
          // Python asking will not start. (Pending, not rejected: Pyodide
          // awaits some of its fetches late, and would log it uncaught.)
          dl.lose(dl.error);
          return never;
        }
        dl.taken[name] = true;
        return response;
      }
      if (name && dl.expected[name]) {
        // Asked again: a fresh download, watched like the first.
        return dl.get(name, dl.expected[name].sha256);
      }
      return realFetch.apply(this, arguments);
    }
    try {
      var work = (async function () {
        say("runtime");
        var listed = dl.get(MANIFEST).then(function (r) { return r.json(); });
        var early = {};
        PYODIDE_FILES.forEach(function (name) {
          var sha256 = listed.then(
            function (m) { return m[name] && m[name].sha256; },
            function () { return never; } // the load fails for runtime.json
          );
          early[name] = dl.get(name, sha256);
        });
        var manifest = await listed;
        PYODIDE_FILES.forEach(function (name) {
          if (!manifest[name]) throw fail("damaged", MANIFEST);
        });
        dl.expected = manifest;
        var names = Object.keys(manifest);
        dl.total = names.reduce(function (n, k) { return n + manifest[k].bytes; }, 0);
        // Pyodide's own files, in flight while the scripts load; the wheel,
        // which this script installs itself, too.
        wheelName = names.filter(function (n) { return /\.whl$/.test(n); })[0];
        if (!wheelName) throw fail("damaged", MANIFEST);
        names.forEach(function (name) {
          if (name === "pyodide.js" || name === "pyodide.asm.mjs") return;
          handOver[name] = early[name] || dl.get(name, manifest[name].sha256);
        });
        var wheel = handOver[wheelName];
        delete handOver[wheelName];
        await Promise.all(["pyodide.js", "pyodide.asm.mjs"].map(function (name) {
          return early[name].then(function (r) { return r.arrayBuffer(); });
        }));
        // A fault between the scripts' last byte and here has rejected the
        // load and run `finally`: a shim set now would stay on window.fetch,
        // under the Retry's own fetches.
        if (dl.error) throw dl.error;
        window.fetch = shim;
        if (!window.loadPyodide) await loadScript(base + "pyodide.js");
        // A fault while the script loaded has ended this load: a Python
        // started now would start beside the Retry's.
        if (dl.error) throw dl.error;
        var options = { indexURL: base, lockFileURL: base + "pyodide-lock.json" };
        // A spare that failed after all (a file it waited for broke or
        // stalled) leaves the Retry a fresh start, unless the Retry has
        // failed meanwhile: a Python started then would start outside any
        // load (its files unwatched), beside the next Retry's.
        booting = spare
          ? spare.catch(function (e) {
              if (dl.error) throw e;
              return window.loadPyodide(options);
            })
          : window.loadPyodide(options);
        spare = null;
        var pyodide = await booting;
        say("package");
        installWheel(pyodide, new Uint8Array(await (await wheel).arrayBuffer()));
        return pyodide;
      })();
      work.catch(function () {}); // a fault may reject the race first
      return await Promise.race([work, dl.failed]);
    } catch (err) {
      over = true;
      if (booting && err && err.file === wheelName) {
        spare = Promise.race([booting, dl.lost]);
        spare.catch(function () {}); // the Retry hears of it
        keep = true;
      }
      // A fault of the start itself (runtime.json damaged, say): the files
      // requested beside it stop downloading.
      if (!dl.error) dl.fault(err);
      throw err;
    } finally {
      dl.stop(keep);
      if (window.fetch === shim) window.fetch = realFetch;
    }
  }

  // --- file:// -------------------------------------------------------------------

  function decodeBase64(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // Pyodide asks for "<indexURL>pyodide.asm.wasm", python_stdlib.zip and the
  // wheel through fetch(); answer those from the embedded bytes. The lock
  // file's sha256 reaches fetch() as an SRI `integrity`, which a synthetic
  // Response would skip, so it is checked here.
  function installFetchShim(base, files, faults) {
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
          // Pyodide turns a failed fetch into an errorCallback message: the
          // loader reports the fault itself.
          faults.push(fail("damaged", name));
          throw faults[faults.length - 1];
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
    if (!manifest) throw fail("damaged", "pyodide-offline.js");
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
    var faults = [];
    var restore = installFetchShim(base, files, faults);
    try {
      var pyodide = await window.loadPyodide({
        indexURL: base,
        lockFileContents: manifest.lockFile,
        createPyodideModule: createPyodideModule,
      });
      progress("package");
      // The lock file carries the wheel's sha256 (pyodide_assets.py).
      var wheel = files[manifest.wheel];
      var entry = (manifest.lockFile.packages || {})[PACKAGE];
      var digest = wheel && hex(await crypto.subtle.digest("SHA-256", wheel));
      if (!entry || digest !== entry.sha256) throw fail("damaged", manifest.wheel);
      installWheel(pyodide, wheel);
      return pyodide;
    } catch (err) {
      throw faults[0] || err;
    } finally {
      restore();
    }
  }

  // --- Both ----------------------------------------------------------------------

  // Unpacked straight into site-packages (the wheel's sha256 checked
  // before): loadPackage would also import tarfile, importlib.metadata and
  // email to record the install, modules the calculator never uses and that
  // the trimmed stdlib (compile_stdlib.mjs) therefore leaves out.
  function installWheel(pyodide, bytes) {
    var site = pyodide.runPython("import site; site.getsitepackages()[0]");
    pyodide.unpackArchive(bytes, "wheel", { extractDir: site });
  }

  async function start(base, progress, opts) {
    if (typeof WebAssembly !== "object" || !WebAssembly.instantiate) throw fail("nowasm");
    var offline = location.protocol === "file:";
    var pyodide = offline
      ? await startOffline(base, progress)
      : await startOnline(base, progress, opts);
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
    var base = new URL(opts.baseUrl || "pyodide/", document.baseURI).href.replace(/\/?$/, "/");
    pending = start(base, progress, opts)
      .then(function (calc) {
        progress("ready");
        return calc;
      })
      .catch(function (err) {
        pending = null; // load() again is the retry
        if (err && err.kind) throw err;
        var msg = err && err.message ? err.message : String(err);
        var wrapped = fail("start", stage + ": " + msg, err);
        throw wrapped;
      });
    return pending;
  }

  window.SpineCalc = { load: load, STALL_MS: DEFAULT_STALL_MS };
})();
