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

  // The number shows; its words ("… selected") are read out and kept for the title,
  // but not drawn: in a 350-pixel list they took the room the assignee's name needs.
  function showCount(count, label, size) {
    const [before, after] = label.split("{count}");
    const hidden = (text) => {
      const words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = text;
      return words;
    };
    const number = document.createElement("span");
    number.className = "bulk-count-number";
    number.textContent = size;
    if (size) count.replaceChildren(hidden(before || ""), number, hidden(after || ""));
    else count.replaceChildren();
    count.title = size ? label.replace("{count}", size) : "";
  }

  function updateBar() {
    // The bar by its id: while htmx settles a swapped-in bar its class is still the
    // placeholder's for a moment (htmx settles class by id), so a look-up by class
    // could come back empty (a TypeError on opening conversations, once).
    const bar = document.getElementById("bulk-bar");
    if (!bar) return;
    const count = bar.querySelector("#bulk-count");
    const actions = bar.querySelector("#bulk-actions");
    // Found by class: an input with an id would carry a style attribute a
    // screenshot tool left on it into the swapped-in bar (htmx settles by id).
    const all = bar.querySelector(".bulk-select-all");
    const visible = boxes();
    if (count) showCount(count, bar.dataset.selectedLabel || "{count}", selected.size);
    if (actions) actions.hidden = selected.size === 0;
    if (all) all.checked = visible.length > 0 && visible.every((box) => box.checked);
    const more = bar.querySelector(".bulk-more");
    if (more && !selected.size) more.open = false;
  }

  // A person ticks a new selection: the last action's summary has been read, and the
  // bar is one line again (an error stays: it comes back with the selection it was
  // about). Only a tick does this: a refresh of the list can land while the bar an
  // action sent back still settles, the old selection not yet cleared, and must not
  // take the new summary away with it.
  function selectionStarted() {
    const bar = document.getElementById("bulk-bar");
    if (bar && selected.size) bar.querySelectorAll(".bulk-summary").forEach((note) => note.remove());
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
    selectionStarted();
    updateBar();
  });

  document.addEventListener("change", function (event) {
    if (!event.target.classList || !event.target.classList.contains("bulk-select-all")) return;
    boxes().forEach((box) => setBox(box, event.target.checked));
    selectionStarted();
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

  // "More" is a menu: Escape or a click elsewhere closes it, and Escape gives focus
  // back to its toggle.
  document.addEventListener("keydown", function (event) {
    const more = event.target.closest && event.target.closest(".bulk-more[open]");
    if (more && event.key === "Escape") {
      more.open = false;
      more.querySelector("summary").focus();
      event.preventDefault();
      return;
    }
    // Enter in a field submits that field's own action, not the form's first
    // button ("Assign"): a tag typed and entered must not reassign the selection.
    const field = event.target.closest && event.target.closest(".bulk-action input:not([type=checkbox])");
    if (field && event.key === "Enter") {
      event.preventDefault();
      field.closest(".bulk-action").querySelector("button[type=submit]").click();
    }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll(".bulk-more[open]").forEach((more) => {
      if (!more.contains(event.target)) more.open = false;
    });
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
