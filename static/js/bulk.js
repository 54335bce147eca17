// Bulk selection on the inbox list (templates/inbox/_bulk_bar.html).
// The rows' checkboxes belong to #bulk-form through their form attribute; this
// keeps the ticked ids through live refreshes of the list (which replace every
// row), selects a range on shift-click, ticks the whole page on "select all",
// and shows the actions with the number selected.
(function () {
  "use strict";

  const selected = new Set();
  // The id of the last row clicked, not its element: a live refresh of the list
  // between two clicks replaces every row, and the range still starts there.
  let lastClicked = null;

  function boxes() {
    return Array.from(document.querySelectorAll("#thread-list .bulk-select"));
  }

  function updateBar() {
    const count = document.getElementById("bulk-count");
    const actions = document.getElementById("bulk-actions");
    // Found by class: an input with an id would carry a style attribute a
    // screenshot tool left on it into the swapped-in bar (htmx settles by id).
    const all = document.querySelector("#bulk-bar .bulk-select-all");
    const visible = boxes();
    if (count) {
      const label = count.closest(".bulk-bar").dataset.selectedLabel || "{count}";
      count.textContent = selected.size ? label.replace("{count}", selected.size) : "";
    }
    if (actions) actions.hidden = selected.size === 0;
    if (all) all.checked = visible.length > 0 && visible.every((box) => box.checked);
  }

  function setBox(box, checked) {
    box.checked = checked;
    if (checked) selected.add(box.value);
    else selected.delete(box.value);
  }

  document.addEventListener("click", function (event) {
    const box = event.target.closest ? event.target.closest(".bulk-select") : null;
    if (!box) return;
    const list = boxes();
    const from = list.findIndex((other) => other.value === lastClicked);
    if (event.shiftKey && from >= 0) {
      const to = list.indexOf(box);
      const [start, end] = from < to ? [from, to] : [to, from];
      list.slice(start, end + 1).forEach((other) => setBox(other, box.checked));
    } else {
      setBox(box, box.checked);
    }
    lastClicked = box.value;
    updateBar();
  });

  document.addEventListener("change", function (event) {
    if (!event.target.classList || !event.target.classList.contains("bulk-select-all")) return;
    boxes().forEach((box) => setBox(box, event.target.checked));
    updateBar();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (!target) return;
    if (target.id === "inbox" || target.id === "thread-list" || target.id === "more-threads") {
      // A fresh list: tick again what is still there; what left it is no longer selected.
      const present = new Set();
      boxes().forEach((box) => {
        present.add(box.value);
        box.checked = selected.has(box.value);
      });
      if (target.id === "inbox") {
        Array.from(selected).forEach((id) => {
          if (!present.has(id)) selected.delete(id);
        });
      }
      updateBar();
    }
  });

  // After an action the bar comes back with its summary (data-done): start a new
  // selection and show the list as it is now (live updates follow for the others).
  document.addEventListener("htmx:load", function (event) {
    const bar = event.detail.elt;
    if (!bar || bar.id !== "bulk-bar") return;
    if (bar.dataset.done) {
      selected.clear();
      boxes().forEach((box) => {
        box.checked = false;
      });
      const inbox = document.getElementById("inbox");
      if (inbox && inbox.dataset.refreshUrl && window.htmx) {
        htmx.ajax("GET", inbox.dataset.refreshUrl, { target: "#inbox", swap: "outerHTML" });
      }
    }
    updateBar();
  });
})();
