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
 *   page's language, on the cell's clock (live-page.js).
 * - A milestone's positions (.dp-map[data-geometry]) are drawn on the offline map.
 *
 * Plain script, no build step, after live-page.js; labels come translated in data-i18n.
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

  // -- live sections and countdowns (live-page.js) -------------------------------------------

  var live = window.fusioncellLivePage;
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target && event.target.closest && event.target.closest(".dp-form")) dirty = true;
  });
  document.addEventListener("submit", function () {
    dirty = false;
  });

  function replace(html) {
    var current = document.getElementById(SECTIONS);
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.querySelector("#" + SECTIONS);
    if (!fresh || !current) return false;
    // Keep what is being typed while the same forms are offered; the next frame after it is
    // sent refreshes.
    var forms = current.getAttribute("data-forms");
    if (dirty && forms !== null && forms === fresh.getAttribute("data-forms")) return false;
    return live.swap(html, SECTIONS, function (old, incoming) {
      // Keep the maps drawn: their containers are moved over as they are.
      incoming.querySelectorAll(".dp-map[id]").forEach(function (node) {
        var drawn = old.querySelector("#" + node.id);
        if (drawn) node.replaceWith(drawn);
      });
    });
  }

  var tick = live.countdowns(".dp-countdown[data-deadline]", t("due in %(time)s"), t("overdue by %(time)s"));
  live.watch({
    root: root,
    sections: SECTIONS,
    prefix: PREFIX,
    replace: replace,
    after: function () {
      var notice = document.getElementById("dp-updated");
      if (notice) {
        notice.textContent = t("Updated.");
        notice.hidden = false;
      }
      if (window.fusioncellMap) window.fusioncellMap.initAll(document.getElementById(SECTIONS));
      watchMaps();
      tick();
    }
  });
})();
