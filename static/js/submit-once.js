// Forms that go to the payment provider are sent once. Stripe can take a second or more to answer; a buyer who
// presses the button again meanwhile would otherwise send the form twice. The button says what is happening, and
// further presses do nothing until the page changes. Only buttons with data-busy-label do this (not, say, "Download
// a quote", which stays on the page). Back on the page from the browser's history, the form works again. Each form
// gets a polite live region when the page loads (present before it changes, so screen readers announce the change).
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-submit-once]");
  if (!forms.length) { return; }

  function reset(form) {
    delete form.dataset.sending;
    form.querySelectorAll("[data-busy-label][aria-disabled]").forEach(function (button) {
      button.removeAttribute("aria-disabled");
      if (button.dataset.idleLabel) { button.textContent = button.dataset.idleLabel; }
    });
    var status = form.querySelector("[data-busy-status]");
    if (status) { status.textContent = ""; }
  }

  forms.forEach(function (form) {
    if (!form.querySelector("[data-busy-status]")) {
      var region = document.createElement("span");
      region.className = "visually-hidden";
      region.setAttribute("aria-live", "polite");
      region.setAttribute("data-busy-status", "");
      form.appendChild(region);
    }
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.dataset.sending) { event.preventDefault(); return; }
      var button = event.submitter;
      if (!button || !button.dataset.busyLabel) { return; }
      form.dataset.sending = "1";
      button.dataset.idleLabel = button.textContent;
      button.textContent = button.dataset.busyLabel;
      button.setAttribute("aria-disabled", "true");
      var status = form.querySelector("[data-busy-status]");
      if (status) { status.textContent = button.dataset.busyLabel; }
      // If no page ever comes (the connection dropped), the form can be sent again after a while.
      setTimeout(function () { reset(form); }, 20000);
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { forms.forEach(reset); }
  });
})();
