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

  // A form whose fields each save themselves (the thread header) is never
  // submitted as a whole: Enter in one of its fields would save twice.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-fields-save-themselves]")) event.preventDefault();
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
    htmx.ajax("GET", url, { target: selector, swap: "outerHTML", headers: { "X-Live-Refresh": "1" } });
  }

  // A search typed but not yet applied (its request waits for the pause in
  // typing): a live refresh of the list would replace the box and lose the text.
  // The search's own request brings fresh rows anyway.
  function searchPending(inbox) {
    const search = inbox && inbox.querySelector("#inbox-q");
    if (!search) return false;
    const shown = new URL(inbox.dataset.refreshUrl || window.location.href, window.location.href);
    return search.value.trim() !== (shown.searchParams.get("q") || "").trim();
  }

  // htmx.ajax without a source puts every call in one queue (the body's): one on its
  // way, the last asked waiting. The waiting one still aims at the element found when
  // it was asked for; if the one before replaced that element, its answer would be
  // swapped into the detached copy and pull what the page keeps (hx-preserve: the
  // list's bulk bar, its summary and ticks) out of the page with it. htmx announces
  // that swap on the detached element, out of every listener's reach, so the request
  // is stopped before it leaves, and the list is asked for again as it is now.
  document.body.addEventListener("htmx:configRequest", function (event) {
    const target = event.detail.target;
    if (!target || target.isConnected || target.id !== "inbox") return;
    event.preventDefault();
    const inbox = document.getElementById("inbox");
    // Asked again as it was asked: a live refresh stays one (it must not replace a
    // search being typed, see htmx:beforeSwap below).
    const headers = {};
    if (event.detail.headers["X-Live-Refresh"]) headers["X-Live-Refresh"] = "1";
    if (inbox) {
      htmx.ajax("GET", inbox.dataset.refreshUrl || event.detail.path, { target: "#inbox", swap: "outerHTML", headers: headers });
    }
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const config = event.detail.requestConfig;
    const live = config && config.headers && config.headers["X-Live-Refresh"];
    if (live && event.detail.target.id === "inbox" && searchPending(event.detail.target)) {
      event.detail.shouldSwap = false;
    }
  });

  const refreshInbox = debounce(function () {
    const inbox = document.querySelector("#inbox");
    // A list not on screen (a phone's thread page) is not asked for. The list's pane
    // tells: #inbox itself has no box of its own there (workspace.css).
    const pane = inbox && (inbox.closest(".ws-list") || inbox);
    if (inbox && pane.offsetParent !== null && !inbox.querySelector(".more-loaded") && !searchPending(inbox)) {
      // The list may sit beside an open conversation (/threads/<id>): it knows its own URL.
      refresh("#inbox", inbox.dataset.refreshUrl || window.location.pathname + window.location.search);
    }
  }, 300);

  function threadPage() {
    return document.getElementById("thread");
  }

  // Only the latest part is read again, from where it starts: earlier pages the
  // agent loaded above it stay, and so does the message they are reading. Once the
  // conversation is on screen from its first message (no earlier page left to
  // load), all of it is read again instead ("start"), so a message the provider
  // delivered late, dated before what is shown, still lands where its time puts it.
  // The server marks the conversation read only when the page is in front of them.
  const refreshTimeline = debounce(function () {
    const page = threadPage();
    const latest = document.getElementById("timeline-latest");
    if (!page || !window.htmx) return;
    const params = new URLSearchParams();
    if (document.visibilityState === "visible") params.set("visible", "1");
    if (!latest || !latest.dataset.from) {
      refresh("#timeline", page.dataset.timelineUrl + "?" + params);
      return;
    }
    const whole = !page.querySelector("#timeline .tl-earlier");
    params.set("from", whole ? "start" : latest.dataset.from);
    const restore = keepReadingPosition(page.querySelector(".timeline-scroll"));
    const into = whole
      ? { target: "#timeline", swap: "innerHTML" }
      : { target: "#timeline-latest", swap: "outerHTML" };
    htmx.ajax("GET", page.dataset.timelineUrl + "?" + params, into).then(restore);
  }, 150);

  // At the newest message the view follows new ones; scrolled up, the message at
  // the top of the view stays where it is.
  function keepReadingPosition(scroller) {
    if (!scroller || Math.abs(scroller.scrollTop) < 2) return function () {};
    const top = scroller.getBoundingClientRect().top;
    const anchor = Array.from(scroller.querySelectorAll("[data-message-id]")).find(
      (row) => row.getBoundingClientRect().bottom > top
    );
    if (!anchor) return function () {};
    const before = anchor.getBoundingClientRect().top;
    return function () {
      const again = document.getElementById(anchor.id);
      if (again) scroller.scrollTop += again.getBoundingClientRect().top - before;
    };
  }

  const refreshHeader = debounce(function () {
    const page = threadPage();
    if (page) refresh("#thread-header", page.dataset.headerUrl);
  }, 150);

  // The session cookie authenticates the connection; the server refuses anonymous ones.
  // Live events come numbered, in "live" frames, from a queue the server keeps for this
  // page (app/platform/live_queues.py). On a reconnect the page names its queue and the
  // last number it handled, and the server sends what it missed, in order. If the
  // server no longer keeps the queue (away too long, another web process) or a number
  // is skipped, what is on screen is asked for again instead: the list, the open
  // conversation, and (through "switchboard:reconnected") the bell's count and the
  // other pages' scripts. Nothing stays silently out of date.
  // "dropped": a connection of this page was lost. A page whose first connection
  // dropped before the server's hello named a queue has none to resume, and missed
  // whatever came meanwhile all the same.
  const live = { queue: null, last: 0, dropped: false };
  const socket = io({
    transports: ["websocket", "polling"],
    auth: (answer) => answer(live.queue ? { queue: live.queue, last: live.last } : {}),
  });
  socket.live = live; // where the page stands, for the browser tests
  window.switchboardSocket = socket;
  socket.on("disconnect", () => {
    live.dropped = true;
  });

  function refreshEverything() {
    refreshInbox();
    if (threadPage()) {
      refreshTimeline();
      refreshHeader();
    }
    document.dispatchEvent(new CustomEvent("switchboard:reconnected"));
  }

  socket.on("live:queue", (hello) => {
    const stale = live.dropped && !hello.resumed;
    live.dropped = false;
    live.queue = hello.queue;
    live.last = hello.seq;
    if (stale) refreshEverything();
  });

  socket.on("live", (first, ...items) => {
    if (first > live.last + 1) refreshEverything(); // a gap: what is shown may miss something
    items.forEach((item, offset) => {
      const number = first + offset;
      if (number <= live.last) return; // sent again after a resume: handled already
      live.last = number;
      handle(item[0], item[1]);
    });
  });

  const handlers = {
    "message:new": (detail) => {
      refreshInbox();
      const page = threadPage();
      if (page && page.dataset.threadId === detail.thread_id) refreshTimeline();
    },

    "thread:updated": (detail) => {
      const page = threadPage();
      if (page && page.dataset.threadId === detail.thread_id) {
        refreshTimeline();
        // Snoozed or woken (by its time, the customer, a colleague): the header's badge changes.
        if (detail.reason === "snooze") refreshHeader();
        if (detail.reason === "edit") {
          const header = document.getElementById("thread-header");
          // Only refresh if our copy is older, so our own edit is not swapped twice.
          if (header && Number(header.dataset.lockVersion) < detail.lock_version) refreshHeader();
        }
      }
      if (detail.reason !== "delivery") refreshInbox();
    },

    // The count of orders waiting for a person, beside "Orders" in the menu (app/orders/core/waiting.py).
    "orders:waiting": (detail) => {
      document.querySelectorAll('[data-nav-count="orders_waiting"]').forEach((badge) => {
        badge.textContent = detail.label;
        badge.hidden = !detail.count;
      });
    },
  };

  // notifications.js (the bell) and other pages' scripts listen to "switchboard:<event>".
  const announced = ["message:new", "thread:updated", "task:assigned", "sla:alert", "notification:new"];

  function handle(name, detail) {
    if (handlers[name]) handlers[name](detail);
    if (announced.includes(name)) {
      document.dispatchEvent(new CustomEvent("switchboard:" + name, { detail: detail }));
    }
  }
})();

