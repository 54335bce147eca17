// Switchboard browser glue: live updates over Socket.IO and the notification bell.
(function () {
  "use strict";

  const body = document.body;
  if (!body.dataset.userId || typeof io === "undefined") {
    return;
  }

  const bellCount = document.getElementById("bell-count");

  function setUnread(count) {
    if (!bellCount) return;
    bellCount.textContent = String(count);
    bellCount.hidden = count <= 0;
  }

  fetch("/api/notifications", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((payload) => payload && setUnread(payload.unread))
    .catch(() => {});

  // The session cookie authenticates the connection; the server refuses anonymous ones.
  const socket = io({ transports: ["websocket", "polling"] });
  window.switchboardSocket = socket;

  socket.on("notification:new", (notification) => {
    setUnread(Number(bellCount ? bellCount.textContent : 0) + 1);
    document.dispatchEvent(new CustomEvent("switchboard:notification", { detail: notification }));
    const urgent = notification.priority === "urgent" || notification.priority === "critical";
    if (urgent && "Notification" in window && Notification.permission === "granted") {
      new Notification(notification.title, { body: notification.message || "" });
    }
  });

  ["message:new", "thread:updated", "task:assigned", "sla:alert"].forEach((name) => {
    socket.on(name, (detail) => {
      document.dispatchEvent(new CustomEvent("switchboard:" + name, { detail: detail }));
    });
  });
})();
