// "Print receipt" buttons: a static file, not an onclick attribute, so the Content-Security-Policy
// can forbid inline scripts.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
