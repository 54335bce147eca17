// A customer's message that arrives live while the inbox is open, where the agent would
// not see it: a new conversation, or one whose row is off screen (the default order
// ranks by deadline, so a new one may land far down the list). A small notice names
// the customer and links to the conversation; the list itself is not moved. The
// screen-reader announcement stays announce.js's (the page's live region), so the
// notice is not a live region of its own.
(function () {
  "use strict";

  let pending = null;
  let timer = null;

  function inbox() {
    return document.getElementById("inbox");
  }

  function rowOf(threadId) {
    const list = inbox();
    return list ? list.querySelector('.thread-row[data-thread-id="' + threadId + '"]') : null;
  }

  // At least half the row inside the list's visible part (the list's own pane on a
  // desktop, the window on a phone).
  function inView(row) {
    const box = row.getBoundingClientRect();
    const pane = row.closest(".ws-list");
    const bounds = pane ? pane.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
    const top = Math.max(bounds.top, 0);
    const bottom = Math.min(bounds.bottom, window.innerHeight);
    return box.top + box.height / 2 > top && box.bottom - box.height / 2 < bottom;
  }

  function notice() {
    let box = document.getElementById("arrival-notice");
    if (box) return box;
    box = document.createElement("div");
    box.id = "arrival-notice";
    box.className = "arrival-notice";
    box.dataset.testid = "arrival-notice";
    box.hidden = true;
    const text = document.createElement("span");
    text.className = "arrival-text";
    const link = document.createElement("a");
    link.className = "arrival-link";
    link.textContent = t("view");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "arrival-close";
    close.setAttribute("aria-label", t("close"));
    close.textContent = "×";
    close.addEventListener("click", function () {
      box.hidden = true;
    });
    link.addEventListener("click", function () {
      box.hidden = true;
    });
    box.append(text, " — ", link, close);
    document.body.appendChild(box);
    return box;
  }

  function decide() {
    clearTimeout(timer);
    if (!pending) return;
    const arrival = pending;
    pending = null;
    const row = rowOf(arrival.threadId);
    const box = notice();
    if (!arrival.wasListed || !row || !inView(row)) {
      box.querySelector(".arrival-text").textContent = arrival.name
        ? t("new_message_from", { name: arrival.name })
        : t("new_message");
      box.querySelector(".arrival-link").href = "/threads/" + arrival.threadId;
      box.hidden = false;
    }
    // Which arrival the notice last weighed (the live inbox test waits for it).
    box.dataset.checked = arrival.messageId;
  }

  document.addEventListener("switchboard:message:new", function (event) {
    const detail = event.detail || {};
    const message = detail.message || {};
    const sender = message.sender || {};
    // A customer's own words only: not our replies, notes, status lines or logged calls.
    if (message.direction !== "inbound" || message.call || sender.type === "user") return;
    if (!inbox()) return;
    const open = document.getElementById("thread");
    if (open && open.dataset.threadId === detail.thread_id) return;
    pending = {
      threadId: detail.thread_id,
      messageId: message.id,
      name: sender.name,
      wasListed: rowOf(detail.thread_id) !== null,
    };
    // Weighed once the list has refreshed itself (app.js), or soon if it does not
    // (more pages loaded, a search being typed).
    clearTimeout(timer);
    timer = setTimeout(decide, 1500);
  });

  // The list's own refresh: its #inbox is swapped whole.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (pending && event.target && event.target.id === "inbox") decide();
  });
})();
