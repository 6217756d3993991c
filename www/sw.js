// Souverain service worker: precaches every file of the build so that the wallet opens offline,
// and serves them cache-first so that a warm open makes no network request at all.
//
// `cargo xtask` fills in PRECACHE (every file of dist/) and VERSION (a hash of their contents)
// after Trunk builds; a new VERSION makes the browser install a new worker, which waits until the
// app asks it to take over (the in-app "new version" prompt).
"use strict";

const PRECACHE = /*PRECACHE*/ ["./", "index.html"] /*END*/;
const VERSION = "/*VERSION*/dev";
const CACHE = "souverain-" + VERSION;

// Paths that belong to the guichet sharing this origin: never answered from the wallet's cache.
const PASS_THROUGH = ["/api/", "/guichet/", "/.well-known/", "/log/", "/healthz"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(PRECACHE.map((path) => new Request(path, { cache: "reload" })))
    )
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((k) => k.startsWith("souverain-") && k !== CACHE).map((k) => caches.delete(k))
        )
      )
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const scopePath = new URL(self.registration.scope).pathname;
  if (!url.pathname.startsWith(scopePath)) return;
  const rest = "/" + url.pathname.slice(scopePath.length);
  if (PASS_THROUGH.some((prefix) => rest.startsWith(prefix))) return;

  if (request.mode === "navigate") {
    // Every wallet route is the same page; the app routes itself.
    event.respondWith(
      caches.match("index.html", { cacheName: CACHE, ignoreVary: true }).then((hit) => hit || fetch(request))
    );
    return;
  }
  event.respondWith(
    // ignoreVary: the guichet's CORS layer adds `Vary: origin`, and the wasm is fetched in cors mode;
    // a precached file is the same bytes whatever the origin header, so the lookup must not miss.
    caches.match(request, { cacheName: CACHE, ignoreSearch: true, ignoreVary: true }).then((hit) => hit || fetch(request))
  );
});
