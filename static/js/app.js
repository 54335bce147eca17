// Switchboard browser glue: htmx settings, live updates over Socket.IO.
// The bell is in notifications.js.
(function () {
  "use strict";

  // Swap validation (422) and conflict (409) answers too: they carry the message
  // the person needs to read. Other errors are left alone.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "409", swap: true, error: false },
        { code: "422", swap: true, error: false },
        { code: "[45]..", swap: false, error: true },
      ];
    }
  });

  // Composer tabs: Reply / Internal note.
  document.addEventListener("click", function (event) {
    const tab = event.target.closest(".composer-tabs [data-show]");
    if (!tab) return;
    const composer = tab.closest(".composer");
    composer.querySelectorAll(".composer-tabs .tab").forEach((t) => {
      t.classList.toggle("active", t === tab);
      t.setAttribute("aria-selected", t === tab ? "true" : "false");
    });
    composer.querySelectorAll(".composer-form").forEach((form) => {
      form.hidden = form.id !== tab.dataset.show;
    });
  });

  const body = document.body;
  if (!body.dataset.userId || typeof io === "undefined") {
    return;
  }

  // Several events often arrive together (message + thread update): refresh once.
  function debounce(fn, wait) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  function refresh(selector, url) {
    const target = document.querySelector(selector);
    if (!target || !window.htmx) return;
    htmx.ajax("GET", url, { target: selector, swap: "outerHTML" });
  }

  const refreshInbox = debounce(function () {
    const inbox = document.querySelector("#inbox");
    // A list not on screen (a phone's thread page) is not asked for.
    if (inbox && inbox.offsetParent !== null && !inbox.querySelector(".more-loaded")) {
      // The list may sit beside an open conversation (/threads/<id>): it knows its own URL.
      refresh("#inbox", inbox.dataset.refreshUrl || window.location.pathname + window.location.search);
    }
  }, 300);

  function threadPage() {
    return document.getElementById("thread");
  }

  const refreshTimeline = debounce(function () {
    const page = threadPage();
    if (page) refresh("#timeline", page.dataset.timelineUrl);
  }, 150);

  const refreshHeader = debounce(function () {
    const page = threadPage();
    if (page) refresh("#thread-header", page.dataset.headerUrl);
  }, 150);

  // The session cookie authenticates the connection; the server refuses anonymous ones.
  const socket = io({ transports: ["websocket", "polling"] });
  window.switchboardSocket = socket;

  socket.on("message:new", (detail) => {
    refreshInbox();
    const page = threadPage();
    if (page && page.dataset.threadId === detail.thread_id) refreshTimeline();
  });

  socket.on("thread:updated", (detail) => {
    const page = threadPage();
    if (page && page.dataset.threadId === detail.thread_id) {
      refreshTimeline();
      if (detail.reason === "edit") {
        const header = document.getElementById("thread-header");
        // Only refresh if our copy is older, so our own edit is not swapped twice.
        if (header && Number(header.dataset.lockVersion) < detail.lock_version) refreshHeader();
      }
    }
    if (detail.reason !== "delivery") refreshInbox();
  });

  // notifications.js (the bell) and other pages' scripts listen to these.
  ["message:new", "thread:updated", "task:assigned", "sla:alert", "notification:new"].forEach((name) => {
    socket.on(name, (detail) => {
      document.dispatchEvent(new CustomEvent("switchboard:" + name, { detail: detail }));
    });
  });
})();

// task board
// When a task is assigned to this user, refresh the board if it is open, unless
// they are in the middle of typing completion notes on it.
(function () {
  "use strict";

  document.addEventListener("switchboard:task:assigned", () => {
    const board = document.getElementById("task-board");
    if (!board || typeof htmx === "undefined") return;
    const typing = document.activeElement && document.activeElement.tagName === "TEXTAREA";
    const busy = board.querySelector("details[open]") || (typing && board.contains(document.activeElement));
    if (busy) return;
    htmx.ajax("GET", window.location.pathname + window.location.search, {
      target: "#task-board",
      swap: "innerHTML",
    });
  });
})();
