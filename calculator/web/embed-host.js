// For the page that embeds the calculator (optional): resizes each
// <iframe data-spine-hemangioma> to the height its content posts.
// Only a message from that very iframe, from the origin of its src, with the
// documented shape, is used; everything else is ignored. On start it asks
// each such iframe for its height, in case the iframe posted before this
// script was listening.
(function () {
  "use strict";

  var MIN = 200;
  var MAX = 10000;

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "spine-hemangioma:height" || data.version !== 1) return;
    if (typeof data.height !== "number" || !isFinite(data.height)) return;
    var frames = document.querySelectorAll("iframe[data-spine-hemangioma]");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) continue;
      if (new URL(frame.src, location.href).origin !== event.origin) return;
      frame.style.height = Math.max(MIN, Math.min(MAX, Math.round(data.height))) + "px";
      return;
    }
  });

  // A frame that still shows its initial about:blank (the host's own origin,
  // so its document is readable here) has not loaded the calculator yet: a
  // message to the calculator's origin would be refused with a console
  // error. The calculator posts its height itself once it has loaded.
  function stillBlank(frame) {
    var doc = frame.contentDocument; // null once cross-origin: it has navigated
    return !!doc && doc.URL === "about:blank";
  }

  function ask() {
    var frames = document.querySelectorAll("iframe[data-spine-hemangioma]");
    for (var i = 0; i < frames.length; i++) {
      var origin = new URL(frames[i].src, location.href).origin;
      if (frames[i].contentWindow && /^https?:/.test(origin) && !stillBlank(frames[i])) {
        frames[i].contentWindow.postMessage(
          { type: "spine-hemangioma:request-height", version: 1 },
          origin
        );
      }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ask);
  else ask();
})();
