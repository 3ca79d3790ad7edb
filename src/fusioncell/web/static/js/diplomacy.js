/*
 * The diplomatic track's pages (agreements, an agreement, meetings, a meeting, the dashboard),
 * live.
 *
 * - When the track's frames arrive on the page's one stream (console.js dispatches each as a
 *   "fusioncell:frame" event; the track's kinds start with "diplomacy-": an agreement's step,
 *   a milestone's, a meeting's), the page fetches its sections again (the same address with
 *   HX-Target: <data-sections>, read through the policy like the page) and puts them in
 *   place: one request per burst. A form the member has begun to fill in is kept while the
 *   forms offered stay the same. #diplomacy gets data-live from the stream's state and
 *   data-refreshed (a count).
 * - Countdowns (<time class="dp-countdown" data-deadline="ms">) tick each second, in the
 *   page's language, from the cell's clock as the header gives it.
 * - A milestone's positions (.dp-map[data-geometry]) are drawn on the offline map.
 *
 * Plain script, no build step; labels come translated in data-i18n.
 */
(function () {
  "use strict";
  var root = document.getElementById("diplomacy");
  if (!root) return;
  var SECTIONS = root.getAttribute("data-sections");
  var PREFIX = "diplomacy-";
  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    labels = {};
  }
  function t(text) {
    return typeof labels[text] === "string" && labels[text] ? labels[text] : text;
  }

  // -- the milestones' maps -------------------------------------------------------------------

  function drawGeometry(el) {
    if (!el.fusioncellMap || !window.L || el.getAttribute("data-drawn") === "yes") return;
    try {
      var layer = window.L.geoJSON(JSON.parse(el.getAttribute("data-geometry")), {
        style: { color: "#c62828", weight: 3 },
        pointToLayer: function (feature, latlng) {
          return window.L.circleMarker(latlng, { radius: 8, color: "#c62828", weight: 3, fillOpacity: 0.4 });
        }
      }).addTo(el.fusioncellMap.map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) el.fusioncellMap.map.fitBounds(bounds, { maxZoom: 12 });
      el.setAttribute("data-drawn", "yes");
    } catch (err) {
      el.setAttribute("data-drawn", "no");
    }
  }
  function watchMaps() {
    document.querySelectorAll(".dp-map[data-geometry]").forEach(function (el) {
      if (el.classList.contains("map-ready")) drawGeometry(el);
      else el.addEventListener("fusioncell:map-ready", function () { drawGeometry(el); });
    });
  }
  watchMaps();

  // -- live sections ---------------------------------------------------------------------------

  var busy = false;
  var again = false;
  var refreshed = 0;
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target && event.target.closest && event.target.closest(".dp-form")) dirty = true;
  });
  document.addEventListener("submit", function () {
    dirty = false;
  });

  function replace(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.querySelector("#" + SECTIONS);
    var current = document.getElementById(SECTIONS);
    if (!fresh || !current) return false;
    if (dirty && current.getAttribute("data-forms") !== null && current.getAttribute("data-forms") === fresh.getAttribute("data-forms")) {
      return false; // keep what is being typed; the next frame after it is sent refreshes
    }
    // Keep the maps drawn: their containers are moved over as they are.
    fresh.querySelectorAll(".dp-map[id]").forEach(function (node) {
      var old = document.getElementById(node.id);
      if (old) node.replaceWith(old);
    });
    current.replaceWith(fresh);
    return true;
  }

  function refresh() {
    if (!SECTIONS) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    window
      .fetch(window.location.pathname + window.location.search, {
        credentials: "same-origin",
        headers: { Accept: "text/html", "HX-Request": "true", "HX-Target": SECTIONS }
      })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(
        function (html) {
          if (html && replace(html)) {
            refreshed += 1;
            root.setAttribute("data-refreshed", String(refreshed));
            var notice = document.getElementById("dp-updated");
            if (notice) {
              notice.textContent = t("Updated.");
              notice.hidden = false;
            }
            if (window.fusioncellMap) window.fusioncellMap.initAll(document.getElementById(SECTIONS));
            watchMaps();
            tick();
          }
        },
        function () {}
      )
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  document.addEventListener("fusioncell:frame", function (event) {
    var kind = event.detail && event.detail.kind;
    if (typeof kind === "string" && kind.indexOf(PREFIX) === 0) refresh();
  });
  document.addEventListener("fusioncell:connection", function (event) {
    var state = event.detail && event.detail.state;
    root.setAttribute("data-live", state || "connecting");
    if (state === "open" && root.getAttribute("data-was-down") === "yes") refresh();
    if (state && state !== "open") root.setAttribute("data-was-down", "yes");
  });
  if (document.body.getAttribute("data-connection") === "open") root.setAttribute("data-live", "open");

  // -- countdowns ------------------------------------------------------------------------------

  var LATIN_UNITS = { day: "d", hour: "h", minute: "min", second: "s" };
  var unitFormats = {};
  function unit(value, name) {
    try {
      if (!unitFormats[name]) {
        unitFormats[name] = new Intl.NumberFormat(document.documentElement.lang || "en", {
          style: "unit",
          unit: name,
          unitDisplay: "short"
        });
      }
      return unitFormats[name].format(value);
    } catch (err) {
      return value + " " + LATIN_UNITS[name];
    }
  }

  function span(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    if (d) return unit(d, "day") + " " + unit(h, "hour");
    if (h) return unit(h, "hour") + " " + unit(m, "minute");
    return unit(m, "minute") + " " + unit(sec, "second");
  }

  var header = document.getElementById("header-clock");
  var skew = 0;
  if (header && header.getAttribute("data-now-ms")) skew = Number(header.getAttribute("data-now-ms")) - Date.now();
  if (!isFinite(skew)) skew = 0;

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".dp-countdown[data-deadline]").forEach(function (node) {
      var deadline = Number(node.getAttribute("data-deadline"));
      if (!deadline) return;
      var left = deadline - now;
      var text = left >= 0 ? t("due in %(time)s") : t("overdue by %(time)s");
      node.textContent = text.replace("%(time)s", span(Math.abs(left)));
      node.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
