/*
 * The disputes pages (the cases, a case's file, the statistics), live.
 *
 * - When the track's frames arrive on the page's one stream (console.js dispatches each as a
 *   "fusioncell:frame" event; the track's kinds start with "verification-": a step of a case,
 *   a comment sealed or revealed, an escalation, a file stored), the page fetches its
 *   sections again (the same address with HX-Target: <data-sections>, read through the
 *   policy like the page) and puts them in place: one request per burst. A form the member
 *   has begun to fill in is kept as it is while the forms offered stay the same.
 *   #verification gets data-live from the stream's state and data-refreshed (a count).
 * - Countdowns (<time class="vf-countdown" data-deadline="ms">) tick each second, in the
 *   page's language.
 * - A case's map (#vf-map, drawn by map.js with the zones) gets a marker at the place the
 *   filer gives, and one at each place a file's EXIF names (read, not trusted).
 *
 * Plain script, no build step (after live-page.js); labels come translated in data-i18n.
 */
(function () {
  "use strict";
  var root = document.getElementById("verification");
  if (!root) return;
  var SECTIONS = root.getAttribute("data-sections");
  var PREFIX = "verification-";
  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    labels = {};
  }
  function t(text) {
    return typeof labels[text] === "string" && labels[text] ? labels[text] : text;
  }

  // -- the case's map ------------------------------------------------------------------------

  var markers = null;
  function drawPlace() {
    var el = document.getElementById("vf-map");
    if (!el || !el.fusioncellMap || !window.L) return;
    var map = el.fusioncellMap.map;
    if (markers) map.removeLayer(markers);
    markers = window.L.layerGroup().addTo(map);
    var lon = Number(el.getAttribute("data-lon"));
    var lat = Number(el.getAttribute("data-lat"));
    var drawn = 0;
    if (isFinite(lon) && isFinite(lat)) {
      window.L.circleMarker([lat, lon], { radius: 8, color: "#c62828", weight: 3, fillOpacity: 0.5, className: "vf-place-marker" }).addTo(markers);
      map.setView([lat, lon], 11);
      drawn += 1;
    }
    (el.getAttribute("data-exif") || "").split(";").forEach(function (pair) {
      var parts = pair.split(",");
      if (parts.length !== 2) return;
      var x = Number(parts[0]);
      var y = Number(parts[1]);
      if (!isFinite(x) || !isFinite(y)) return;
      window.L.circleMarker([y, x], { radius: 6, color: "#8a5a00", weight: 2, dashArray: "3 3", fillOpacity: 0.2, className: "vf-exif-marker" }).addTo(markers);
      drawn += 1;
    });
    el.setAttribute("data-place-drawn", String(drawn));
  }
  function watchMap() {
    var el = document.getElementById("vf-map");
    if (!el) return;
    if (el.classList.contains("map-ready")) drawPlace();
    else el.addEventListener("fusioncell:map-ready", drawPlace);
  }
  watchMap();

  // -- live sections and countdowns (live-page.js) -------------------------------------------

  var live = window.fusioncellLivePage;
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target && event.target.closest && event.target.closest("#vf-actions")) dirty = true;
  });
  document.addEventListener("submit", function () {
    dirty = false;
  });

  function keep(current, fresh) {
    // Keep a form being filled in while the same forms are offered.
    var oldActions = current.querySelector("#vf-actions");
    var newActions = fresh.querySelector("#vf-actions");
    if (dirty && oldActions && newActions && oldActions.getAttribute("data-forms") === newActions.getAttribute("data-forms")) {
      newActions.replaceWith(oldActions);
    }
    // Keep the map drawn: its container is moved over as it is.
    var oldMap = current.querySelector("#vf-map");
    var newMap = fresh.querySelector("#vf-map");
    if (oldMap && newMap) {
      oldMap.setAttribute("data-exif", newMap.getAttribute("data-exif") || "");
      newMap.replaceWith(oldMap);
    }
  }

  var tick = live.countdowns(".vf-countdown[data-deadline]", t("due in %(time)s"), t("overdue by %(time)s"));
  live.watch({
    root: root,
    sections: SECTIONS,
    prefix: PREFIX,
    replace: function (html) {
      return live.swap(html, SECTIONS, keep);
    },
    after: function () {
      var fresh = document.getElementById(SECTIONS);
      var state = document.getElementById("vf-state");
      if (fresh && state && fresh.getAttribute("data-state")) state.setAttribute("data-state", fresh.getAttribute("data-state"));
      var notice = document.getElementById("vf-updated");
      if (notice) {
        notice.textContent = t("Updated.");
        notice.hidden = false;
      }
      drawPlace();
      tick();
    }
  });
})();
