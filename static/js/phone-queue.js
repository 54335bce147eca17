// The technician's offline queue, shared by the page (mobile-offline.js) and the
// service worker (mobile-sw.js, for Background Sync): form posts kept in
// IndexedDB in the order they were made, sent in that order when the signal is
// back. Each carries its client_action_id, so a post sent twice (the answer was
// lost on the way back) is done once by the server (app/orders/mobile/replay.py).
// No DOM here: the worker has none.
(function (scope) {
  "use strict";

  const DB_NAME = "switchboard-phone";
  const QUEUE = "queue";
  const RESULTS = "results";
  // Answers that mean "try again later", not "refused".
  const RETRY_LATER = [0, 502, 503, 504];

  function openDb() {
    return new Promise(function (resolve, reject) {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(QUEUE, { keyPath: "seq", autoIncrement: true });
        request.result.createObjectStore(RESULTS, { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        const transaction = db.transaction(name, mode);
        const request = work(transaction.objectStore(name));
        transaction.oncomplete = function () {
          db.close();
          resolve(request ? request.result : undefined);
        };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
        transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function list(name, userId) {
    return withStore(name, "readonly", function (store) { return store.getAll(); }).then(
      function (rows) { return rows.filter(function (row) { return row.userId === userId; }); }
    );
  }

  function newActionId() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    const bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // Who is signed in now and a fresh CSRF token, from the day page itself: a
  // queued post may be older than the token of the page it was made on.
  function freshSession(pageUrl) {
    return fetch(pageUrl, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.redirected || !response.ok) return null;  // signed out: keep the queue
      return response.text().then(function (html) {
        const token = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
        const user = /data-user-id="([^"]+)"/.exec(html);
        return token && user ? { token: token[1], userId: user[1] } : null;
      });
    });
  }

  function unescapeHtml(text) {
    return text.replace(/<[^>]*>/g, " ").replace(/&#39;/g, "'").replace(/&quot;/g, '"')
      .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
      .replace(/\s+/g, " ").trim();
  }

  // The refusal the server wrote into the card (role="alert") or its error page
  // ("This visit is assigned to another technician."), else its plain text.
  function reasonOf(html, status) {
    const alert = /<[^>]+(?:role="alert"|data-error-message)[^>]*>([\s\S]*?)<\/(p|div|span)>/.exec(html);
    const text = unescapeHtml(alert ? alert[1] : (html.length < 400 ? html : ""));
    return text || ("HTTP " + status);
  }

  function bodyOf(item, token) {
    const body = new FormData();
    item.fields.forEach(function (field) {
      const value = field[1];
      if (value instanceof Blob) body.append(field[0], value, value.name || "foto.jpg");
      else body.append(field[0], value);
    });
    body.append("csrf_token", token);
    return body;
  }

  let flushing = null;

  // Send what this user queued, oldest first; stop at the first post that could
  // not reach the server (the rest wait, in order). onProgress() after each.
  function flush(pageUrl, onProgress) {
    if (flushing) return flushing;
    flushing = freshSession(pageUrl).then(function (session) {
      if (!session) return 0;
      return list(QUEUE, session.userId).then(function (items) {
        let done = 0;
        function next(index) {
          if (index >= items.length) return done;
          const item = items[index];
          return fetch(item.path, {
            method: "POST",
            body: bodyOf(item, session.token),
            credentials: "same-origin",
            // Sent from the queue: decided long ago, so no Undo window (app/orders/mobile/replay.py).
            headers: { "HX-Request": "true", "X-CSRFToken": session.token, "X-Offline-Replay": "1" },
          }).then(function (response) {
            if (RETRY_LATER.indexOf(response.status) >= 0 || response.redirected) return done;
            return response.text().then(function (html) {
              // A card that asks "Completed?" again did nothing yet.
              const asks = /<dialog[^>]*class="m-confirm"/.test(html);
              const result = {
                userId: item.userId, label: item.label, queuedAt: item.queuedAt, path: item.path,
                sentAt: Date.now(), ok: response.ok && !asks, asks: asks,
                reason: response.ok ? "" : reasonOf(html, response.status),
              };
              return withStore(QUEUE, "readwrite", function (store) { return store.delete(item.seq); })
                .then(function () { return withStore(RESULTS, "readwrite", function (store) { return store.add(result); }); })
                .then(function () { done += 1; if (onProgress) onProgress(); return next(index + 1); });
            });
          }, function () { return done; });  // the connection went again
        }
        return next(0);
      });
    }, function () { return 0; }).finally(function () { flushing = null; });
    return flushing;
  }

  scope.PhoneQueue = {
    add: function (record) {
      return withStore(QUEUE, "readwrite", function (store) { return store.add(record); });
    },
    pending: function (userId) { return list(QUEUE, userId); },
    results: function (userId) { return list(RESULTS, userId); },
    clearResults: function (userId) {
      return list(RESULTS, userId).then(function (rows) {
        return withStore(RESULTS, "readwrite", function (store) {
          rows.forEach(function (row) { store.delete(row.seq); });
          return null;
        });
      });
    },
    flush: flush,
    newActionId: newActionId,
  };
})(self);
