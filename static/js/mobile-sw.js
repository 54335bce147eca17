// Service worker of the technician's phone view, served as /m/sw.js (scope /m/).
// - The day page: network first, the last copy when there is no signal (the page
//   then says "Offline — last updated 14:20" itself, from the time it was made).
// - Styles, scripts and icons: from the network, the last copy without a signal.
// - Background Sync "phone-queue": sends the queued posts (phone-queue.js) when
//   the browser sees the connection back, even with the page closed.
// - Web Push: shows the notification; a tap opens the /m/ page it names.
"use strict";

importScripts("/static/js/phone-queue.js");

const CACHE = "switchboard-phone-v1";
const SCOPE = new URL(self.registration.scope).pathname;  // "/m/"
// A day page slower than this comes from the cache: a weak signal in a basement
// should not keep the technician waiting.
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.startsWith("switchboard-phone-") && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// The page lists what it was built from (its styles, scripts, icons) so that all
// of it is there offline, including what loaded before this worker took over.
// What is already kept is not fetched again (the fetch handler refreshes what a
// page uses while online); the answer on the message's port says whether all of
// it is kept now, so the page knows when it can go without a signal.
self.addEventListener("message", function (event) {
  const data = event.data || {};
  if (data.type === "cache-urls") {
    const reply = event.ports && event.ports[0];
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (url) {
        return cache.match(url).then(function (kept) {
          if (kept) return true;
          return fetch(url, { credentials: "same-origin" }).then(function (response) {
            if (!response.ok) return false;
            return cache.put(url, response).then(function () { return true; });
          });
        }).catch(function () { return false; });
      }));
    }).then(function (kept) {
      if (reply) reply.postMessage({ type: "cached", complete: kept.every(Boolean) });
    }));
  } else if (data.type === "flush") {
    event.waitUntil(PhoneQueue.flush(SCOPE));
  }
});

function isStatic(url) {
  return url.origin === self.location.origin && url.pathname.startsWith("/static/");
}

function dayPage(request) {
  const cacheKey = new URL(request.url);
  cacheKey.hash = "";
  // Straight after the page sent its queue (mobile-offline.js) there is a
  // signal and the kept copy is out of date: wait for the server.
  const patient = cacheKey.searchParams.has("fresh");
  const fromNetwork = new Promise(function (resolve, reject) {
    const timer = patient ? null : setTimeout(function () { reject(new Error("slow")); }, NETWORK_TIMEOUT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      // Only the page itself, not a sign-in page it redirected to.
      if (response.ok && !response.redirected) {
        const copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(cacheKey.pathname, copy); });
      }
      resolve(response);
    }, function (error) { clearTimeout(timer); reject(error); });
  });
  return fromNetwork.catch(function () {
    return caches.match(cacheKey.pathname).then(function (cached) {
      return cached || caches.match(SCOPE) || Response.error();
    });
  });
}

// Network first here too, so a new release's styles and scripts come with its
// pages; the copy is for when there is no signal.
function staticFile(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.match(request).then(function (cached) { return cached || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;  // posts: the page queues them itself
  const url = new URL(request.url);
  if (request.mode === "navigate" && url.pathname.startsWith(SCOPE)) {
    event.respondWith(dayPage(request));
  } else if (isStatic(url)) {
    event.respondWith(staticFile(request));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "phone-queue") {
    event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (windows) {
      // An open day page sends them itself and shows what happened.
      if (windows.length) {
        windows.forEach(function (client) { client.postMessage({ type: "flush" }); });
        return null;
      }
      return PhoneQueue.flush(SCOPE);
    }));
  }
});

self.addEventListener("push", function (event) {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: event.data ? event.data.text() : "Switchboard" };
  }
  event.waitUntil(self.registration.showNotification(data.title || "Switchboard", {
    body: data.body || "",
    tag: data.tag || undefined,
    icon: "/static/icons/technician-192.png",
    badge: "/static/icons/technician-192.png",
    data: { url: data.url || SCOPE },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || SCOPE, self.location.origin);
  // Only pages of the phone view: a payload never sends the phone elsewhere.
  const url = target.origin === self.location.origin && target.pathname.startsWith(SCOPE)
    ? target.href : new URL(SCOPE, self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (const client of windows) {
      if ("navigate" in client && new URL(client.url).pathname.startsWith(SCOPE)) {
        return client.navigate(url).then(function (c) { return c && c.focus(); });
      }
    }
    return self.clients.openWindow(url);
  }));
});
