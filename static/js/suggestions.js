// Suggested replies above the reply box.
//
// A click on a chip, or Alt+1..3 anywhere on the thread page, puts that
// suggestion into the reply box for editing: into an empty box (or one still
// holding the previous suggestion untouched) as the whole text, else at the
// caret. Nothing is sent: Send stays the agent's. The form carries the chosen
// suggestion's id (the reply's outcome: used or edited), and the pick is noted
// at once. Past WhatsApp's 24-hour window a chip is an approved template and is
// chosen in the template select, as the "/" list does. When the customer writes
// again, only the row is fetched (the server ranks the new message then): what
// the agent typed stays.
(function () {
  "use strict";

  let lastInserted = null; // the text the last pick put in, while untouched
  const caretSet = new WeakSet(); // reply boxes the agent has been in since the page came
  document.addEventListener("focusin", function (event) {
    if (event.target.id === "reply-content") caretSet.add(event.target);
  });

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function notePick(chip) {
    fetch(chip.dataset.pickUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "X-CSRFToken": csrfToken() },
    }).catch(function () {
      /* the reply still names its suggestion; a lost note costs nothing else */
    });
  }

  function chooseTemplate(form, chip) {
    const select = form.querySelector("[name=template_id]");
    if (!select) return;
    if (!select.querySelector('option[value="' + chip.dataset.templateId + '"]')) {
      const category = form.querySelector("[name=category]");
      if (category) category.value = ""; // the list is not narrowed by category
      select.append(new Option(chip.dataset.templateName, chip.dataset.templateId));
    }
    select.value = chip.dataset.templateId;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function putInBox(box, text) {
    const current = box.value;
    if (!current.trim() || current === lastInserted) {
      box.value = text;
      box.setSelectionRange(text.length, text.length);
    } else {
      // A box never in use since the page came (a draft brought back) has its caret
      // at the start: the suggestion goes after what is there. Otherwise at the caret
      // the agent left (a click on a chip takes the focus, not the caret).
      const used = caretSet.has(box);
      const start = used ? box.selectionStart : current.length;
      const end = used ? box.selectionEnd : current.length;
      const before = current.slice(0, start);
      const after = current.slice(end);
      const gap = before && !/\n$/.test(before) ? "\n" : "";
      const tail = after && !/^\n/.test(after) ? "\n" : "";
      box.value = before + gap + text + tail + after;
      const caret = (before + gap + text).length;
      box.setSelectionRange(caret, caret);
    }
    lastInserted = box.value;
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true })); // drafts, canned list
  }

  // The chips answer the customer message they were made for; once the timeline shows
  // it, the agent is not answering past it, so the reply box counts it as seen (the
  // "someone wrote meanwhile" check, app/conversations/core/collisions.py, still holds for
  // anything after it).
  function noteSeen(form, messageId) {
    const seen = form.querySelector("[data-seen-message-id]");
    const shown = messageId && document.getElementById("message-" + messageId);
    if (!seen || !shown) return;
    const current = seen.value && document.getElementById("message-" + seen.value);
    if (current && !(current.compareDocumentPosition(shown) & Node.DOCUMENT_POSITION_FOLLOWING)) return;
    seen.value = messageId;
  }

  function pick(chip) {
    const form = chip.closest("form");
    if (!form) return;
    notePick(chip);
    noteSeen(form, chip.dataset.answers);
    if (chip.dataset.templateId) {
      chooseTemplate(form, chip);
      return;
    }
    const box = form.querySelector("#reply-content");
    if (!box || box.readOnly) return;
    const input = form.querySelector("[data-suggestion-input]");
    if (input) input.value = chip.dataset.suggestionId;
    putInBox(box, chip.dataset.text || "");
    form.querySelectorAll(".suggestion-chip").forEach(function (other) {
      other.setAttribute("aria-pressed", other === chip ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    const chip = event.target.closest(".suggestion-chip");
    if (chip) pick(chip);
  });

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const match = /^Digit([1-9])$/.exec(event.code || "");
    if (!match) return;
    const form = document.getElementById("reply-form");
    if (!form || form.hidden) return;
    const chip = form.querySelector('[data-testid="suggestion-' + match[1] + '"]');
    if (!chip) return;
    event.preventDefault();
    pick(chip);
  });

  // The row is fetched (and ranked by the server when it must be) one request at a
  // time: asked again while one is on its way, it is fetched once more after it, so
  // the last answer is for the customer's newest message. Not through htmx.ajax: its
  // page-wide queue has room for one waiting request, and a ranking that took a
  // moment let the list's refresh take the timeline's place (the new message missing).
  let loading = false;
  let again = false;

  function fetchRow() {
    const row = document.getElementById("suggestions");
    if (!row || !window.htmx) return;
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    const channel = document.querySelector("#reply-form [name=channel_id]");
    const query = channel && channel.value ? "?channel_id=" + encodeURIComponent(channel.value) : "";
    fetch(row.dataset.url + query, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error("suggestions: " + response.status);
        return response.text();
      })
      .then(function (html) {
        // A composer drawn again meanwhile (another channel) brought its own row.
        if (document.getElementById("suggestions") === row) {
          htmx.swap(row, html, { swapStyle: "outerHTML" });
        }
      })
      .catch(function () {
        // No chips this time (the next message, or opening the conversation again,
        // asks again); the reply box is what matters.
        if (row.isConnected && row.getAttribute("aria-busy")) {
          row.removeAttribute("aria-busy");
          row.hidden = true;
        }
      })
      .finally(function () {
        loading = false;
        if (again) {
          again = false;
          fetchRow();
        }
      });
  }

  // Not ranked yet when the page (or the composer) came: the row asks for itself.
  function fetchIfDue(root) {
    const row = root && root.querySelector ? root.querySelector("#suggestions[data-due]") : null;
    if (!row) return;
    row.removeAttribute("data-due"); // asked for once (htmx:load also comes for the page)
    fetchRow();
  }
  document.addEventListener("DOMContentLoaded", function () {
    fetchIfDue(document);
  });
  document.addEventListener("htmx:load", function (event) {
    const elt = event.detail && event.detail.elt;
    if (elt && elt.id === "suggestions") return; // the row's own answer
    fetchIfDue(elt);
  });

  // The customer wrote again: fetch the row alone, for the channel chosen.
  document.addEventListener("switchboard:message:new", function (event) {
    const detail = event.detail || {};
    const page = document.getElementById("thread");
    if (!page || page.dataset.threadId !== detail.thread_id) return;
    if (!detail.message || detail.message.direction !== "inbound") return;
    fetchRow();
  });

  // The reply box emptied (sent, or cleared by hand): the next pick starts afresh.
  document.addEventListener("input", function (event) {
    if (event.target.id === "reply-content" && event.target.value !== lastInserted) {
      lastInserted = null;
    }
  });
})();
