// The calculator page: a form rendered at build time from questions(), the
// answers kept in the URL, and one Python function (evaluate_json, through
// SpineCalc.load in loader.js) that answers. Used unchanged by the guide's
// calculator page, the embed page and the offline bundle.
//
// Page contract (generator/templates/calculator_widget.html.j2): a root
// element [data-spine-calc] with
//   data-pyodide      base URL of the Pyodide assets, relative to the page
//   data-extra-params URL parameters that belong to the page, not the answers
// holding: fieldset[data-field] with radio inputs (name = field), .sh-status,
// .sh-note, .sh-result, .sh-reset, .sh-copy, an optional svg.sh-algorithm,
// and <script type="application/json" class="sh-data"> with {always_read,
// reads: {path id: field}, references: {n: citation}, pathways: {id: title},
// questions: {field: {label, options: {value: label}}}, disclaimer}.
// Links to the references page and to the static algorithm page are the
// page's own a[data-sh-link="references"|"algorithm"]: the site generator
// writes them, so they are right for served and file:// layouts alike.
(function () {
  "use strict";

  var root = document.querySelector("[data-spine-calc]");
  if (!root) return;

  var data = JSON.parse(root.querySelector(".sh-data").textContent);
  var form = root.querySelector("form");
  var statusEl = root.querySelector(".sh-status");
  var noteEl = root.querySelector(".sh-note");
  var resultEl = root.querySelector(".sh-result");
  var diagram = root.querySelector("svg.sh-algorithm");
  // No prototype: a link parameter named "constructor" or "__proto__" must
  // not find a field.
  var fieldsets = Object.create(null);
  root.querySelectorAll("fieldset[data-field]").forEach(function (fs) {
    fieldsets[fs.getAttribute("data-field")] = fs;
  });
  var extraParams = (root.getAttribute("data-extra-params") || "").split(/\s+/).filter(Boolean);
  var calc = null; // set once Python is ready

  function pageLink(name) {
    var a = document.querySelector('a[data-sh-link="' + name + '"]');
    return a ? a.href.split("#")[0] : "";
  }
  var referencesUrl = pageLink("references");
  var lastResult = null;

  // --- Answers <-> form <-> URL ------------------------------------------------

  function formAnswers() {
    var answers = {};
    Object.keys(fieldsets).forEach(function (field) {
      var checked = fieldsets[field].querySelector("input:checked");
      if (checked) answers[field] = checked.value;
    });
    return answers;
  }

  function setForm(answers) {
    Object.keys(fieldsets).forEach(function (field) {
      fieldsets[field].querySelectorAll("input").forEach(function (input) {
        input.checked = answers[field] === input.value;
      });
    });
  }

  // Only known fields with allowed values become answers; anything else is
  // reported by name, as text, and never reaches the page as HTML.
  function readUrl() {
    var answers = {};
    var ignored = [];
    new URLSearchParams(location.search).forEach(function (value, name) {
      if (extraParams.indexOf(name) !== -1) return;
      var fs = fieldsets[name];
      var ok = fs && Array.prototype.some.call(fs.querySelectorAll("input"), function (i) {
        return i.value === value;
      });
      if (ok && !(name in answers)) answers[name] = value;
      else ignored.push(name);
    });
    return { answers: answers, ignored: ignored };
  }

  function writeUrl(answers, push) {
    var params = new URLSearchParams();
    new URLSearchParams(location.search).forEach(function (value, name) {
      if (extraParams.indexOf(name) !== -1) params.append(name, value);
    });
    Object.keys(fieldsets).forEach(function (field) {
      if (field in answers) params.set(field, answers[field]);
    });
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    if (url === location.pathname + location.search + location.hash) return;
    try {
      if (push) history.pushState(null, "", url);
      else history.replaceState(null, "", url);
    } catch (e) {
      // Some file:// contexts refuse history changes; the page still works.
    }
  }

  function showNote(ignored) {
    var names = [];
    ignored.forEach(function (name) {
      var shown = name === "" ? "(no name)" : name;
      if (names.indexOf(shown) === -1) names.push(shown);
    });
    noteEl.hidden = names.length === 0;
    noteEl.textContent = names.length
      ? "Ignored unknown or invalid link parameters: " + names.join(", ") + "."
      : "";
  }

  // --- Evaluation ----------------------------------------------------------------

  // Which questions the path read: only those (and the next one) are shown.
  function visibleFields(result) {
    var fields = data.always_read.slice();
    (result ? result.path : []).forEach(function (id) {
      var f = data.reads[id];
      if (f && fields.indexOf(f) === -1) fields.push(f);
    });
    if (result && result.next_question && fields.indexOf(result.next_question) === -1) {
      fields.push(result.next_question);
    }
    return fields;
  }

  function restrict(answers, fields) {
    var out = {};
    fields.forEach(function (f) {
      if (f in answers) out[f] = answers[f];
    });
    return out;
  }

  function evaluate(answers) {
    // Answers to questions the path no longer asks stay in the form (they
    // come back if the path does) but are not sent: a hidden answer must not
    // raise a warning.
    var result = calc.call(answers);
    var fields = visibleFields(result);
    var shown = restrict(answers, fields);
    if (!result.error && Object.keys(shown).length !== Object.keys(answers).length) {
      result = calc.call(shown);
    }
    return { result: result, answers: shown };
  }

  function update(push) {
    var answers = formAnswers();
    if (!calc) {
      showFields(visibleFields(null).concat(Object.keys(answers)));
      writeUrl(answers, push);
      return;
    }
    var out = evaluate(answers);
    writeUrl(out.answers, push);
    showFields(visibleFields(out.result));
    render(out.result);
  }

  // The questions are placed in the order the path asks them, so the form
  // reads (and tabs) as the algorithm goes. The one holding the focus stays
  // where it is: moving it would drop the focus.
  function showFields(fields) {
    var previous = null;
    var focused = document.activeElement;
    var seen = {};
    fields.forEach(function (field) {
      var fs = fieldsets[field];
      if (!fs || seen[field]) return;
      seen[field] = true;
      if (previous && previous.nextElementSibling !== fs && !fs.contains(focused)) {
        previous.after(fs);
      }
      previous = fs;
    });
    Object.keys(fieldsets).forEach(function (field) {
      fieldsets[field].hidden = fields.indexOf(field) === -1;
    });
  }

  // --- Rendering (DOM nodes and textContent only: nothing is parsed as HTML) ---

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function refLink(n) {
    var a = el("a", "sh-ref", "[" + n + "]");
    a.href = referencesUrl + "#ref-" + n;
    if (data.references[n]) a.title = data.references[n];
    return a;
  }

  // A statement's text with its inline "[3]" markers turned into links,
  // followed by its references.
  function cited(tag, item) {
    var node = el(tag);
    var inline = [];
    item.text.split(/(\[\d+(?:,\s*\d+)*\])/).forEach(function (part) {
      var m = /^\[(\d+(?:,\s*\d+)*)\]$/.exec(part);
      if (!m) return node.appendChild(document.createTextNode(part));
      m[1].split(/,\s*/).forEach(function (n, i) {
        if (i) node.appendChild(document.createTextNode(" "));
        node.appendChild(refLink(n));
        inline.push(Number(n));
      });
    });
    (item.refs || []).forEach(function (n) {
      if (inline.indexOf(n) !== -1) return;
      node.appendChild(document.createTextNode(" "));
      node.appendChild(refLink(n));
    });
    return node;
  }

  function list(title, items, make) {
    if (!items || !items.length) return null;
    var section = el("section", "sh-part");
    section.appendChild(el("h3", null, title));
    var ul = el(title === "Steps" ? "ol" : "ul");
    items.forEach(function (item) {
      ul.appendChild(make(item));
    });
    section.appendChild(ul);
    return section;
  }

  function render(result) {
    lastResult = result;
    resultEl.replaceChildren();
    var copyArea = root.querySelector(".sh-copy-area");
    if (copyArea) copyArea.remove();
    highlight(result.path || []);
    if (result.error) {
      resultEl.dataset.status = "error";
      resultEl.dataset.pathway = "";
      resultEl.dataset.urgency = "";
      resultEl.appendChild(el("p", "sh-error", result.error));
      return;
    }
    resultEl.dataset.status = result.status;
    resultEl.dataset.pathway = result.pathway || "";
    resultEl.dataset.urgency = result.urgency || "";
    if (result.status !== "complete") {
      var q = data.questions[result.next_question];
      resultEl.appendChild(
        el("p", "sh-next", "Answer “" + (q ? q.label : result.next_question) + "” to see the pathway.")
      );
      if (result.urgency === "urgent") resultEl.appendChild(urgentBanner());
      return;
    }
    if (result.urgency === "urgent") resultEl.appendChild(urgentBanner());
    var head = el("h2", "sh-title");
    head.appendChild(el("span", "sh-label", "Pathway: "));
    head.appendChild(document.createTextNode(result.title));
    resultEl.appendChild(head);
    if (result.urgency !== "urgent") resultEl.appendChild(el("p", "sh-urgency", "Urgency: routine"));
    var parts = [
      list("Steps", result.steps, function (s) { return cited("li", s); }),
      list("Alternatives", result.alternatives, function (a) {
        var li = cited("li", a);
        var name = el("strong", null, (data.pathways[a.pathway] || a.pathway) + ": ");
        li.insertBefore(name, li.firstChild);
        return li;
      }),
      list("Pitfalls to avoid", result.warnings, function (w) { return cited("li", w); }),
      list("Expected outcomes", result.outcomes, function (o) { return cited("li", o); }),
      list("Where the source is silent", result.gaps, function (g) { return cited("li", g); }),
    ];
    parts.forEach(function (p) {
      if (p) resultEl.appendChild(p);
    });
    if (!result.outcomes || !result.outcomes.length) {
      resultEl.appendChild(el("p", "sh-none", "Expected outcomes: the source gives none for this pathway."));
    }
    resultEl.appendChild(el("p", "sh-disclaimer", result.disclaimer));
  }

  function urgentBanner() {
    var p = el("p", "sh-urgent");
    p.appendChild(el("strong", null, "⚠ URGENT: "));
    p.appendChild(document.createTextNode("neurological deficit or cord compression."));
    return p;
  }

  function highlight(path) {
    if (!diagram) return;
    diagram.querySelectorAll(".on").forEach(function (n) {
      n.classList.remove("on");
    });
    path.forEach(function (id, i) {
      diagram.querySelectorAll('[data-node="' + CSS.escape(id) + '"]').forEach(function (n) {
        n.classList.add("on");
      });
      if (i > 0) {
        var edge = '[data-from="' + CSS.escape(path[i - 1]) + '"][data-to="' + CSS.escape(id) + '"]';
        diagram.querySelectorAll(edge).forEach(function (n) {
          n.classList.add("on");
        });
      }
    });
  }

  // --- Summary, reset ----------------------------------------------------------

  function summary(result) {
    var lines = ["Spine hemangioma calculator (educational)", ""];
    var answers = formAnswers();
    lines.push("Answers:");
    visibleFields(result).forEach(function (f) {
      var q = data.questions[f];
      if (f in answers) lines.push("- " + q.label + ": " + q.options[answers[f]]);
    });
    lines.push("");
    var item = function (x) {
      var refs = (x.refs || []).map(function (n) { return "[" + n + "]"; }).join(" ");
      return "- " + x.text + (refs ? " " + refs : "");
    };
    if (result && result.status === "complete") {
      lines.push("Pathway: " + result.title + " (urgency: " + result.urgency + ")");
      [["Steps", result.steps], ["Alternatives", result.alternatives],
        ["Pitfalls", result.warnings], ["Expected outcomes", result.outcomes],
        ["Where the source is silent", result.gaps]].forEach(function (pair) {
        if (!pair[1] || !pair[1].length) return;
        lines.push("", pair[0] + ":");
        pair[1].forEach(function (x) { lines.push(item(x)); });
      });
      lines.push("", "References:");
      result.refs.forEach(function (n) {
        lines.push("[" + n + "] " + (data.references[n] || ""));
      });
    } else {
      lines.push("No complete result yet.");
    }
    lines.push("", "Link: " + location.href, "", data.disclaimer);
    return lines.join("\n");
  }

  function copySummary() {
    var text = summary(lastResult);
    var done = function () { statusEl.textContent = "Summary copied to the clipboard."; };
    var fallback = function () {
      // One box, whatever the number of clicks; render() removes it when the
      // result changes, so it never shows a stale summary.
      var area = root.querySelector(".sh-copy-area") || el("textarea", "sh-copy-area");
      area.value = text;
      area.setAttribute("aria-label", "Summary to copy");
      root.appendChild(area);
      area.select();
      statusEl.textContent = "Copy the selected summary (Ctrl+C or ⌘C).";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  // --- Wiring ----------------------------------------------------------------------

  form.addEventListener("change", function () { update(true); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  root.querySelector(".sh-reset").addEventListener("click", function () {
    setForm({});
    showNote([]);
    update(true);
  });
  root.querySelector(".sh-copy").addEventListener("click", copySummary);
  window.addEventListener("popstate", function () {
    var state = readUrl();
    setForm(state.answers);
    showNote(state.ignored);
    update(false);
  });

  var initial = readUrl();
  setForm(initial.answers);
  showNote(initial.ignored);
  update(false);

  // --- Loading (loader.js): progress, plain-words failure, Retry -------------------

  // The first stage starts at once: each says the form already works.
  var meanwhile = " You can answer the questions meanwhile.";
  var stages = {
    payload: "Loading the calculator (offline files)…",
    runtime: "Starting Python in your browser…",
    package: "Loading the decision module…",
    import: "Almost ready…",
  };
  // Bytes of the runtime received, of the total; not a live region (the
  // status line announces the stages), hidden once the download is done.
  var bar = el("progress", "sh-progress");
  bar.setAttribute("aria-label", "Calculator download");
  bar.hidden = true;
  statusEl.after(bar);

  function megabytes(n) {
    return (n / 1e6).toFixed(1);
  }

  function showBytes(received, total) {
    bar.max = total;
    bar.value = received;
    bar.hidden = received >= total;
    bar.setAttribute("aria-valuetext", megabytes(received) + " of " + megabytes(total) + " MB");
    bar.title = bar.getAttribute("aria-valuetext");
  }

  function failed(message, retry) {
    bar.hidden = true;
    resultEl.dataset.status = "failed";
    statusEl.textContent = "";
    resultEl.replaceChildren();
    var p = el("p", "sh-error", message + " ");
    if (retry) {
      var button = el("button", "sh-retry", "Retry");
      button.type = "button";
      button.addEventListener("click", retry);
      p.appendChild(button);
      p.appendChild(document.createTextNode(" "));
    }
    p.appendChild(document.createTextNode("The same algorithm is on the "));
    var a = el("a", null, "Management algorithm page");
    a.href = pageLink("algorithm");
    p.appendChild(a);
    p.appendChild(document.createTextNode("."));
    resultEl.appendChild(p);
  }

  function startLoading() {
    resultEl.dataset.status = "loading";
    resultEl.replaceChildren(el("p", null, "The result appears here once the questions on the path are answered."));
    statusEl.textContent = "Loading the calculator…" + meanwhile;
    window.SpineCalc.load({
      baseUrl: root.getAttribute("data-pyodide"),
      onProgress: function (stage) {
        if (stages[stage]) statusEl.textContent = stages[stage] + meanwhile;
      },
      onBytes: showBytes,
    }).then(
      function (loaded) {
        calc = loaded;
        bar.hidden = true;
        statusEl.textContent = "Calculator ready.";
        root.dataset.ready = "true";
        update(false);
      },
      function (err) {
        failed(err.message, err.kind === "nowasm" ? null : startLoading);
      }
    );
  }

  // loader.js itself may not have arrived (its script is a download too):
  // Retry fetches it again, without reloading the page.
  var loaderUrl = new URL("loader.js", document.currentScript.src).href;

  function startWithLoader() {
    if (window.SpineCalc) return startLoading();
    var s = document.createElement("script");
    s.src = loaderUrl;
    s.onload = function () {
      s.remove();
      if (window.SpineCalc) startLoading();
    };
    s.onerror = function () {
      s.remove();
      loaderMissing();
    };
    statusEl.textContent = "Loading the calculator…" + meanwhile;
    document.head.appendChild(s);
  }

  function loaderMissing() {
    failed(
      "Could not download the calculator (loader.js did not load). Check the connection, then retry.",
      startWithLoader
    );
  }

  if (window.SpineCalc) startLoading();
  else loaderMissing();
})();
