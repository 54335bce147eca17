// Technician's phone view: the undo countdown of a held status tap or quick reply,
// and the "Completed?" dialog. The server holds the tap or reply and applies it when
// the window closes, whether or not this page is still open; this script shows the
// seconds and fetches the card again once they are up (which settles it).
(function () {
  "use strict";

  // Counted against the clock, not by ticks: a phone that slept or a throttled tab
  // still ends the countdown when the server's window closes.
  function startCountdown(box) {
    if (box.dataset.counting) return;
    box.dataset.counting = "1";
    const shown = box.querySelector("[data-seconds]");
    const endsAt = Date.now() + 1000 * Number(box.dataset.countdown || "0");
    const tick = function () {
      if (!box.isConnected) return;
      const left = Math.ceil((endsAt - Date.now()) / 1000);
      if (left <= 0) {
        if (shown) shown.textContent = "0";
        refresh(box, 0);
        return;
      }
      if (shown) shown.textContent = String(left);
      window.setTimeout(tick, Math.min(1000, endsAt - Date.now() - 1000 * (left - 1)));
    };
    tick();
  }

  // The card fetched after the window carries the tap out on the server (the job
  // may be behind a busy worker) and comes back applied. A card that still waits
  // (its window not quite closed on the server's clock) counts again from 0; an
  // answer that never came (no signal) is asked for again, a little later each time.
  function refresh(box, attempt) {
    const url = box.dataset.refreshUrl;
    const target = box.closest(".m-visit") || box.closest("#m-conversation");
    if (!url || !target || !window.htmx) return;
    window.setTimeout(function () {
      if (!target.isConnected) return;
      const select = target.id === "m-conversation" ? "#m-conversation" : undefined;
      const again = function () {
        if (target.isConnected && attempt < 20) refresh(box, attempt + 1);
      };
      window.htmx.ajax("GET", url, { target: target, swap: "outerHTML", select: select })
        .then(again, again);
    }, attempt === 0 ? 300 : Math.min(1000 * attempt, 5000));
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
