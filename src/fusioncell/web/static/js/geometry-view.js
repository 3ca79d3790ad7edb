/*
 * A message's place on a small map, in its row (hotline/geometry.html):
 *
 *   <div class="geometry-map" data-fields='{"location": {"type": "Point", ...}, ...}'
 *        data-basemap-url="/static/vendor/basemap.geojson"></div>
 *
 * Every field value that is a GeoJSON geometry is drawn (a point as a marker) over the
 * country outlines, and the map zooms to it; data-drawn then holds the number of shapes.
 * The map is a still picture (no dragging or zooming): "Show on the main map" is the link for
 * more. Rows arrive later too (a live message, a page of older ones), so new maps are drawn
 * as they enter the page. Leaflet is loaded once, from this host, if the page lacks it.
 */
(function () {
  "use strict";

  if (window.fusioncellGeometryView) return;

  var ASSETS = [
    ["css", "/static/vendor/leaflet.css"],
    ["css", "/static/css/map.css"],
    ["js", "/static/vendor/leaflet.js", "L"]
  ];
  var loading = null;
  var basemaps = {};

  function loadOne(asset) {
    if (asset[0] === "js" && window[asset[2]]) return Promise.resolve();
    if (asset[0] === "css" && document.querySelector('link[href="' + asset[1] + '"]')) {
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      var node = document.createElement(asset[0] === "css" ? "link" : "script");
      if (asset[0] === "css") {
        node.rel = "stylesheet";
        node.href = asset[1];
      } else {
        node.src = asset[1];
        node.async = false;
      }
      node.onload = function () {
        resolve();
      };
      node.onerror = function () {
        reject(new Error(asset[1] + " could not be loaded"));
      };
      document.head.appendChild(node);
    });
  }

  function ensureAssets() {
    if (!loading) loading = Promise.all(ASSETS.map(loadOne));
    return loading;
  }

  function basemap(url) {
    if (!basemaps[url]) {
      basemaps[url] = window
        .fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(null, function () {
          return null;
        });
    }
    return basemaps[url];
  }

  function geometriesOf(fields) {
    var found = [];
    Object.keys(fields || {}).forEach(function (name) {
      var value = fields[name];
      if (value && typeof value === "object" && typeof value.type === "string" && value.coordinates) {
        found.push(value);
      }
    });
    return found;
  }

  function cssVar(el, name, fallback) {
    var value = window.getComputedStyle(el).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function draw(el) {
    el.setAttribute("data-drawn", "0");
    var fields;
    try {
      fields = JSON.parse(el.getAttribute("data-fields") || "{}");
    } catch (err) {
      return;
    }
    var geometries = geometriesOf(fields);
    if (!geometries.length) return;
    var map = L.map(el, {
      zoomControl: false,
      attributionControl: false,
      dragging: false,
      scrollWheelZoom: false,
      doubleClickZoom: false,
      boxZoom: false,
      keyboard: false,
      touchZoom: false,
      tap: false
    });
    var colour = cssVar(el, "--map-highlight", "#d9480f");
    var shapes = L.geoJSON(geometries, {
      style: function () {
        return { className: "highlight", color: colour, weight: 3, fillOpacity: 0.25 };
      },
      pointToLayer: function (feature, latlng) {
        return L.marker(latlng, { keyboard: false, interactive: false });
      }
    }).addTo(map);
    map.fitBounds(shapes.getBounds(), { maxZoom: 9, padding: [12, 12], animate: false });
    el.setAttribute("data-drawn", String(shapes.getLayers().length));
    el.fusioncellGeometryMap = map;
    var url = el.getAttribute("data-basemap-url");
    if (url) {
      basemap(url).then(function (data) {
        if (!data) return;
        L.geoJSON(data, {
          interactive: false,
          style: function () {
            return {
              className: "basemap",
              color: cssVar(el, "--map-border", "#a8a8a8"),
              weight: 1,
              fillColor: cssVar(el, "--map-land", "#fbfbf8"),
              fillOpacity: 1
            };
          }
        })
          .addTo(map)
          .bringToBack();
      });
    }
    if (typeof window.ResizeObserver === "function") {
      new window.ResizeObserver(function () {
        map.invalidateSize();
      }).observe(el);
    }
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var found = [];
    if (scope.matches && scope.matches(".geometry-map:not([data-drawn])")) found.push(scope);
    var list = scope.querySelectorAll(".geometry-map:not([data-drawn])");
    for (var i = 0; i < list.length; i++) found.push(list[i]);
    if (!found.length) return;
    ensureAssets().then(
      function () {
        found.forEach(function (el) {
          if (!el.hasAttribute("data-drawn") && el.isConnected) draw(el);
        });
      },
      function (err) {
        if (window.console) window.console.error("fusioncell geometry view:", err);
      }
    );
  }

  window.fusioncellGeometryView = { drawAll: drawAll };

  function start() {
    drawAll(document);
    new window.MutationObserver(function (records) {
      records.forEach(function (record) {
        for (var i = 0; i < record.addedNodes.length; i++) {
          if (record.addedNodes[i].nodeType === 1) drawAll(record.addedNodes[i]);
        }
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
