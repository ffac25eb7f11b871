// Article page: bring the cited paragraph (and its highlighted span) into view.
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
})();
