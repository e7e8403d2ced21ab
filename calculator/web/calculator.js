// The calculator page: a form rendered at build time from questions(), the
// answers kept in the URL, and one Python function (evaluate_json, through
// SpineCalc.load in loader.js) that answers. Used unchanged by the guide's
// calculator page, the embed page and the offline bundle.
//
// Page contract (generator/templates/calculator_widget.html.j2): a root
// element [data-spine-calc] with
//   data-pyodide      base URL of the Pyodide assets, relative to the page
//   data-extra-params URL parameters that belong to the page, not the answers
//   data-embed        (present in the embed) links open in a new tab
// holding: fieldset[data-field] with radio inputs (name = field), .sh-status,
// .sh-note, .sh-result, .sh-reset, .sh-copy, .sh-bar (the compact status
// line), an optional figure.sh-path-diagram (one <template data-pathway> per
// pathway, shown in its .sh-scroll), an optional svg.sh-algorithm (the whole
// tree), and <script type="application/json" class="sh-data"> with {always_read,
// reads: {path id: field}, references: {n: citation}, pathways: {id: title},
// questions: {field: {label, options: {value: label}}}, disclaimer}.
// Links to the references page and to the static algorithm page are the
// page's own a[data-sh-link="references"|"algorithm"]: the site generator
// writes them, so they are right for served and file:// layouts alike.
//
// One result everywhere (decision.md section 7): every valid answer the page
// holds, from the form or a link, goes to the module, and the result is shown
// as the module gives it. An answer the path does not read stays in view,
// marked "not used" or "read by a pitfall only". The result element carries
// data-status, data-pathway, data-urgency, data-warnings and data-gaps (ids,
// sorted, space-separated) for tests and for anyone reading the page.
//
// History: one entry per completed result, not per click. While answering,
// the URL follows with replaceState; a new entry is pushed only when the
// current one holds a complete result and the reader moves on from it to
// another question (changing the same question again, e.g. with the arrow
// keys, replaces it).
(function () {
  "use strict";

  var root = document.querySelector("[data-spine-calc]");
  if (!root) return;

  var data = JSON.parse(root.querySelector(".sh-data").textContent);
  var form = root.querySelector("form");
  var statusEl = root.querySelector(".sh-status");
  var noteEl = root.querySelector(".sh-note");
  var resultEl = root.querySelector(".sh-result");
  var side = root.querySelector(".sh-side");
  var statusLine = root.querySelector(".sh-bar");
  var diagram = root.querySelector(".sh-diagram svg.sh-algorithm");
  var pathFigure = root.querySelector(".sh-path-diagram");
  var embed = root.hasAttribute("data-embed");
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
  var faulted = false; // the last evaluation raised (update)
  // What the current history entry holds: a complete result or not, and the
  // question whose change made it (null: loaded from the URL).
  var entry = { complete: false, field: null };

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
    var ignored = { names: [], count: 0, seen: Object.create(null) };
    new URLSearchParams(location.search).forEach(function (value, name) {
      if (extraParams.indexOf(name) !== -1) return;
      var fs = fieldsets[name];
      var ok = fs && Array.prototype.some.call(fs.querySelectorAll("input"), function (i) {
        return i.value === value;
      });
      if (ok && !(name in answers)) answers[name] = value;
      else ignore(ignored, name);
    });
    return { answers: answers, ignored: ignored };
  }

  // The note names at most NOTE_NAMES parameters, each cleaned and cut to
  // NOTE_CHARS, then counts the rest: a link may carry any text, of any
  // length, as many times as it likes. Linear: one lookup per parameter.
  var NOTE_NAMES = 5;
  var NOTE_CHARS = 40;
  // Control, format and bidirectional characters (an override would make the
  // note read backwards, e.g. as a warning about the result).
  var INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

  function ignore(ignored, name) {
    if (ignored.seen[name] === true) return;
    ignored.seen[name] = true;
    ignored.count += 1;
    if (ignored.names.length < NOTE_NAMES) ignored.names.push(shorten(name));
  }

  function shorten(name) {
    // Only the head of a long name is looked at: cleaning a megabyte to show 40 characters would be waste.
    var chars = Array.from(name.slice(0, 4 * NOTE_CHARS).replace(INVISIBLE, ""));
    if (!chars.length) return "(no name)";
    return chars.length > NOTE_CHARS || name.length > 4 * NOTE_CHARS
      ? chars.slice(0, NOTE_CHARS).join("") + "…"
      : chars.join("");
  }

  function writeUrl(answers, push) {
    // Answers in the form's order: the same answers give the same link.
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
    var count = ignored ? ignored.count : 0;
    noteEl.hidden = count === 0;
    if (!count) {
      noteEl.textContent = "";
      return;
    }
    var rest = count - ignored.names.length;
    noteEl.textContent =
      "Ignored " + (count === 1 ? "an unknown or invalid link parameter: " :
        count + " unknown or invalid link parameters: ") +
      ignored.names.join(", ") + (rest ? " and " + rest + " more" : "") + ".";
  }

  // --- Evaluation ----------------------------------------------------------------

  // The questions of the path, in the order it asks them: always read, read
  // on the path, then the next one.
  function pathFields(result) {
    var fields = data.always_read.slice();
    (result && result.path ? result.path : []).forEach(function (id) {
      var f = data.reads[id];
      if (f && fields.indexOf(f) === -1) fields.push(f);
    });
    if (result && result.next_question && fields.indexOf(result.next_question) === -1) {
      fields.push(result.next_question);
    }
    return fields;
  }

  // How the result used an answer: "path" (the decision read it), "pitfall"
  // (only a pitfall's condition did), "unused", or "" (not decided yet: an
  // incomplete path may still read it).
  function useOf(field, result) {
    if (!result || result.error) return "";
    if ((result.unused || []).indexOf(field) !== -1) return "unused";
    var read = result.read || pathFields(result);
    if (read.indexOf(field) !== -1 || pathFields(result).indexOf(field) !== -1) return "path";
    return result.status === "complete" ? "pitfall" : "";
  }

  var USE_LABELS = { unused: "not used", pitfall: "read by a pitfall only" };

  // The path's questions, then every other answered one (form order): an
  // answer is never hidden, so the reader sees everything the result is for.
  function shownFields(result, answers) {
    var fields = pathFields(result);
    Object.keys(fieldsets).forEach(function (f) {
      if (f in answers && fields.indexOf(f) === -1) fields.push(f);
    });
    return fields;
  }

  function update(changed) {
    var answers = formAnswers();
    if (!calc) {
      showFields(shownFields(null, answers), null);
      writeUrl(answers, false);
      return;
    }
    var moved = changed !== null && entry.complete && changed !== entry.field;
    var result;
    try {
      result = calc.call(answers);
    } catch (err) {
      // Not the reader's answers (bad input comes back as a result with an
      // error; the build runs every combination): a fault of the calculator.
      // Said on the page, not left as an uncaught error under a stale result.
      writeUrl(answers, moved);
      entry = { complete: false, field: changed === null ? entry.field : changed };
      showFields(shownFields(null, answers), null);
      clearResult(null);
      faulted = true;
      var lines = String((err && err.message) || err).trim().split("\n");
      failed("The calculator could not evaluate these answers (internal error: " +
        lines[lines.length - 1] + ").", null);
      return;
    }
    if (faulted) statusEl.textContent = "Calculator ready.";
    faulted = false;
    var complete = !result.error && result.status === "complete";
    var wasComplete = !!(lastResult && lastResult.status === "complete" && !lastResult.error);
    writeUrl(answers, moved);
    entry = changed === null ? { complete: complete, field: entry.field } : { complete: complete, field: changed };
    showFields(shownFields(result, answers), result);
    render(result);
    // Completing a path brings the result into view (phones, the embed, a
    // long form); the result region announces it too (aria-live).
    if (changed !== null && changed !== "reset" && complete && !wasComplete) showResult(false);
  }

  // The questions are placed in the order shownFields gives, so the form
  // reads (and tabs) as the algorithm goes. The one holding the focus stays
  // where it is: moving it would drop the focus.
  function showFields(fields, result) {
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
      var fs = fieldsets[field];
      fs.hidden = fields.indexOf(field) === -1;
      var use = fs.querySelector("input:checked") ? useOf(field, result) : "";
      fs.dataset.use = use;
      var mark = fs.querySelector(".sh-use");
      if (USE_LABELS[use]) {
        if (!mark) {
          mark = el("span", "sh-use");
          fs.querySelector("legend").appendChild(mark);
        }
        mark.textContent = " (" + USE_LABELS[use] + ")";
      } else if (mark) {
        mark.remove();
      }
    });
  }

  // --- Keeping the result in view ------------------------------------------------

  // The site's fixed header covers the top of the viewport; the embed has none.
  function topInset() {
    var header = document.querySelector(".md-header");
    return header ? Math.max(0, header.getBoundingClientRect().bottom) : 0;
  }

  // window.scrollTo, not scrollIntoView: inside an iframe it scrolls the frame
  // only, never the course page around it.
  function scrollToNode(node, force) {
    var box = node.getBoundingClientRect();
    var top = topInset();
    if (!force && box.top >= top && box.bottom <= window.innerHeight) return;
    window.scrollTo(0, Math.max(0, window.scrollY + box.top - top - 8));
  }

  // The head of the result (urgency, pathway title) in view. On wide screens
  // the result column stays in view by itself: only its own scroll resets.
  function showResult(force) {
    if (side && side.scrollHeight > side.clientHeight) side.scrollTop = 0;
    var top = resultEl.getBoundingClientRect().top;
    var bottom = top;
    resultEl.querySelectorAll(".sh-title, .sh-urgency, .sh-urgent").forEach(function (n) {
      bottom = Math.max(bottom, n.getBoundingClientRect().bottom);
    });
    var inset = topInset();
    if (!force && top >= inset && bottom <= window.innerHeight) return;
    window.scrollTo(0, Math.max(0, window.scrollY + top - inset - 8));
  }

  function updateBar(result) {
    if (!statusLine) return;
    var complete = result && !result.error && result.status === "complete";
    statusLine.hidden = !complete;
    if (!complete) return;
    statusLine.querySelector(".sh-bar-text").textContent =
      "Pathway: " + result.title + " · " + (result.urgency === "urgent" ? "URGENT" : "routine");
  }

  // --- Rendering (DOM nodes and textContent only: nothing is parsed as HTML) ---

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // In the embed a link opens a new tab: the calculator stays in its frame.
  function newTab(a) {
    if (!embed) return;
    a.target = "_blank";
    a.rel = "noopener";
  }

  // "[2†]": a reference the source prints no citation for, marked as the pages mark it.
  function refLabel(n) {
    var unknown = (data.unidentified || []).indexOf(Number(n)) !== -1;
    return "[" + n + (unknown ? data.unidentified_mark : "") + "]";
  }

  function refLink(n) {
    var a = el("a", "sh-ref", refLabel(n));
    a.href = referencesUrl + "#ref-" + n;
    if (data.references[n]) a.title = data.references[n];
    newTab(a);
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

  function ids(items) {
    return (items || []).map(function (x) { return x.id; }).sort().join(" ");
  }

  // What shows a result, set for `result`, or cleared (null: no result).
  function clearResult(result) {
    var none = { error: "none", path: [] };
    var r = result || none;
    lastResult = result;
    resultEl.replaceChildren();
    var copyArea = root.querySelector(".sh-copy-area");
    if (copyArea) copyArea.remove();
    showPathDiagram(r);
    highlight(r.path || []);
    updateBar(result);
    var complete = !r.error && r.status === "complete";
    resultEl.dataset.status = r.error ? "error" : r.status;
    resultEl.dataset.pathway = (!r.error && r.pathway) || "";
    resultEl.dataset.urgency = (!r.error && r.urgency) || "";
    resultEl.dataset.warnings = complete ? ids(r.warnings) : "";
    resultEl.dataset.gaps = complete ? ids(r.gaps) : "";
  }

  function render(result) {
    clearResult(result);
    if (result.error) {
      resultEl.appendChild(el("p", "sh-error", result.error));
      return;
    }
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
      list("Evidence", result.evidence, function (s) { return cited("li", s); }),
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
    var basis = provenance(result);
    if (basis) resultEl.appendChild(el("p", "sh-basis", basis));
    if (citesUnidentified(result)) resultEl.appendChild(el("p", "sh-basis sh-refnote", data.unidentified_note));
    resultEl.appendChild(el("p", "sh-disclaimer", result.disclaimer));
  }

  function citesUnidentified(result) {
    return (result.refs || []).some(function (n) {
      return (data.unidentified || []).indexOf(n) !== -1;
    });
  }

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];

  // "2025-12-07" -> "7 December 2025", as the source prints its date.
  function longDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return m ? Number(m[3]) + " " + MONTHS[Number(m[2]) - 1] + " " + m[1] : iso;
  }

  // The basis a reader can check: which module answered, from which source.
  function provenance(result) {
    var parts = [];
    if (result.version) parts.push("decision module version " + result.version);
    if (result.source_date) parts.push("source article of " + longDate(result.source_date));
    return parts.length ? "Computed by the " + parts.join(", from the ") + "." : "";
  }

  function urgentBanner() {
    var p = el("p", "sh-urgent");
    p.appendChild(el("strong", null, "⚠ URGENT: "));
    p.appendChild(document.createTextNode("neurological deficit or cord compression."));
    return p;
  }

  // The pathway's own diagram (drawn at build time) under the result.
  function showPathDiagram(result) {
    if (!pathFigure) return;
    var id = !result.error && result.status === "complete" ? result.pathway : "";
    var holder = pathFigure.querySelector(".sh-scroll");
    if (pathFigure.dataset.pathway !== id) {
      var template = id && pathFigure.querySelector('template[data-pathway="' + CSS.escape(id) + '"]');
      holder.replaceChildren();
      if (template) holder.appendChild(template.content.cloneNode(true));
      pathFigure.dataset.pathway = template ? id : "";
    }
    pathFigure.hidden = !pathFigure.dataset.pathway;
  }

  function highlight(path) {
    var svgs = [];
    if (diagram) svgs.push(diagram);
    if (pathFigure) pathFigure.querySelectorAll(".sh-scroll svg").forEach(function (s) { svgs.push(s); });
    svgs.forEach(function (svg) {
      svg.querySelectorAll(".on").forEach(function (n) {
        n.classList.remove("on");
      });
      svg.classList.toggle("sh-has-path", path.length > 0);
      path.forEach(function (id, i) {
        svg.querySelectorAll('[data-node="' + CSS.escape(id) + '"]').forEach(function (n) {
          n.classList.add("on");
        });
        if (i > 0) {
          var edge = '[data-from="' + CSS.escape(path[i - 1]) + '"][data-to="' + CSS.escape(id) + '"]';
          svg.querySelectorAll(edge).forEach(function (n) {
            n.classList.add("on");
          });
        }
      });
    });
  }

  // --- Summary, reset ----------------------------------------------------------

  function summary(result) {
    var lines = ["Spine hemangioma calculator (educational)", ""];
    var answers = formAnswers();
    lines.push("Answers:");
    shownFields(result, answers).forEach(function (f) {
      var q = data.questions[f];
      var use = USE_LABELS[useOf(f, result)];
      if (f in answers) {
        lines.push("- " + q.label + ": " + q.options[answers[f]] + (use ? " (" + use + ")" : ""));
      }
    });
    lines.push("");
    var item = function (x) {
      var refs = (x.refs || []).map(refLabel).join(" ");
      var text = x.text.replace(/\[(\d+(?:,\s*\d+)*)\]/g, function (_, numbers) {
        return numbers.split(/,\s*/).map(refLabel).join(" ");
      });
      return "- " + text + (refs ? " " + refs : "");
    };
    if (result && result.status === "complete") {
      lines.push("Pathway: " + result.title + " (urgency: " + result.urgency + ")");
      [["Steps", result.steps], ["Evidence", result.evidence], ["Alternatives", result.alternatives],
        ["Pitfalls", result.warnings], ["Expected outcomes", result.outcomes],
        ["Where the source is silent", result.gaps]].forEach(function (pair) {
        if (!pair[1] || !pair[1].length) return;
        lines.push("", pair[0] + ":");
        pair[1].forEach(function (x) { lines.push(item(x)); });
      });
      lines.push("", "References:");
      result.refs.forEach(function (n) {
        lines.push(refLabel(n) + " " + (data.references[n] || ""));
      });
      if (citesUnidentified(result)) lines.push(data.unidentified_note);
      var basis = provenance(result);
      if (basis) lines.push("", basis);
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
      // Right under the buttons, where the reader's eyes are.
      var area = root.querySelector(".sh-copy-area") || el("textarea", "sh-copy-area");
      area.value = text;
      area.setAttribute("aria-label", "Summary to copy");
      root.querySelector(".sh-actions").after(area);
      area.focus({ preventScroll: true });
      area.select();
      scrollToNode(area, false);
      statusEl.textContent = "Copy the selected summary (Ctrl+C or ⌘C).";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  // --- Wiring ----------------------------------------------------------------------

  form.addEventListener("change", function (e) { update(e.target.name || null); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  root.querySelector(".sh-reset").addEventListener("click", function () {
    setForm({});
    showNote(null);
    update("reset");
  });
  root.querySelector(".sh-copy").addEventListener("click", copySummary);
  if (statusLine) statusLine.querySelector(".sh-bar-go").addEventListener("click", function () { showResult(true); });
  window.addEventListener("popstate", function () {
    var state = readUrl();
    setForm(state.answers);
    showNote(state.ignored);
    entry = { complete: false, field: null };
    update(null);
  });

  var initial = readUrl();
  setForm(initial.answers);
  showNote(initial.ignored);
  update(null);

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
    newTab(a);
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
        update(null);
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
