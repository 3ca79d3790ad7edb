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
 * Plain script, no build step (after live-page.js); labels come translated in data-i18n.
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

  var live = window.fusioncellLivePage;
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

  // Keep the map drawn: its container is moved over as it is.
  function keepMap(current, fresh) {
    var oldMap = current.querySelector("#cm-map");
    var newMap = fresh.querySelector("#cm-map");
    if (oldMap && newMap) {
      oldMap.setAttribute("data-locations", newMap.getAttribute("data-locations") || "");
      newMap.replaceWith(oldMap);
    }
  }

  var tick = live.countdowns(".cm-countdown[data-deadline]", t("due in %(time)s"), t("overdue by %(time)s"));
  live.watch({
    root: root,
    sections: SECTIONS,
    prefix: PREFIX,
    replace: function (html) {
      var current = document.getElementById(SECTIONS);
      var values = dirty && current ? typed(current) : null;
      if (!live.swap(html, SECTIONS, keepMap)) return false;
      var placed = document.getElementById(SECTIONS);
      if (values && placed) restore(placed, values);
      return true;
    },
    after: function () {
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
  });
})();
