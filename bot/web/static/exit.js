// Quick exit (shared devices): go to a neutral site without leaving this page in the
// back history, and hide the page at once while the next one loads.
"use strict";
(function () {
  var link = document.getElementById("quick-exit");
  if (!link) return;
  link.addEventListener("click", function (event) {
    event.preventDefault();
    document.body.style.visibility = "hidden";
    window.location.replace(link.href);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.shiftKey) link.click();
  });
})();
