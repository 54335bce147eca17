// The notification bell: its panel (opened and closed by the bell, Esc and a click
// outside), the unread badge, and notifications arriving live over Socket.IO
// (app.js re-dispatches them as "switchboard:notification:new").
(function () {
  "use strict";

  const bell = document.getElementById("bell");
  const panel = document.getElementById("notification-panel");
  const badge = document.getElementById("bell-count");
  if (!bell || !panel || !badge) return;

  let unread = 0;
  let live = 0; // live notifications counted since the page loaded

  function setUnread(count) {
    unread = Math.max(0, Number(count) || 0);
    badge.textContent = String(unread);
    badge.hidden = unread <= 0;
    bell.setAttribute("aria-label", unread ? t("notifications_unread", { count: unread }) : t("notifications"));
  }

  function isOpen() {
    return bell.getAttribute("aria-expanded") === "true";
  }

  function load() {
    if (window.htmx) htmx.ajax("GET", bell.dataset.panelUrl, { target: "#notification-panel", swap: "innerHTML" });
  }

  function open() {
    bell.setAttribute("aria-expanded", "true");
    panel.hidden = false;
    load();
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    bell.setAttribute("aria-expanded", "false");
    panel.hidden = true;
    if (returnFocus) bell.focus();
  }

  bell.addEventListener("click", function (event) {
    event.preventDefault();
    if (isOpen()) close(true);
    else open();
  });

  // One Esc closes one thing: an open dialog (the shortcuts) or a panel that
  // already took this Esc (defaultPrevented) goes first, the bell waits.
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close(true);
    }
  });

  // A click anywhere else closes the panel. Focus goes back to the bell only when
  // the click did not put it somewhere itself (a field, a link).
  document.addEventListener("click", function (event) {
    if (!isOpen() || panel.contains(event.target) || bell.contains(event.target)) return;
    const focus = document.activeElement;
    close(!focus || focus === document.body || panel.contains(focus));
  });

  // Every panel the server sends says how many are unread: "Mark all read" and
  // "Mark read" update the badge at once, without a reload.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== panel) return;
    const list = panel.querySelector("[data-unread]");
    if (list) setUnread(list.dataset.unread);
    const offer = panel.querySelector("[data-enable-desktop-alerts]");
    if (offer && "Notification" in window && Notification.permission === "default") offer.hidden = false;
  });

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Following a notification's link reads it; keepalive lets the request finish
  // while the browser moves on to the linked page.
  panel.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-read-url]");
    if (!link) return;
    fetch(link.dataset.readUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    }).catch(function () {});
    link.removeAttribute("data-read-url");
    const item = link.closest("li");
    if (item) item.classList.remove("unread");
    setUnread(unread - 1);
  });

  // Desktop alerts for urgent notifications need the person's permission, asked
  // from a click (browsers ignore requests that no gesture started).
  panel.addEventListener("click", function (event) {
    const offer = event.target.closest("[data-enable-desktop-alerts]");
    if (!offer || !("Notification" in window)) return;
    Notification.requestPermission().then(function (answer) {
      offer.textContent = answer === "granted" ? t("desktop_alerts_on") : t("desktop_alerts_blocked");
      offer.disabled = true;
    });
  });

  document.addEventListener("switchboard:notification:new", function (event) {
    const notification = event.detail || {};
    live += 1;
    setUnread(unread + 1);
    if (isOpen()) load();
    const urgent = notification.priority === "urgent" || notification.priority === "critical";
    if (urgent && "Notification" in window && Notification.permission === "granted") {
      new Notification(notification.title, { body: notification.message || "" });
    }
  });

  // The count on arrival. A live notification that comes while this request is
  // on its way may or may not be in its answer, so such an answer is not taken:
  // ask again (before, a slow answer of 0 hid the badge a live reply had just set).
  function loadCount(attempt) {
    const liveBefore = live;
    fetch("/api/notifications", { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (payload) {
        if (!payload) return;
        if (live !== liveBefore && attempt < 3) loadCount(attempt + 1);
        else if (live === liveBefore) setUnread(payload.unread);
      })
      .catch(function () {});
  }
  loadCount(0);
  // What came while the live connection was down was never counted here.
  document.addEventListener("switchboard:reconnected", function () {
    loadCount(0);
    if (isOpen()) load();
  });
})();
