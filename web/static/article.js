// Article page: bring the cited paragraph (and its highlighted span) into view, centred when possible.
(function () {
  "use strict";
  function show() {
    var target = document.getElementById("highlight") || document.querySelector(".para.target");
    if (!target) return;
    var para = target.closest(".para") || target;
    para.scrollIntoView({ block: "center" });
    para.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
  // the browser's own jump to #p-N (links carry it for pages without JS) may come later: centre again
  window.addEventListener("load", function () { window.setTimeout(show, 0); });
})();
