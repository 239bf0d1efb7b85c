// The console's behaviour beyond htmx: selection for bulk decisions and keyboard shortcuts
// (j/k: next/previous entry, a/r/f: approve/reject/flag it, o: open it, x: select it).
(function () {
  "use strict";
  function entries() { return Array.from(document.querySelectorAll(".entry:not(.decided)")); }
  function current() { return document.querySelector(".entry.current") || null; }
  function focusEntry(el) {
    document.querySelectorAll(".entry.current").forEach(function (e) { e.classList.remove("current"); });
    if (el) { el.classList.add("current"); el.focus({ preventScroll: false }); }
  }
  function updateCount() {
    var out = document.getElementById("selected-count");
    if (!out) return;
    var n = document.querySelectorAll("input.select:checked").length;
    out.textContent = n > 0 ? n + " " + (document.documentElement.lang === "id" ? "dipilih" : "selected") : "";
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.id === "select-all") {
      document.querySelectorAll("input.select").forEach(function (c) { c.checked = ev.target.checked; });
    }
    updateCount();
  });
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var list = entries();
    if (!list.length) return;
    var at = list.indexOf(current());
    var el = at >= 0 ? list[at] : null;
    switch (ev.key) {
      case "j": focusEntry(list[Math.min(at + 1, list.length - 1)]); break;
      case "k": focusEntry(list[Math.max(at - 1, 0)]); break;
      case "a": case "r": case "f":
        if (el) { var b = el.querySelector('button[data-key="' + ev.key + '"]'); if (b) b.click(); }
        break;
      case "o": if (el) { var a = el.querySelector("a.open"); if (a) window.location = a.href; } break;
      case "x": if (el) { var c = el.querySelector("input.select"); if (c) { c.checked = !c.checked; updateCount(); } } break;
      default: return;
    }
    ev.preventDefault();
  });
  document.addEventListener("focusin", function (ev) {
    var e = ev.target.closest && ev.target.closest(".entry");
    if (e && !e.classList.contains("current")) {
      document.querySelectorAll(".entry.current").forEach(function (x) { x.classList.remove("current"); });
      e.classList.add("current");
    }
  });
  // After a decision the next entry has the focus, so a reviewer can go on with the keyboard.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var swapped = ev.detail.target;
    if (swapped && swapped.classList && swapped.classList.contains("entry")) {
      var next = entries()[0];
      if (next) focusEntry(next);
    }
    updateCount();
  });
})();
