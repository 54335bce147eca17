// The chosen template's text follows its variable inputs into the reply box.
//
// The server renders the preview (#template-preview) as variables are typed; once
// every value is there it carries the full text in data-body. That text replaces
// the reply box's content only while the agent has not edited the box by hand, so
// typing a variable never throws away their own words.
(function () {
  "use strict";

  const lastFilled = new WeakMap(); // field -> the text we last put there

  function fields() {
    const composer = document.getElementById("composer");
    if (!composer) return null;
    return {
      block: composer.querySelector("#template-fields"),
      content: composer.querySelector("#reply-content"),
      subject: composer.querySelector("#reply-subject"),
    };
  }

  function fill(field, text) {
    if (!field) return;
    const untouched = field.value === "" || field.value === lastFilled.get(field);
    if (!untouched || field.value === text) return;
    field.value = text;
    lastFilled.set(field, text);
    // Let others listening on the box (drafts, counters) see the change.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // A freshly rendered composer with a complete template already holds its text.
  function remember() {
    const f = fields();
    if (!f || !f.block || f.block.dataset.complete !== "1") return;
    if (f.content) lastFilled.set(f.content, f.content.value);
    if (f.subject) lastFilled.set(f.subject, f.subject.value);
  }

  // The server answers with each input's error (empty when filled): mirror it on the input.
  function markMissing(block) {
    if (!block) return;
    block.querySelectorAll(".template-variable").forEach((row) => {
      const error = row.querySelector(".variable-error");
      const missing = Boolean(error && error.textContent.trim());
      row.classList.toggle("is-missing", missing);
      const input = row.querySelector("input");
      if (input) input.setAttribute("aria-invalid", missing ? "true" : "false");
    });
  }

  document.addEventListener("DOMContentLoaded", remember);
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail && event.detail.target;
    if (!target) return;
    if (target.id === "composer") {
      remember();
      return;
    }
    if (target.id !== "template-preview" && !target.closest("#template-fields")) return;
    const preview = document.getElementById("template-preview");
    const f = fields();
    if (!preview || !f) return;
    markMissing(f.block);
    if (f.block) f.block.dataset.complete = preview.dataset.complete;
    if (preview.dataset.complete !== "1") return;
    fill(f.content, preview.dataset.body || "");
    if (preview.dataset.subject) fill(f.subject, preview.dataset.subject);
  });
})();
