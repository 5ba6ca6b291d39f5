// Show each <time data-local> also in the visitor's own time zone when it differs from the event's.
(function () {
  "use strict";
  var visitorZone;
  try { visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  document.querySelectorAll("time[data-local][data-zone]").forEach(function (el) {
    if (!visitorZone || el.dataset.zone === visitorZone) { return; }
    var start = new Date(el.getAttribute("datetime"));
    var end = el.dataset.end ? new Date(el.dataset.end) : null;
    if (isNaN(start)) { return; }
    var day = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
    var hour = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", timeZoneName: "short" });
    var text = day.format(start) + ", " + hour.format(start);
    if (end) { text = day.format(start) + ", " + new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(start) + "–" + hour.format(end); }
    var target = document.getElementById(el.dataset.local);
    if (target) {
      target.textContent = "Your time: " + text;
      target.hidden = false;
    }
  });
  // An attendee who has not chosen a time zone gets their browser's preselected; saving it stays their choice.
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    if (!visitorZone || select.value || select.getAttribute("aria-invalid") === "true") { return; }
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === visitorZone; });
    if (!option) { return; }
    select.value = visitorZone;
    var hint = select.form && select.form.querySelector("[data-browser-zone-hint]");
    if (hint) { hint.hidden = false; }
  });
})();
