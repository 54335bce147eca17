// An irreversible act typed to confirm (templates/gdpr/privacy.html): the submit button
// stays off until one of the form's data-confirm-words is typed exactly, same case, no
// spaces; anything else typed shows the form's [data-confirm-mismatch] note. The server
// checks the word again (app.conversations.gdpr.services.confirmation_matches).
(function () {
  "use strict";

  function sync(form) {
    const words = (form.dataset.confirmWords || "").split(" ").filter(Boolean);
    const field = form.querySelector('input[name="confirmation"]');
    const button = form.querySelector('button[type="submit"]');
    if (!field || !button) return;
    const exact = words.includes(field.value);
    button.disabled = !exact;
    // Something typed that is not the word (wrong case, a space): say so at the field.
    const mismatch = form.querySelector("[data-confirm-mismatch]");
    if (mismatch) mismatch.hidden = exact || field.value === "";
    if (field.value !== "") field.setAttribute("aria-invalid", String(!exact));
  }

  function forms() {
    return Array.from(document.querySelectorAll("form[data-confirm-words]"));
  }

  document.addEventListener("input", function (event) {
    const form = event.target.closest ? event.target.closest("form[data-confirm-words]") : null;
    if (form) sync(form);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { forms().forEach(sync); });
  } else {
    forms().forEach(sync);
  }
})();
