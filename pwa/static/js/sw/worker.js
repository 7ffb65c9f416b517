// The core of the service worker: precache the shell and assets in a cache named after the
// deploy's version, serve them offline (cache first: the shell is versioned, updates come
// through a new worker), drop old caches on activation, replay the sales outbox on
// Background Sync. The API and the websocket are never cached or intercepted.
//
// Extension point: do not add push handling here. Files in pwa/static/js/sw-ext/ are
// imported by /sw.js automatically (see pwa/templates/sw.js); register your listeners there.

import { replay, SYNC_TAG } from "../outbox.js";

const PREFIX = "bartender-";

export function startWorker({ version, precache, shell }) {
  const cacheName = `${PREFIX}${version}`;

  self.addEventListener("install", (event) => {
    event.waitUntil(caches.open(cacheName).then((cache) => cache.addAll(precache)));
    // first install: take over at once; an update waits for the page's "reload" click
  });

  self.addEventListener("activate", (event) => {
    event.waitUntil((async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith(PREFIX) && key !== cacheName) await caches.delete(key);
      }
      await self.clients.claim();
    })());
  });

  self.addEventListener("message", (event) => {
    if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  });

  self.addEventListener("fetch", (event) => {
    const url = new URL(event.request.url);
    if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
    if (url.pathname.startsWith("/api/") || url.pathname === "/ws") return;
    if (event.request.mode === "navigate") {
      // ignoreVary: the shell varies by Accept-Language only for its first-visit login form
      event.respondWith(caches.match(shell, { cacheName, ignoreVary: true }).then((hit) => hit || fetch(event.request)));
      return;
    }
    event.respondWith(caches.match(event.request, { cacheName }).then((hit) => hit || fetch(event.request)));
  });

  self.addEventListener("sync", (event) => {
    if (event.tag !== SYNC_TAG) return;
    event.waitUntil(replay().then(({ blocked }) => {
      // rejecting makes the browser retry the sync later, with its own backoff
      if (blocked && blocked.reason !== "session") throw new Error(`outbox blocked: ${blocked.reason}`);
    }));
  });
}
