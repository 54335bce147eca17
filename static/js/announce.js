// Live updates read out to screen readers, without moving focus: a message that
// arrives over Socket.IO (app.js re-dispatches it as "switchboard:message:new")
// is named in the page's polite live region (#live-announcer, base.html) while
// the list and the timeline refresh themselves; so is one's own reply held for
// "Undo" (its footer in the timeline, once per message however often the
// timeline is redrawn). Other scripts may announce too: window.announce(text).
(function () {
  "use strict";

  let timer = null;

  window.announce = function (text) {
    const region = document.getElementById("live-announcer");
    if (!region || !text) return;
    // Emptied first, then filled on the next task: the same text twice in a
    // row is read out twice.
    region.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(function () {
      region.textContent = text;
    }, 50);
  };

  const heldAnnounced = new Set();

  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-held-for]").forEach(function (footer) {
      const message = footer.closest("[data-message-id]");
      if (!message || !footer.querySelector(".undo-send")) return;
      if (heldAnnounced.has(message.dataset.messageId)) return;
      heldAnnounced.add(message.dataset.messageId);
      const seconds = Math.max(Math.round(parseFloat(footer.dataset.heldFor) || 0), 1);
      window.announce(t("reply_held", { seconds: seconds }));
    });
  });

  document.addEventListener("switchboard:message:new", function (event) {
    const message = (event.detail && event.detail.message) || {};
    // Only what a customer writes: status lines, our own replies and colleagues'
    // notes would make a screen reader talk over the agent all day.
    if (message.direction !== "inbound") return;
    const name = message.sender && message.sender.name;
    const open = document.getElementById("thread");
    const here = open && open.dataset.threadId === event.detail.thread_id;
    if (here) {
      window.announce(name ? t("new_message_here_from", { name: name }) : t("new_message_here"));
    } else {
      window.announce(name ? t("new_message_from", { name: name }) : t("new_message"));
    }
  });
})();
