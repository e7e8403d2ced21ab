// The "Embed the calculator" page: its snippet names the address the page is
// actually served from. The build writes the published address ($SITE_URL,
// else mkdocs.yml's site_url) into the snippet; a copy of the guide served
// elsewhere (an intranet, a mirror) shows its own address instead, so the
// snippet an instructor copies points at the guide they are reading. From
// file:// (the offline bundle) there is no address to give: the page keeps
// the published one.
(function () {
  "use strict";

  var script = document.currentScript;
  var marker = document.querySelector("[data-sh-site-url]");
  if (!marker || !script || !/^https?:$/.test(location.protocol)) return;
  // This file is <guide>/assets/embedding.js.
  var here = new URL("../", script.src).href;
  var built = marker.getAttribute("data-sh-site-url");
  if (!built || built === here) return;
  document.querySelectorAll("[data-sh-site-url], .md-typeset pre code").forEach(function (node) {
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (var text = walker.nextNode(); text; text = walker.nextNode()) {
      if (text.data.indexOf(built) !== -1) text.data = text.data.split(built).join(here);
    }
  });
  marker.setAttribute("data-sh-site-url", here);
})();
