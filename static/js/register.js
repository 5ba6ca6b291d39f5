// Progressive enhancement for the registration form: the server computes the same
// figures on "Update total"; this only saves the round trip.
(function () {
  "use strict";
  var form = document.getElementById("registration-form");
  if (!form) { return; }
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  var tiers = JSON.parse(document.getElementById("price-tiers").textContent).sort(function (a, b) { return a.min_seats - b.min_seats; });
  // A quote keeps its price per seat for the seats quoted, unless today's price is lower.
  var quotedEl = document.getElementById("quoted-price");
  var quoted = quotedEl ? JSON.parse(quotedEl.textContent) : null;
  var seatInput = form.querySelector("[name=seat_count]");
  var attends = form.querySelector("[name=buyer_attends]");
  var buyerAccess = document.getElementById("buyer-access");
  var buyerAffinity = document.getElementById("affinity"); // absent when the workshop offers no groups
  var rows = document.getElementById("attendee-rows");
  var template = document.getElementById("attendee-template");
  var totalForms = form.querySelector("[name=attendees-TOTAL_FORMS]");
  var summary = document.getElementById("price-summary");
  var noRows = document.getElementById("no-attendee-rows");
  var rowsHelp = document.getElementById("attendees-help");
  var max = parseInt(seatInput.getAttribute("max"), 10) || 50;
  var seatsLeft = seatInput.dataset.seatsLeft === "" ? null : parseInt(seatInput.dataset.seatsLeft, 10);
  var perOrder = parseInt(seatInput.dataset.maxPerOrder, 10) || 50;
  var live = document.getElementById("seat-count-live");
  var zoneInput = form.querySelector("[name=time_zone]");
  if (zoneInput && window.Intl) {
    try { zoneInput.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* keep blank */ }
  }

  function usd(cents) {
    return "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function tierFor(n) {
    var found = null;
    tiers.forEach(function (t) { if (t.min_seats <= n) { found = t; } });
    if (quoted && n === quoted.seat_count && (!found || quoted.unit_price_cents < found.unit_price_cents)) {
      return { min_seats: n, unit_price_cents: quoted.unit_price_cents, quoted: true };
    }
    return found;
  }
  function seats() {
    var n = typed();
    return n === null || isNaN(n) || n < 1 ? null : n;
  }
  // The count as the server reads it: a whole number ("3.0" too); NaN for anything else ("2.5", "1e3"); null for nothing.
  function typed() {
    var text = seatInput.value.trim();
    if (text === "") { return null; }
    return /^[+-]?\d+(\.0*)?$/.test(text) ? parseInt(text, 10) : NaN;
  }
  // The same words the server uses (RegistrationForm.clean_seat_count_value), for the number typed.
  function problem(n) {
    if (n === null) { return ""; }
    if (isNaN(n)) { return "Enter a whole number of seats, such as 1 or 5."; }
    if (n < 1) { return "Choose at least 1 seat."; }
    if (seatsLeft !== null && n > seatsLeft) {
      return seatsLeft > 0 ? "Only " + seatsLeft + " seat" + (seatsLeft === 1 ? "" : "s") + " left. Please choose " + seatsLeft + " or fewer." : "Sorry, this workshop is sold out.";
    }
    if (n > perOrder) {
      return "One order can hold up to " + perOrder + " seats. For more, place a second order or contact us.";
    }
    return "";
  }
  function showProblem(message) {
    var wrapper = seatInput.closest(".mb-3") || seatInput.parentNode;
    wrapper.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
    live.textContent = message;
    live.hidden = !message;
    seatInput.classList.toggle("is-invalid", !!message);
    if (message) { seatInput.setAttribute("aria-invalid", "true"); } else { seatInput.removeAttribute("aria-invalid"); }
  }
  function renderSummary(n) {
    var message = problem(n);
    showProblem(message);
    if (message) {
      summary.innerHTML = "";
      var p = document.createElement("p");
      p.className = "mb-0";
      p.setAttribute("data-no-total", "");
      p.textContent = message;
      summary.appendChild(p);
      return;
    }
    var tier = n && tierFor(n);
    if (!tier) { summary.innerHTML = "<p class=\"mb-0\">Choose the number of seats to see your total.</p>"; return; }
    var html = "<p class=\"mb-1\">" + n + " seat" + (n === 1 ? "" : "s") + " × " + usd(tier.unit_price_cents) + "</p>" +
      "<p class=\"total-amount mb-2\">" + usd(tier.unit_price_cents * n) + "</p>";
    var next = tiers.filter(function (t) { return t.min_seats === n + 1 && t.unit_price_cents < tier.unit_price_cents; })[0];
    if (next) {
      html += "<p class=\"small mb-0\">Add one more seat and every seat is " + usd(next.unit_price_cents) + ": " +
        next.min_seats + " seats for " + usd(next.unit_price_cents * next.min_seats) + ".</p>";
    }
    if (tier.quoted) {
      html += "<p class=\"small mb-2\">The price per seat of your quote.</p>";
    }
    var code = form.querySelector("[name=voucher_code]");
    if (code && code.value.trim()) {
      html += "<p class=\"small mb-0\">Your code's discount is applied when you continue.</p>";
    }
    summary.innerHTML = html;
  }
  function syncRows() {
    var n = Math.min(seats() || 1, max);
    var wanted = Math.max(n - (attends.checked ? 1 : 0), 0);
    var current = rows.querySelectorAll("[data-attendee-row]");
    for (var i = current.length; i < wanted; i++) {
      var html = template.innerHTML.replace(/__prefix__/g, String(i)).replace(/__num__/g, String(i + 1));
      rows.insertAdjacentHTML("beforeend", html);
    }
    current = rows.querySelectorAll("[data-attendee-row]");
    for (var j = current.length - 1; j >= wanted; j--) {
      var row = current[j];
      var filled = Array.prototype.some.call(row.querySelectorAll("input[type=text], input[type=email]"), function (el) { return el.value.trim() !== ""; });
      if (filled) { break; } // never throw away a name someone typed
      row.remove();
    }
    var count = rows.querySelectorAll("[data-attendee-row]").length;
    totalForms.value = String(count);
    noRows.hidden = count !== 0;
    rowsHelp.hidden = count === 0; // "leave a row blank" means nothing with no rows
    showBuyersOwn();
  }
  // The buyer's access needs and affinity group are for their own seat: shown only while they attend.
  function showBuyersOwn() {
    buyerAccess.hidden = !attends.checked;
    if (buyerAffinity) { buyerAffinity.hidden = !attends.checked; }
  }
  seatInput.addEventListener("input", function () { renderSummary(typed()); syncRows(); });
  attends.addEventListener("change", syncRows);
  showBuyersOwn();
})();
