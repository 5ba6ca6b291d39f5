// The order page: a "Print receipt" button (shown only when this script runs), and the folded
// receipt opened for printing so the paper copy is never empty.
(function () {
  "use strict";
  var receipt = document.getElementById("receipt");
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (receipt) { receipt.open = true; }
      window.print();
    });
  });
  window.addEventListener("beforeprint", function () { if (receipt) { receipt.open = true; } });
})();