// task board
// When a task is assigned to this user, refresh the board if it is open, unless
// they are in the middle of typing completion notes on it.
(function () {
  "use strict";

  function refreshBoard() {
    const board = document.getElementById("task-board");
    if (!board || typeof htmx === "undefined") return;
    const typing = document.activeElement && document.activeElement.tagName === "TEXTAREA";
    const busy = board.querySelector("details[open]") || (typing && board.contains(document.activeElement));
    if (busy) return;
    htmx.ajax("GET", window.location.pathname + window.location.search, {
      target: "#task-board",
      swap: "innerHTML",
    });
  }
  document.addEventListener("switchboard:task:assigned", refreshBoard);
  // Tasks assigned while the live connection was down were never announced.
  document.addEventListener("switchboard:reconnected", refreshBoard);
})();

// The top bar's "Admin" menu (a <details>) closes like a menu: on a click
// elsewhere and on Escape. Without this script it still opens and closes by itself.
(function () {
  "use strict";

  function closeMenus(except) {
    document.querySelectorAll("details.navgroup[open]").forEach((menu) => {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", (event) => closeMenus(event.target.closest("details.navgroup")));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = document.querySelector("details.navgroup[open]");
    if (!open) return;
    closeMenus(null);
    open.querySelector("summary").focus();
  });
})();
