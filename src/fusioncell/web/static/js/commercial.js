/*
 * The commercial pages (the projects, a project's file, the statistics), live.
 *
 * - When the track's frames arrive on the page's one stream (console.js dispatches each as a
 *   "fusioncell:frame" event; the track's kinds start with "commercial-": a project's step, a
 *   milestone's, a shipment's, a file stored), the page fetches its sections again (the same
 *   address with HX-Target: <data-sections>, read through the policy like the page) and puts
 *   them in place: one request per burst. What the member has typed into a form is carried
 *   over to the same form in the new sections. #commercial gets data-live from the stream's
 *   state and data-refreshed (a count).
 * - Countdowns (<time class="cm-countdown" data-deadline="ms">) tick each second, in the
 *   page's language.
 * - A project's map (#cm-map, drawn by map.js with the zones) gets the project's locations
 *   (data-locations, a GeoJSON FeatureCollection) and zooms to them; data-locations-drawn
 *   then holds their number.
 *
 * Plain script, no build step; labels come translated in data-i18n.
 */
(function () {
  "use strict";
  var root = document.getElementById("commercial");
  if (!root) return;
  var SECTIONS = root.getAttribute("data-sections");
  var PREFIX = "commercial-";
  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    labels = {};
  }
  function t(text) {
    return typeof labels[text] === "string" && labels[text] ? labels[text] : text;
  }

  // -- the project's map ---------------------------------------------------------------------

  var drawn = null;
  function drawLocations() {
    var el = document.getElementById("cm-map");
    if (!el || !el.fusioncellMap || !window.L) return;
    var map = el.fusioncellMap.map;
    if (drawn) map.removeLayer(drawn);
    var data = null;
    try {
      data = JSON.parse(el.getAttribute("data-locations") || "null");
    } catch (err) {
      data = null;
    }
    if (!data) return;
    drawn = window.L.geoJSON(data, {
      style: function () {
        return { color: "#1565c0", weight: 4, fillOpacity: 0.25, className: "cm-location" };
      },
      pointToLayer: function (feature, latlng) {
        return window.L.circleMarker(latlng, { radius: 8, color: "#1565c0", weight: 3, fillOpacity: 0.5, className: "cm-location" });
      },
      onEachFeature: function (feature, layer) {
        var name = feature.properties && feature.properties.name;
        if (name) layer.bindTooltip(String(name));
      }
    }).addTo(map);
    var bounds = drawn.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.5), { maxZoom: 11 });
    el.setAttribute("data-locations-drawn", String(drawn.getLayers().length));
  }
  function watchMap() {
    var el = document.getElementById("cm-map");
    if (!el) return;
    if (el.classList.contains("map-ready")) drawLocations();
    else el.addEventListener("fusioncell:map-ready", drawLocations);
  }
  watchMap();

  // -- live sections ---------------------------------------------------------------------------

  var busy = false;
  var again = false;
  var refreshed = 0;
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target && event.target.closest && event.target.closest("form[data-form]")) dirty = true;
  });
  document.addEventListener("submit", function () {
    dirty = false;
  });

  var SKIP = { csrf_token: true, id: true };
  function typed(scope) {
    var found = {};
    scope.querySelectorAll("form[data-form]").forEach(function (form) {
      var key = form.getAttribute("action");
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || SKIP[field.name] || field.type === "file" || field.type === "submit") return;
        var value = field.type === "checkbox" ? field.checked : field.value;
        found[key + "\u0000" + field.name + "\u0000" + (field.type === "checkbox" ? field.value : "")] = value;
      });
    });
    return found;
  }
  function restore(scope, values) {
    scope.querySelectorAll("form[data-form]").forEach(function (form) {
      var key = form.getAttribute("action");
      Array.prototype.forEach.call(form.elements, function (field) {
        var name = key + "\u0000" + field.name + "\u0000" + (field.type === "checkbox" ? field.value : "");
        if (!(name in values)) return;
        if (field.type === "checkbox") field.checked = values[name];
        else field.value = values[name];
      });
    });
  }

  function replace(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.querySelector("#" + SECTIONS);
    var current = document.getElementById(SECTIONS);
    if (!fresh || !current) return false;
    var values = dirty ? typed(current) : null;
    // Keep the map drawn: its container is moved over as it is.
    var oldMap = current.querySelector("#cm-map");
    var newMap = fresh.querySelector("#cm-map");
    if (oldMap && newMap) {
      oldMap.setAttribute("data-locations", newMap.getAttribute("data-locations") || "");
      newMap.replaceWith(oldMap);
    }
    current.replaceWith(fresh);
    var placed = document.getElementById(SECTIONS);
    if (values && placed) restore(placed, values);
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
            var fresh = document.getElementById(SECTIONS);
            var status = document.getElementById("cm-status");
            if (fresh && status && fresh.getAttribute("data-status")) status.setAttribute("data-status", fresh.getAttribute("data-status"));
            var notice = document.getElementById("cm-updated");
            if (notice) {
              notice.textContent = t("Updated.");
              notice.hidden = false;
            }
            drawLocations();
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

  // The server's clock, as the header gives it: a countdown counts from the cell's time.
  var header = document.getElementById("header-clock");
  var skew = 0;
  if (header && header.getAttribute("data-now-ms")) skew = Number(header.getAttribute("data-now-ms")) - Date.now();
  if (!isFinite(skew)) skew = 0;

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".cm-countdown[data-deadline]").forEach(function (node) {
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
