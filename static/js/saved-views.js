// The "Save as view" form sits inside the conversation list, and the list is
// replaced whenever it changes (a filter, a search, a live update). An open form
// and what was typed in it survive that; the hidden filter fields come fresh
// with the new list, so the view saved is always the list on screen.
(function () {
  "use strict";

  let kept = null;

  function saveForm(root) {
    return root ? root.querySelector("details.save-view") : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    kept = null;
    const target = event.detail.target;
    if (!target || target.id !== "inbox") return;
    const details = saveForm(target);
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    // The form's own answer (saved, or refused with the reason) is shown as sent.
    if (!details || !details.open || (source && details.contains(source))) return;
    const name = details.querySelector("[name=name]");
    kept = {
      name: name.value,
      visibility: details.querySelector("[name=visibility]").value,
      focused: document.activeElement === name,
    };
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!kept) return;
    const details = saveForm(document.getElementById("inbox"));
    const values = kept;
    kept = null;
    if (!details) return;
    details.open = true;
    const name = details.querySelector("[name=name]");
    name.value = values.name;
    details.querySelector("[name=visibility]").value = values.visibility;
    if (values.focused) {
      name.focus();
      name.setSelectionRange(name.value.length, name.value.length);
    }
  });
})();
