// A form's main button says what pressing it does for the payment chosen: by card the payment page comes next, by
// invoice the invoice is emailed at once. The labels are the button's own (data-label-*, from _pay_button.html); the
// registration form and the order page's "Grow your team" form both use this. Lines marked data-next-step show only
// for the chosen method, and data-billing-contact names the billing email typed so far.
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    var button = form.querySelector("[data-pay-button]");
    var choices = form.querySelectorAll("input[type=radio][name$=payment_method]");
    if (!button || !choices.length) { return; }
    var billingEmail = form.querySelector("[name$=billing_email]");
    var billingContact = form.querySelector("[data-billing-contact]");
    function chosenMethod() {
      var checked = form.querySelector("input[type=radio][name$=payment_method]:checked");
      return checked && checked.value === "invoice" ? "invoice" : "card";
    }
    function show() {
      var method = chosenMethod();
      if (!button.hasAttribute("aria-disabled")) { // not while it says the order is on its way
        button.textContent = method === "invoice" ? button.dataset.labelInvoice : button.dataset.labelCard;
        button.dataset.busyLabel = method === "invoice" ? button.dataset.busyInvoice : button.dataset.busyCard;
      }
      form.querySelectorAll("[data-next-step]").forEach(function (el) { el.hidden = el.dataset.nextStep !== method; });
      if (billingContact && billingEmail) {
        billingContact.textContent = billingEmail.value.trim() || "your billing contact";
      }
    }
    choices.forEach(function (el) { el.addEventListener("change", show); });
    if (billingEmail) { billingEmail.addEventListener("input", show); }
    show();
  });
})();
