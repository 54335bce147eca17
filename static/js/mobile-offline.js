// The technician's day without a signal (templates/mobile/_offline.html):
// registers the service worker, keeps form posts made offline in the queue
// (phone-queue.js) and sends them, in order, when the connection is back; says
// what is waiting and, afterwards, what was done and what the server refused.
// Also the "notifications on/off" button (Web Push).
(function () {
  "use strict";

  const root = document.querySelector("[data-phone-app]");
  if (!root || !window.PhoneQueue) return;
  const scope = root.dataset.scope;
  const userId = document.body.dataset.userId || "";
  const banner = root.querySelector("[data-offline-banner]");
  const queueBox = root.querySelector("[data-queue]");
  const queueTitle = root.querySelector("[data-queue-title]");
  const queueList = root.querySelector("[data-queue-list]");
  const resultsBox = root.querySelector("[data-results]");
  const resultsList = root.querySelector("[data-results-list]");
  const lang = document.documentElement.lang || "nl";
  const sent = new WeakMap();  // htmx request element -> what it posted
  let pending = 0;
  // How much of a typed text a queued action's label shows.
  const LABEL_TEXT = 60;
  // The day page's parameter for "straight after a flush" (mobile-sw.js).
  const FRESH = "fresh";

  function clock(ms) {
    // 24-hour like the rest of the phone view ("08:22", not "08:22 AM" in English).
    return new Date(ms).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function item(text, className) {
    const li = document.createElement("li");
    li.textContent = text;
    if (className) li.className = className;
    return li;
  }

  function render() {
    banner.hidden = navigator.onLine;
    return Promise.all([PhoneQueue.pending(userId), PhoneQueue.results(userId)]).then(function (lists) {
      const waiting = lists[0];
      const results = lists[1];
      pending = waiting.length;
      queueBox.hidden = !waiting.length;
      queueTitle.textContent = t(navigator.onLine ? "queue_sending" : "queue_waiting", { count: waiting.length });
      queueList.replaceChildren.apply(queueList, waiting.map(function (row) {
        return item(clock(row.queuedAt) + " · " + row.label);
      }));
      markCards(waiting);
      resultsBox.hidden = !results.length;
      resultsList.replaceChildren.apply(resultsList, results.map(function (row) {
        return row.ok
          ? item(t("queue_done", { action: clock(row.queuedAt) + " · " + row.label }), "m-result-ok")
          : item(t("queue_refused", {
            action: clock(row.queuedAt) + " · " + row.label,
            reason: row.asks ? t("queue_asks_again") : row.reason,
          }), "m-result-refused");
      }));
    });
  }

  // Each visit card says how many of its actions wait, so a tap that seems to do
  // nothing is not tapped again.
  function markCards(waiting) {
    const counts = {};
    waiting.forEach(function (row) {
      const match = /\/visits\/([0-9a-f-]+)\//.exec(row.path);
      if (match) counts[match[1]] = (counts[match[1]] || 0) + 1;
    });
    document.querySelectorAll(".m-visit[id^='visit-']").forEach(function (card) {
      const count = counts[card.id.slice("visit-".length)] || 0;
      let note = card.querySelector(".m-queued");
      if (!count) {
        if (note) note.remove();
        return;
      }
      if (!note) {
        note = document.createElement("p");
        note.className = "m-queued";
        note.setAttribute("data-testid", "visit-queued");
        card.prepend(note);
      }
      note.textContent = t("queue_on_card", { count: count });
    });
  }

  // "CC-2026-00042 · Begonnen"; a form with data-offline-text adds the start of
  // what was typed ("… · Notitie: Meterkast zit achter de trap."), so two
  // queued notes can be told apart.
  function labelFor(form, submitter, fields) {
    const card = form.closest("[data-order]");
    const button = submitter || form.querySelector("button[type=submit], button:not([type])");
    let what = (form.dataset.offlineLabel || (button && button.textContent) || "").replace(/\s+/g, " ").trim();
    const typed = fields.filter(function (f) { return f[0] === form.dataset.offlineText; })[0];
    if (typed && typeof typed[1] === "string" && typed[1].trim()) {
      const text = typed[1].replace(/\s+/g, " ").trim();
      what += ": " + (text.length > LABEL_TEXT ? text.slice(0, LABEL_TEXT - 1) + "…" : text);
    }
    return card ? card.dataset.order + " · " + what : what;
  }

  // A status tap made offline: "Completed" is asked here (the server's dialog
  // cannot come), and a tap after another waiting tap on the same visit builds on
  // that one, so only the first carries the status the card showed.
  function prepareTap(path, fields, label) {
    return PhoneQueue.pending(userId).then(function (waiting) {
      const tap = fields.filter(function (f) { return f[0] === "tap"; }).map(function (f) { return f[1]; })[0];
      if (tap === "completed" && !fields.some(function (f) { return f[0] === "confirmed"; })) {
        if (!window.confirm(t("queue_confirm_completed", { action: label }))) return null;
        fields.push(["confirmed", "1"]);
      }
      if (waiting.some(function (row) { return row.path === path; })) {
        fields = fields.filter(function (f) { return f[0] !== "expected_status"; });
      }
      return fields;
    });
  }

  function queue(path, formData, form, submitter) {
    let fields = [];
    formData.forEach(function (value, name) {
      if (name !== "csrf_token") fields.push([name, value]);
    });
    if (!formData.get("client_action_id")) fields.push(["client_action_id", PhoneQueue.newActionId()]);
    const label = labelFor(form, submitter, fields);
    const isTap = /\/status$/.test(path);
    pending += 1;
    return (isTap ? prepareTap(path, fields, label) : Promise.resolve(fields)).then(function (ready) {
      if (!ready) {
        pending -= 1;
        return null;
      }
      return store(path, ready, label, form);
    });
  }

  function store(path, fields, label, form) {
    return PhoneQueue.add({
      userId: userId, path: path, fields: fields,
      label: label, queuedAt: Date.now(),
    }).then(function () {
      form.reset();
      askForSync();
      return render();
    }, function () {
      pending -= 1;
      queueTitle.textContent = t("queue_not_kept");
      queueBox.hidden = false;
    });
  }

  function ours(path) {
    return new URL(path, location.href).pathname.startsWith(scope);
  }

  // htmx posts: every one carries a client_action_id; offline, or while older
  // posts still wait, it joins the queue instead of going out (order is kept).
  document.addEventListener("htmx:configRequest", function (event) {
    const detail = event.detail;
    if (detail.verb !== "post" || !ours(detail.path)) return;
    if (!detail.parameters.client_action_id) detail.parameters.client_action_id = PhoneQueue.newActionId();
    const submitter = detail.triggeringEvent && detail.triggeringEvent.submitter;
    sent.set(detail.elt, { path: detail.path, formData: detail.formData, submitter: submitter });
    if (!navigator.onLine || pending > 0) {
      event.preventDefault();
      queue(detail.path, detail.formData, detail.elt, submitter);
    }
  });

  // The post left but no answer came (the signal went on the way): queue it with
  // the same client_action_id, so if it did arrive the server does it once.
  document.addEventListener("htmx:sendError", function (event) {
    const posted = sent.get(event.detail.elt);
    if (posted) queue(posted.path, posted.formData, event.detail.elt, posted.submitter);
  });

  // Plain form posts (no htmx) made offline.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (new URL(form.action, location.href).pathname === "/logout" && "caches" in window) {
      // A shared phone: the next person must not find this day in the cache.
      // Unsent posts stay, kept under this user, for when they sign in again.
      caches.keys().then(function (names) {
        names.forEach(function (name) { if (name.startsWith("switchboard-phone-")) caches.delete(name); });
      });
      return;
    }
    if (form.hasAttribute("hx-post") || (form.method || "").toLowerCase() !== "post") return;
    if (!ours(form.action) || (navigator.onLine && pending === 0)) return;
    event.preventDefault();
    queue(new URL(form.action).pathname, new FormData(form, event.submitter), form, event.submitter);
  }, true);

  // Sent since this page loaded: by this page's flush or by the service
  // worker's (background sync), whose flush this page's does not see.
  const loadedAt = Date.now();
  if (new URLSearchParams(location.search).has(FRESH)) {
    const url = new URL(location.href);
    url.searchParams.delete(FRESH);
    history.replaceState(history.state, "", url);
  }

  function lastCard(results) {
    const sent = results.filter(function (row) { return row.sentAt > loadedAt && row.path; });
    sent.sort(function (a, b) { return a.sentAt - b.sentAt; });
    const match = sent.length && /\/visits\/([0-9a-f-]{36})\//.exec(sent[sent.length - 1].path);
    return match && document.getElementById("visit-" + match[1]) ? "visit-" + match[1] : null;
  }

  function flush() {
    if (!navigator.onLine) return render();
    return PhoneQueue.flush(scope, render).then(function (done) {
      return PhoneQueue.results(userId).then(function (results) {
        const sent = done || results.some(function (row) { return row.sentAt > loadedAt; });
        if (!sent) return render();
        // Fresh cards for what was done; the results list stays until dismissed.
        // FRESH asks the service worker to wait for the server however slow it
        // is, not to show the copy it kept (the cards from before the flush).
        const url = new URL(location.href);
        url.searchParams.set(FRESH, "1");
        // The fresh page opens on the card of the last post that went out, as a
        // tap answered online leaves it in view, not at the top of the day.
        const card = lastCard(results);
        if (card) url.hash = card;
        location.replace(url);
        return null;
      });
    });
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register("phone-queue");
      return null;
    }).catch(function () { return null; });
  }

  root.querySelector("[data-results-dismiss]").addEventListener("click", function () {
    PhoneQueue.clearResults(userId).then(render);
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.worker, { scope: scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      const urls = [scope].concat(
        Array.from(document.querySelectorAll("link[rel=stylesheet], link[rel=icon], link[rel=manifest], script[src]"),
          function (el) { return el.href || el.src; })
      );
      // data-offline-ready: everything the page needs is kept, the day works
      // without a signal from here on.
      const channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (event.data && event.data.complete) root.dataset.offlineReady = "true";
      };
      registration.active.postMessage({ type: "cache-urls", urls: urls }, [channel.port2]);
      setUpPush(registration);
    }).catch(function () { return null; });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "flush") flush();
    });
  }

  // Web Push: the button shows only when the server has VAPID keys and the
  // browser can receive push.
  function setUpPush(registration) {
    const button = document.querySelector("[data-push-toggle]");
    if (!button || !registration.pushManager || !("Notification" in window)) return;
    const key = root.dataset.pushKey;
    function show(subscription) {
      button.hidden = false;
      button.textContent = t(subscription ? "push_turn_off" : "push_turn_on");
      button.setAttribute("aria-pressed", subscription ? "true" : "false");
      if (Notification.permission === "denied") {
        button.textContent = t("push_blocked");
        button.disabled = true;
      }
    }
    function post(url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content },
      });
    }
    registration.pushManager.getSubscription().then(function (subscription) {
      show(subscription);
      button.addEventListener("click", function () {
        button.disabled = true;
        registration.pushManager.getSubscription().then(function (current) {
          if (current) {
            return post(root.dataset.unsubscribeUrl, { endpoint: current.endpoint })
              .then(function () { return current.unsubscribe(); })
              .then(function () { show(null); });
          }
          return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key })
            .then(function (made) {
              return post(root.dataset.subscribeUrl, made.toJSON()).then(function () { show(made); });
            });
        }).catch(function () { show(null); }).finally(function () {
          if (Notification.permission !== "denied") button.disabled = false;
        });
      });
    });
  }

  render().then(flush);
})();
