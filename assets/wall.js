/* Video wall (issue 8): one server-corrected clock, scene rotation, data refresh with per-tile hashes,
 * connection banner, service worker. Only acts on pages that contain a .wall-root. */
(function () {
  "use strict";
  var TZ = "Asia/Ho_Chi_Minh";
  var state = {
    offset: 0, samples: [], hashes: {}, lostSince: null, lastGood: null, control: null,
    lastError: "", sceneId: null, shown: {}, alertsHash: null, topicHash: null, measuredAt: 0
  };
  window.wallState = state;

  function serverNow() { return Date.now() + state.offset; }

  function sceneAt(scenes, t) {
    var cycle = scenes.reduce(function (a, s) { return a + s.duration; }, 0);
    var pos = t - Math.floor(t / cycle) * cycle;
    for (var i = 0; i < scenes.length; i++) {
      if (pos < scenes[i].duration) { return i; }
      pos -= scenes[i].duration;
    }
    return 0;
  }
  window.wallSceneAt = sceneAt;

  async function measure() {
    var t0 = Date.now();
    var response = await fetch("/wall/time", {cache: "no-store"});
    var t1 = Date.now();
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    var body = await response.json();
    state.samples.push({rtt: t1 - t0, offset: body.t + (t1 - t0) / 2 - t1});
    state.samples = state.samples.slice(-5);
    var best = state.samples.reduce(function (a, b) { return b.rtt < a.rtt ? b : a; });
    state.offset = best.offset;
    state.measuredAt = t1;
  }

  var dateFormat = new Intl.DateTimeFormat("vi-VN", {timeZone: TZ, weekday: "long", day: "2-digit", month: "2-digit", year: "numeric"});
  var timeFormat = new Intl.DateTimeFormat("vi-VN", {timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});

  function paintClocks(now) {
    var time = timeFormat.format(now), date = dateFormat.format(now);
    document.querySelectorAll(".js-wall-time").forEach(function (el) { if (el.textContent !== time) { el.textContent = time; } });
    document.querySelectorAll(".js-wall-date").forEach(function (el) { if (el.textContent !== date) { el.textContent = date; } });
  }

  function statusText() {
    if (state.lostSince === null) { return ""; }
    var since = state.lastGood !== null ? state.lastGood : state.lostSince;
    var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
    return "Mất kết nối · " + minutes + " phút";
  }

  function tick(n, config) {
    var nu = window.dash_clientside.no_update;
    var outputs = window.dash_clientside.callback_context.outputs_list;
    var now = serverNow();
    paintClocks(new Date(now));
    var scenes = config.scenes;
    var index = sceneAt(scenes, now / 1000);
    var control = state.control || {};
    var hold = state.hold || config.hold;
    if (hold) { control = {scene: hold}; }
    if (control.scene) {
      var pinned = scenes.findIndex(function (s) { return s.id === control.scene; });
      if (pinned >= 0) { index = pinned; }
    }
    var topic = Boolean(control.topic);
    var scene = scenes[index];
    state.sceneId = topic ? "topic" : scene.id;
    var root = document.querySelector(".wall-root");
    if (root) {
      if (root.dataset.scene !== state.sceneId) { root.dataset.changedAt = String(now); }
      root.dataset.scene = state.sceneId;
      root.dataset.offset = String(Math.round(state.offset));
    }
    var layerClasses = outputs[0].map(function (o) {
      var cls = "wall-layer" + (!topic && o.id.scene === scene.id ? " is-active" : "");
      return state.shown[o.id.scene] === cls ? nu : (state.shown[o.id.scene] = cls);
    });
    var topicClass = "wall-layer wall-topic" + (topic ? " is-active" : "");
    var name = topic ? (control.topic_name || "Chủ đề") : scene.name;
    var status = statusText();
    var statusClass = "wall-status" + (status ? " is-lost" : "");
    function once(key, value) { return state.shown[key] === value ? nu : (state.shown[key] = value); }
    return [layerClasses, once("~topic", topicClass), once("~name", name), once("~status", status), once("~statusClass", statusClass)];
  }

  async function refresh(n, config) {
    var nu = window.dash_clientside.no_update;
    var outputs = window.dash_clientside.callback_context.outputs_list;
    var keys = outputs[0].map(function (o) { return o.id.key; });
    var skip = [keys.map(function () { return nu; }), keys.map(function () { return nu; }), nu, nu];
    try {
      if (Date.now() - state.measuredAt > 60000 || state.lostSince !== null) { await measure(); }
    } catch (err) { /* the data request below says whether we are online */ }
    var url = "/wall/data/" + encodeURIComponent(config.screen) + "?w=" + window.innerWidth +
      "&scene=" + encodeURIComponent(state.sceneId || "") + "&err=" + encodeURIComponent(state.lastError);
    var data, cached = false;
    try {
      var response = await fetch(url, {cache: "no-store"});
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      cached = response.headers.get("X-Wall-Cache") === "1";
      data = await response.json();
    } catch (err) {
      if (state.lostSince === null) { state.lostSince = Date.now(); }
      state.lastError = "Mất kết nối: " + err.message;
      return skip;
    }
    if (cached) {
      if (state.lostSince === null) { state.lostSince = Date.now(); }
      if (state.lastGood === null) { state.lastGood = data.t; }
    } else {
      state.lostSince = null;
      state.lastGood = Date.now();
      state.lastError = "";
    }
    state.control = data.control || null;
    var tiles = data.tiles || {};
    var children = [], classes = [];
    keys.forEach(function (key) {
      var tile = tiles[key];
      var seen = config.screen + "/" + key;
      if (!tile || state.hashes[seen] === tile.hash) { children.push(nu); classes.push(nu); return; }
      state.hashes[seen] = tile.hash;
      children.push(tile.children);
      classes.push(tile.classes);
    });
    var alerts = nu, topic = nu;
    if (data.alerts && data.alerts.hash !== state.alertsHash) { state.alertsHash = data.alerts.hash; alerts = data.alerts.children; }
    var topicHash = data.topic ? data.topic.hash : "";
    if (topicHash !== state.topicHash) { state.topicHash = topicHash; topic = data.topic ? data.topic.children : null; }
    var root = document.querySelector(".wall-root");
    if (root) { root.dataset.version = data.version || ""; root.dataset.refreshed = String(Date.now()); }
    return [children, classes, alerts, topic];
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {wall: {tick: tick, refresh: refresh}});

  if ("serviceWorker" in navigator && /^\/wall\/(?!control$)[^/]+$/.test(location.pathname)) {
    navigator.serviceWorker.register("/wall/sw.js", {scope: "/wall/"}).then(function () {
      if (navigator.serviceWorker.controller) { document.documentElement.dataset.wallSw = "ready"; return; }
      navigator.serviceWorker.addEventListener("controllerchange", function () {
        document.documentElement.dataset.wallSw = "ready";
        /* the first visit was not yet controlled: reload once so the shell goes through the cache */
        if (!sessionStorage.getItem("wall-sw-reloaded")) { sessionStorage.setItem("wall-sw-reloaded", "1"); location.reload(); }
      });
    }).catch(function () { /* no service worker: the wall still works online */ });
  }
})();
