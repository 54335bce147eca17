// The planning board's plan dialog, by keyboard: "Plan" loads the order's plan
// into #plan-dialog (htmx); focus then moves to its first field, Escape or
// "Close" empties it and gives focus back to the "Plan" button that opened it.
// It is not modal, so Tab may leave it: no trap.
(function () {
  "use strict";

  let opener = null;

  function dialog() {
    return document.getElementById("plan-dialog");
  }

  function close() {
    const box = dialog();
    if (!box || !box.firstElementChild) return;
    box.replaceChildren();
    // The button may be gone meanwhile (its order planned): then the page's
    // main part takes focus, so it is not lost to the top of the document.
    if (opener && document.contains(opener)) opener.focus();
    else document.getElementById("main").focus();
    opener = null;
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    const box = dialog();
    if (!box || event.detail.target !== box || !box.firstElementChild) return;
    const trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (trigger && trigger.matches(".plan-open")) opener = trigger;
    const first =
      box.querySelector("input:not([type=hidden]), select, textarea") || box.querySelector("button");
    (first || box).focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const box = dialog();
    if (box && box.contains(document.activeElement)) {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-plan-close]")) close();
  });
})();
