/* Service worker of the wall (served at /wall/sw.js, scope /wall/): a kiosk that reboots while the
 * server is down shows its last content. Network first; on failure the last good copy, marked with
 * X-Wall-Cache: 1 so the page shows the "Mất kết nối" banner. Dash's POST callbacks (the page router)
 * are cached under a key made from their body. /wall/time is never cached (it measures the clock). */
var CACHE = "ioc-wall-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function marked(response) {
  var headers = new Headers(response.headers);
  headers.set("X-Wall-Cache", "1");
  return new Response(response.body, {status: response.status, statusText: response.statusText, headers: headers});
}

async function networkFirst(request, key) {
  try {
    var response = await fetch(request);
    if (response.ok) {
      var cache = await caches.open(CACHE);
      await cache.put(key, response.clone());
    }
    return response;
  } catch (err) {
    var hit = await caches.match(key);
    if (hit) { return marked(hit); }
    throw err;
  }
}

function hash(text) {
  var h = 5381;
  for (var i = 0; i < text.length; i++) { h = ((h * 33) ^ text.charCodeAt(i)) | 0; }
  return (h >>> 0).toString(36) + "-" + text.length;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === "/wall/time" || url.pathname === "/wall/sw.js") { return; }
  if (url.pathname === "/wall/control" || (request.method !== "GET" && request.method !== "POST")) { return; }
  event.respondWith((async function () {
    var client = event.clientId ? await self.clients.get(event.clientId) : null;
    if (client && new URL(client.url).pathname === "/wall/control") { return fetch(request); }  /* operators: live only */
    if (request.method === "POST") {
      if (!url.pathname.endsWith("/_dash-update-component")) { return fetch(request); }
      var body = await request.clone().text();
      return networkFirst(request, new Request(url.origin + "/wall/__post/" + hash(body)));
    }
    var key = url.pathname.indexOf("/wall/data/") === 0 ? new Request(url.origin + url.pathname) : request;
    return networkFirst(request, key);
  })());
});
