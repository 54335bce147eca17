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
