// On a phone an admin table too wide for the screen (an order's payments and refunds) scrolls inside its own box.
// A keyboard user can scroll it only if the box takes focus, so a box that scrolls becomes a named, focusable region.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".inline-group").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        var heading = box.querySelector("h2");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (heading) { box.setAttribute("aria-label", heading.textContent.trim()); }
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
})();
