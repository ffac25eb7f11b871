// Article page: bring the cited paragraph's highlighted span (else the paragraph) into view, centred when
// possible: a paragraph taller than the window, centred, could leave its highlight out of view.
(function () {
  "use strict";
  function show() {
    var target = document.getElementById("highlight") || document.querySelector(".para.target");
    if (!target) return;
    var para = target.closest(".para") || target;
    target.scrollIntoView({ block: "center" });
    para.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
  // the browser's own jump to #p-N (links carry it for pages without JS) may come later: centre again
  window.addEventListener("load", function () { window.setTimeout(show, 0); });
})();
