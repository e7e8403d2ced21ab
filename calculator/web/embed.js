// The embed page's own behaviour: layout options from the URL, and its
// content height posted to the host page so the iframe can fit it.
//
// Message (documented in the guide's "Embed the calculator" page):
//   {type: "spine-hemangioma:height", version: 1, height: <CSS pixels>}
// Beside it, Canvas's own resize message, which Canvas applies to any iframe
// it shows (no host script needed; most course platforms strip scripts):
//   {subject: "lti.frameResize", height: <CSS pixels>}
// Both are posted only to the origin of the page that embeds us (from
// document.referrer), never to "*". The one message the embed answers is
//   {type: "spine-hemangioma:request-height", version: 1}
// from that page (a host script that loads after our first post asks again);
// it answers with the height and does nothing else: a host can size the
// calculator, not drive it.
(function () {
  "use strict";

  var params = new URLSearchParams(location.search);
  var theme = params.get("theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  if (params.get("compact") === "1") document.documentElement.dataset.compact = "true";

  if (window.parent === window || !document.referrer) return;
  var target;
  try {
    target = new URL(document.referrer).origin;
  } catch (e) {
    return;
  }
  if (!/^https?:/.test(target)) return;

  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "spine-hemangioma:height", version: 1, height: height }, target);
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, target);
  }
  new ResizeObserver(post).observe(document.documentElement);
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== target) return;
    var data = event.data;
    if (!data || data.type !== "spine-hemangioma:request-height" || data.version !== 1) return;
    last = 0;
    post();
  });
  post();
})();
