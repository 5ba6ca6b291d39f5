// After a form post the page opens at its outcome: the message or error summary beside the form (without
// JavaScript, a fragment in the address scrolls there). Focus goes there too, so a screen reader reads it rather
// than starting again from the top.
(function () {
  "use strict";
  var outcome = document.querySelector("[data-focus-on-load]");
  if (!outcome) { return; }
  // After the load event: the browser's own scroll to the address's fragment moves focus, and would undo ours.
  window.addEventListener("load", function () {
    setTimeout(function () {
      var anchor = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
      if (anchor && anchor.contains(outcome)) {
        anchor.scrollIntoView(); // where the fragment puts it, in case ours came first
        outcome.focus({ preventScroll: true });
      } else {
        outcome.focus();
      }
    }, 0);
  });
})();
