// Technician's phone view: say a photo is too large before it is sent over a
// mobile connection (the server checks again).
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
})();
