// Technician's phone view: the undo countdown of a held status tap or quick reply,
// and the "Completed?" dialog. The server holds the tap or reply and applies it when
// the window closes, whether or not this page is still open; this script only shows
// the seconds and fetches the card again once they are up.
(function () {
  "use strict";

  function startCountdown(box) {
    if (box.dataset.counting) return;
    box.dataset.counting = "1";
    const shown = box.querySelector("[data-seconds]");
    let left = Number(box.dataset.countdown || "0");
    const tick = function () {
      if (!box.isConnected) return;
      if (left <= 0) {
        refresh(box);
        return;
      }
      if (shown) shown.textContent = String(left);
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  function refresh(box) {
    const url = box.dataset.refreshUrl;
    const target = box.closest(".m-visit") || box.closest("#m-conversation");
    if (!url || !target || !window.htmx) return;
    // Give the server's job a moment to apply it, then show what happened; a card
    // that still waits (the worker is busy) comes back with a countdown of 0 and
    // asks again in the same way.
    window.setTimeout(function () {
      if (!target.isConnected) return;
      const select = target.id === "m-conversation" ? "#m-conversation" : undefined;
      window.htmx.ajax("GET", url, { target: target, swap: "outerHTML", select: select });
    }, 1200);
  }

  function openDialogs(root) {
    root.querySelectorAll("dialog.m-confirm[open]").forEach(function (dialog) {
      if (typeof dialog.showModal !== "function") return;
      dialog.close();
      dialog.showModal();
    });
  }

  function wire(root) {
    root.querySelectorAll("[data-countdown]").forEach(startCountdown);
    openDialogs(root);
  }

  document.addEventListener("click", function (event) {
    const cancel = event.target.closest("[data-dialog-cancel]");
    if (!cancel) return;
    const dialog = cancel.closest("dialog");
    if (!dialog || !window.htmx) return; // without htmx the link goes back to the day
    event.preventDefault();
    dialog.close();
    dialog.remove();
  });

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); });
})();
