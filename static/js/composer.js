// The reply box: drafts saved as you type, Ctrl/Cmd+Enter to send,
// the emoji picker, Undo send's window and WhatsApp's 24-hour countdown.
(function () {
  "use strict";

  const SAVE_AFTER_MS = 1000;
  // A compact built-in set rather than a full picker library: agents use a
  // handful of friendly emoji with customers, and this needs no emoji database,
  // no IndexedDB and nothing to load.
  const EMOJI = [
    "🙂", "😊", "😀", "😄", "😉", "😅", "🙏", "👍",
    "👌", "👋", "👏", "🙌", "💪", "🤝", "✅", "✔️",
    "❌", "⚠️", "❗", "❓", "💡", "🔌", "⚡", "🔋",
    "🚗", "🚙", "🏠", "🔧", "🛠️", "📅", "⏰", "⏳",
    "📞", "📧", "📄", "📷", "📍", "🎉", "⭐", "❤️",
    "😔", "😕", "😮", "🤔", "😂", "🥳", "👀", "☀️",
  ];

  const timers = new Map();
  let saving = Promise.resolve();
  let inFlight = 0; // saves started and not yet answered

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function draftBoxes(root) {
    return (root || document).querySelectorAll("#composer textarea[data-draft]");
  }

  function showStatus(box, text) {
    const status = box.form && box.form.querySelector("[data-draft-status]");
    if (status) status.textContent = text;
  }

  // Saves run one after another, so the server keeps the newest text.
  function save(box, keepalive) {
    clearTimeout(timers.get(box));
    timers.delete(box);
    const composer = box.closest("#composer");
    if (!composer || box.readOnly || box.dataset.savedValue === box.value) return saving;
    const content = box.value;
    box.dataset.savedValue = content;
    inFlight += 1;
    saving = saving.then(function () {
      return fetch(composer.dataset.draftUrl, {
        method: "POST",
        credentials: "same-origin",
        keepalive: Boolean(keepalive),
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ kind: box.dataset.draft, content: content }),
      })
        .then(function (response) {
          if (!response.ok) throw new Error("draft not saved: " + response.status);
          showStatus(box, content.trim() ? t("draft_saved") : "");
        })
        .catch(function () {
          delete box.dataset.savedValue; // try again on the next change
          showStatus(box, t("draft_not_saved"));
        })
        .finally(function () { inFlight -= 1; });
    });
    return saving;
  }

  function saveAll(keepalive) {
    draftBoxes().forEach(function (box) { save(box, keepalive); });
    return saving;
  }

  function pending() {
    return Array.from(draftBoxes()).some(function (box) {
      // Not remembered yet (the page is still starting): what it shows is the server's.
      const saved = box.dataset.savedValue;
      return !box.readOnly && saved !== undefined && saved !== box.value;
    });
  }

  // What the page arrived with is what the server has: no save until it changes.
  function remember(root) {
    draftBoxes(root).forEach(function (box) {
      if (box.dataset.savedValue === undefined) box.dataset.savedValue = box.value;
    });
  }

  document.addEventListener("input", function (event) {
    const box = event.target.closest && event.target.closest("#composer textarea[data-draft]");
    if (!box) return;
    showStatus(box, "");
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(function () { save(box); }, SAVE_AFTER_MS));
  });

  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("#composer textarea[data-draft]")) save(event.target);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveAll(true);
  });

  // Anything the composer sends (Send, Add note, switching channel or template)
  // waits for the draft to be saved first, so a late save cannot bring back a
  // draft that sending has just cleared. A save already on its way counts too.
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.target.closest || !event.target.closest("#composer")) return;
    // The suggestions' row fetches itself inside the composer; the box stays.
    if (event.target.closest("#suggestions")) return;
    if (!pending() && !inFlight) return;
    event.preventDefault();
    saveAll().then(function () { event.detail.issueRequest(true); });
  });

  // Undo send (in the timeline) brings the reply back into the box, with the
  // text typed since Send, which goes along as "content". Any save of that
  // text is waited for first, so a late save cannot replace the two with the
  // newer text alone. The request is not tied to the button: a live update may
  // re-render the timeline (and the button) meanwhile.
  document.addEventListener("htmx:confirm", function (event) {
    const undo = event.target.closest && event.target.closest(".undo-send");
    if (!undo || !window.htmx) return;
    event.preventDefault();
    const url = undo.getAttribute("hx-post");
    saveAll().then(function () {
      const box = document.querySelector("#composer #reply-content");
      htmx.ajax("POST", url, {
        target: "#composer",
        swap: "outerHTML",
        values: box ? { content: box.value } : {},
      });
    });
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) sends the reply or adds the note, from the
  // text or any one-line field of the form. A plain Enter in a one-line field
  // (To, CC, BCC, Subject, a template variable) would submit the form too, as
  // browsers do: it is kept from sending a half-written reply.
  const ONE_LINE = 'input:not([type=checkbox]):not([type=radio]):not([type=file]):not([type=hidden])';

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) return;
    const field = event.target.closest && event.target.closest("#composer .composer-form textarea, #composer .composer-form " + ONE_LINE);
    if (!field) return;
    const send = event.ctrlKey || event.metaKey;
    if (field.tagName === "TEXTAREA" && (!send || field.readOnly)) return;
    event.preventDefault();
    if (send) field.form.requestSubmit();
  });

  // --- emoji ------------------------------------------------------------------

  function closePanels(except) {
    document.querySelectorAll("[data-emoji-panel]").forEach(function (panel) {
      if (panel === except) return;
      panel.hidden = true;
      const toggle = panel.parentElement.querySelector("[data-emoji-toggle]");
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    });
  }

  function fillPanel(panel) {
    if (panel.childElementCount) return;
    EMOJI.forEach(function (emoji) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = emoji;
      button.dataset.emoji = emoji;
      button.setAttribute("aria-label", t("insert_emoji", { emoji: emoji }));
      panel.appendChild(button);
    });
  }

  function insertAtCursor(box, text) {
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    box.setRangeText(text, start, end, "end");
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-emoji-toggle]");
    if (toggle) {
      const panel = toggle.parentElement.querySelector("[data-emoji-panel]");
      fillPanel(panel);
      closePanels(panel);
      panel.hidden = !panel.hidden;
      toggle.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
      if (!panel.hidden) panel.querySelector("button").focus();
      return;
    }
    const choice = event.target.closest("[data-emoji-panel] [data-emoji]");
    if (choice) {
      const box = choice.closest("form").querySelector("textarea[data-draft]");
      if (box) insertAtCursor(box, choice.dataset.emoji);
      closePanels();
      return;
    }
    if (!event.target.closest("[data-emoji-panel]")) closePanels();
  });

  // Esc closes an open emoji panel and nothing else (defaultPrevented tells the
  // bell and the shortcuts it was handled); focus goes back to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const open = document.querySelector("[data-emoji-panel]:not([hidden])");
    if (!open) return;
    event.preventDefault();
    closePanels();
    const toggle = open.parentElement.querySelector("[data-emoji-toggle]");
    if (toggle) toggle.focus();
  });

  // --- Undo send: the button goes when the hold is over ------------------------
  // Counted from when the footer arrives, in the seconds the server says are
  // left: the browser's clock may be minutes off the server's.

  function watchHeld(root) {
    (root || document).querySelectorAll("[data-held-for]").forEach(function (footer) {
      if (footer.dataset.watched) return;
      footer.dataset.watched = "1";
      const wait = (parseFloat(footer.dataset.heldFor) || 0) * 1000;
      setTimeout(function () {
        const undo = footer.querySelector(".undo-send");
        if (undo) undo.remove();
      }, Math.max(wait, 0));
    });
  }

  // --- WhatsApp's 24-hour window ---------------------------------------------

  // Worded as app/conversations/workspace/composer.py's countdown_text.
  function countdownText(minutes) {
    if (minutes < 1) return t("window_closes_soon");
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return hours
      ? t("window_closes_hours", { hours: hours, minutes: rest })
      : t("window_closes_minutes", { minutes: rest });
  }

  function reloadComposer(composer) {
    const channel = composer.querySelector("[name=channel_id]");
    const url = composer.dataset.composerUrl + (channel ? "?channel_id=" + encodeURIComponent(channel.value) : "");
    // From the composer itself, so the request waits in its own queue: in the
    // body's (one on its way, only the last asked kept) it could push out the
    // timeline's and the list's live refreshes asked for by the same message.
    saveAll().then(function () {
      if (window.htmx) htmx.ajax("GET", url, { source: composer, target: "#composer", swap: "outerHTML" });
    });
  }

  function tickCountdowns() {
    document.querySelectorAll("[data-window-closes-at]").forEach(function (line) {
      const left = Date.parse(line.dataset.windowClosesAt) - Date.now();
      if (left <= 0) {
        // Closed: the server shows the "only approved templates" notice instead.
        line.removeAttribute("data-window-closes-at");
        reloadComposer(line.closest("#composer"));
        return;
      }
      line.textContent = countdownText(Math.floor(left / 60000));
      line.classList.toggle("closing", left < 3600 * 1000);
    });
  }

  // A customer's WhatsApp message opens the window again (or makes it longer): the
  // countdown follows at once, without touching what the agent is typing; a
  // composer limited to approved templates because the window had closed is drawn
  // again (drafts saved first), so free text may be written.
  const WINDOW_MS = 24 * 3600 * 1000;
  document.addEventListener("switchboard:message:new", function (event) {
    const detail = event.detail || {};
    const message = detail.message;
    const page = document.getElementById("thread");
    const composer = document.getElementById("composer");
    if (!message || !page || !composer || page.dataset.threadId !== detail.thread_id) return;
    if (message.direction !== "inbound" || message.channel !== "whatsapp_business") return;
    const closes = Date.parse(message.created_at) + WINDOW_MS;
    if (!(closes > Date.now())) return;
    if (composer.querySelector('[data-testid="whatsapp-window-closed"]')) {
      reloadComposer(composer);
      return;
    }
    composer.querySelectorAll("[data-window-closes-at]").forEach(function (line) {
      if (closes > Date.parse(line.dataset.windowClosesAt)) {
        line.dataset.windowClosesAt = new Date(closes).toISOString();
      }
    });
    tickCountdowns();
  });

  function start(root) {
    remember(root);
    watchHeld(root);
    tickCountdowns();
  }

  document.addEventListener("DOMContentLoaded", function () {
    start(document);
    setInterval(tickCountdowns, 60 * 1000);
    // A closing window should not wait a whole minute to say so.
    setInterval(function () {
      document.querySelectorAll("[data-window-closes-at]").forEach(function (line) {
        if (Date.parse(line.dataset.windowClosesAt) <= Date.now()) tickCountdowns();
      });
    }, 5000);
  });
  document.addEventListener("htmx:load", function (event) { start(event.target); });
})();
