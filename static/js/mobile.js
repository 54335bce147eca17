// Technician's phone view: say a photo is too large before it is sent over a
// mobile connection (the server checks again); show a refusal where the thumb is.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    const input = event.target.closest("input[type=file][data-max-bytes]");
    if (!input || !input.files || !input.files.length) return;
    const limit = Number(input.dataset.maxBytes);
    const tooBig = input.files[0].size > limit;
    input.setCustomValidity(
      tooBig ? t("photo_too_big", { limit: Math.round(limit / 1048576) }) : ""
    );
    if (tooBig) input.reportValidity();
  });

  // The quick reply's preview shows the arrival time as it is picked ("--:--" before).
  document.addEventListener("input", function (event) {
    const input = event.target.closest("input[name=eta_time]");
    const preview = input && input.form.querySelector("[data-eta-preview]");
    if (!preview) return;
    if (preview.dataset.unpicked === undefined) preview.dataset.unpicked = preview.textContent;
    const placeholder = preview.dataset.etaPreview;
    preview.textContent = preview.dataset.unpicked.split(placeholder).join(input.value || placeholder);
  });

  // The card just acted on stays where the technician looks. The answer to a tap,
  // a photo or a quick reply replaces the whole card: its top (where the answer's
  // notice is) and its Undo were left off the screen when the tap was near the
  // card's foot or the card changed height (the walk saw the Undo 1,163 px above
  // the screen). The countdown's own refresh moves nothing the technician sees:
  // a card whose top was on the screen keeps it there.
  const MARGIN = 8;
  let swapping = null;

  function onScreen(box) {
    return box.top >= 0 && box.bottom <= window.innerHeight;
  }

  function bringIntoView(card) {
    const top = card.getBoundingClientRect().top;
    const undo = card.querySelector(".m-pending");
    const undoBox = undo && undo.getBoundingClientRect();
    if (top >= 0 && top < window.innerHeight - MARGIN && (!undoBox || onScreen(undoBox))) return;
    window.scrollBy(0, top - MARGIN);
    if (!undo) return;
    // A card whose head is taller than the screen: the Undo comes first.
    const moved = undo.getBoundingClientRect();
    if (moved.bottom > window.innerHeight) window.scrollBy(0, moved.bottom - window.innerHeight + MARGIN);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    swapping = null;
    if (!target || !target.classList.contains("m-visit") || !target.id) return;
    const config = event.detail.requestConfig || {};
    swapping = {
      id: target.id,
      top: target.getBoundingClientRect().top,
      acted: String(config.verb || "").toLowerCase() !== "get",
    };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const swapped = swapping;
    swapping = null;
    // An answer that was not swapped in leaves its record behind: not this one's.
    const target = event.detail.target;
    if (!swapped || !target || target.id !== swapped.id) return;
    const card = document.getElementById(swapped.id);
    if (!card) return;
    if (swapped.acted) {
      bringIntoView(card);
      return;
    }
    const wasOnScreen = swapped.top >= 0 && swapped.top < window.innerHeight;
    const top = card.getBoundingClientRect().top;
    if (wasOnScreen && top !== swapped.top) window.scrollBy(0, top - swapped.top);
  });

  // A refused tap or quick reply comes back as the whole card (or conversation) with
  // its error on top: a screen or more above the button tapped at the card's foot,
  // where the technician saw nothing happen. The server marks the error of the
  // answer it just gave; it is brought into view once.
  document.addEventListener("htmx:afterSettle", function () {
    const error = document.querySelector("[data-bring-into-view]");
    if (!error) return;
    error.removeAttribute("data-bring-into-view");
    const box = error.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      error.scrollIntoView({ block: "center" });
    }
  });
})();
