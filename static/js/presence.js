// Who else has this conversation open, and who is typing in it, over
// the Socket.IO connection app.js opens. The server lets a page into the
// conversation's room only after its access check; a heartbeat keeps this page
// counted (entries expire in Redis when it stops), and the answer to each
// heartbeat redraws the avatars, so a colleague whose tab died goes by itself.
// Also: the reply box's "someone replied meanwhile" warning's Review button.
(function () {
  "use strict";

  const HEARTBEAT_MS = 20 * 1000; // app/conversations/presence/board.py HEARTBEAT_SECONDS
  const TYPING_RESEND_MS = 2000; // while typing, tell the others this often
  const TYPING_IDLE_MS = 4000; // no key for this long: stopped typing
  const TYPING_SHOWN_MS = 6000; // a colleague's line goes if nothing renews it
  const AVATAR_COLOURS = 6;

  // --- the collision warning (no socket needed) --------------------------------
  // Review: the timeline the warning brought is on the page; show its first new
  // message, and count the page as seen up to now so the next Send goes through.
  document.addEventListener("click", function (event) {
    const review = event.target.closest("[data-collision-review]");
    if (!review) return;
    const form = review.closest("form");
    const seen = form && form.querySelector("[data-seen-message-id]");
    if (seen) seen.value = review.dataset.latestMessageId || "";
    const first = document.getElementById("message-" + review.dataset.firstMessageId);
    if (first) {
      first.classList.add("tl-target");
      first.scrollIntoView({ block: "center" });
    }
    const box = review.closest("#reply-collision");
    if (box) box.replaceChildren();
    const text = form && form.querySelector("#reply-content");
    if (text) text.focus({ preventScroll: true });
  });

  const socket = window.switchboardSocket;
  const me = document.body.dataset.userId;
  if (!socket || !me) return;

  let joined = null; // the conversation this page is counted in
  let lastViewers = null;
  let heartbeat = null;
  const typers = new Map(); // user id -> {name, kind, timer}

  function bar() {
    return document.getElementById("presence");
  }

  function fill(template, name) {
    return (template || "__NAME__").replace("__NAME__", name);
  }

  function colour(id) {
    let sum = 0;
    for (const ch of id) sum = (sum * 31 + ch.charCodeAt(0)) % 9973;
    return "avatar-" + (sum % AVATAR_COLOURS);
  }

  function renderViewers(payload) {
    if (!payload || !payload.viewers || payload.thread_id !== joined) return;
    lastViewers = payload;
    const presence = bar();
    if (!presence || presence.dataset.threadId !== joined) return;
    const list = presence.querySelector(".presence-avatars");
    list.replaceChildren();
    payload.viewers
      .filter((viewer) => viewer.id !== me)
      .forEach(function (viewer) {
        const item = document.createElement("li");
        item.className = "avatar " + colour(viewer.id);
        item.textContent = viewer.initials;
        item.dataset.userId = viewer.id;
        const label = fill(presence.dataset.viewingText, viewer.name);
        item.title = label;
        item.setAttribute("aria-label", label);
        list.appendChild(item);
      });
  }

  function renderTypers() {
    const line = document.getElementById("typing-indicator");
    const presence = bar();
    if (!line || !presence) return;
    line.textContent = Array.from(typers.values())
      .map((t) => fill(t.kind === "note" ? presence.dataset.typingNoteText : presence.dataset.typingReplyText, t.name))
      .join(" · ");
  }

  function clearTypers() {
    typers.forEach((t) => clearTimeout(t.timer));
    typers.clear();
    renderTypers();
  }

  function enter() {
    if (joined && socket.connected) socket.emit("presence:join", { thread_id: joined }, renderViewers);
  }

  // Refused (the conversation went to another team meanwhile): show no one.
  function afterBeat(payload) {
    if (payload && payload.ok === false) {
      renderViewers({ thread_id: joined, viewers: [] });
      clearTypers();
      return;
    }
    renderViewers(payload);
  }

  function beat() {
    if (joined && socket.connected) socket.emit("presence:heartbeat", { thread_id: joined }, afterBeat);
  }

  // The conversation on screen changes without a page load in the workspace:
  // leave the old room, join the new one.
  function sync() {
    const presence = bar();
    const id = presence ? presence.dataset.threadId : null;
    if (id === joined) {
      if (lastViewers) renderViewers(lastViewers); // the pane was drawn again
      renderTypers();
      return;
    }
    stopTyping();
    if (joined && socket.connected) socket.emit("presence:leave", { thread_id: joined });
    joined = id;
    lastViewers = null;
    clearTypers();
    clearInterval(heartbeat);
    heartbeat = null;
    if (!joined) return;
    enter();
    heartbeat = setInterval(beat, HEARTBEAT_MS);
  }

  socket.on("connect", enter); // also after a reconnect: the server forgot this page
  socket.on("presence:update", renderViewers);

  socket.on("presence:typing", function (detail) {
    if (!detail || detail.thread_id !== joined || !detail.user || detail.user.id === me) return;
    const previous = typers.get(detail.user.id);
    if (previous) clearTimeout(previous.timer);
    if (!detail.typing) {
      typers.delete(detail.user.id);
    } else {
      const timer = setTimeout(function () {
        typers.delete(detail.user.id);
        renderTypers();
      }, TYPING_SHOWN_MS);
      typers.set(detail.user.id, { name: detail.user.name, kind: detail.kind, timer: timer });
    }
    renderTypers();
  });

  // --- this page's own typing --------------------------------------------------
  let typingKind = null;
  let lastSent = 0;
  let idleTimer = null;

  function stopTyping() {
    clearTimeout(idleTimer);
    if (typingKind && joined && socket.connected) {
      socket.emit("presence:typing", { thread_id: joined, kind: typingKind, typing: false });
    }
    typingKind = null;
    lastSent = 0;
  }

  document.addEventListener("input", function (event) {
    const box = event.target.closest && event.target.closest("#reply-content, #note-content");
    if (!box || !joined) return;
    const kind = box.id === "note-content" ? "note" : "reply";
    const now = Date.now();
    if (kind !== typingKind || now - lastSent > TYPING_RESEND_MS) {
      socket.emit("presence:typing", { thread_id: joined, kind: kind, typing: true });
      typingKind = kind;
      lastSent = now;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  // Sending the reply or adding the note ends the typing line at once.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail && event.detail.elt;
    if (elt && elt.closest && elt.closest("#reply-form, #note-form")) stopTyping();
  });

  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("htmx:historyRestore", sync);
})();
