/*
 * The map picker: a place for a form field, picked on a map instead of typed as GeoJSON.
 *
 * Markup (compose.html), placed just before the field's plain GeoJSON textarea, which stays
 * the submitted value and works without JavaScript:
 *
 *   <div class="map-picker" data-kinds="Point" data-input="compose-incident_alert-location"
 *        data-zones-url="..." data-sites-url="..." data-basemap-url="..." data-i18n='{...}'>
 *
 * data-kinds names what it draws: Point (a click places it), Polygon (clicks add corners) or
 * LineString (clicks add points along a route). A position can also be typed: latitude,
 * longitude in decimal degrees or an MGRS reference (map-coordinates.js). Every change writes
 * RFC 7946 GeoJSON into the textarea; typing GeoJSON there redraws the map. The zones and
 * sites are drawn by map.js. The map is built when the picker is first shown (a hidden
 * template's fieldset has no size), and its dependencies are loaded once, from this host.
 */
(function () {
  "use strict";

  if (window.fusioncellPicker) return;

  var ASSETS = [
    ["css", "/static/vendor/leaflet.css"],
    ["css", "/static/css/map.css"],
    ["js", "/static/vendor/leaflet.js", "L"],
    ["js", "/static/vendor/mgrs.min.js", "mgrs"],
    ["js", "/static/js/map-coordinates.js", "fusioncellCoords"],
    ["js", "/static/js/map.js", "fusioncellMap"]
  ];

  var LABELS = {
    Point: "Point",
    Polygon: "Area",
    LineString: "Route",
    undo: "Undo",
    clear: "Clear",
    place: "Place",
    typed: "Latitude, longitude or MGRS",
    hint_Point: "Click the map to place the point, or type its position.",
    hint_Polygon: "Click the map to add the area's corners; Undo takes back the last one.",
    hint_LineString: "Click the map to add points along the route; Undo takes back the last one.",
    bad_position: "Not a position: type latitude, longitude in degrees (33.21, 35.57) or MGRS.",
    few_Polygon: "An area needs at least three corners.",
    few_LineString: "A route needs at least two points.",
    bad_text: "The text below is not GeoJSON the map can draw."
  };
  var MINIMUM = { Point: 1, LineString: 2, Polygon: 3 };

  var loading = null;

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

  // One after the other: map.js needs Leaflet and map-coordinates.js before it runs.
  function ensureAssets() {
    if (!loading) {
      loading = ASSETS.reduce(function (chain, asset) {
        return chain.then(function () {
          return loadOne(asset);
        });
      }, Promise.resolve());
    }
    return loading;
  }

  function readLabels(holder) {
    var labels = {};
    var given = {};
    try {
      given = JSON.parse(holder.getAttribute("data-i18n") || "{}");
    } catch (err) {
      given = {};
    }
    Object.keys(LABELS).forEach(function (key) {
      labels[key] = typeof given[LABELS[key]] === "string" ? given[LABELS[key]] : LABELS[key];
    });
    return labels;
  }

  function button(text, cls) {
    var node = document.createElement("button");
    node.type = "button";
    node.className = "secondary " + cls;
    node.textContent = text;
    return node;
  }

  function Picker(holder) {
    this.holder = holder;
    this.input = document.getElementById(holder.getAttribute("data-input"));
    this.kind = (holder.getAttribute("data-kinds") || "Point").split(" ")[0];
    this.t = readLabels(holder);
    this.vertices = []; // [lat, lon] pairs
    this.build();
  }

  Picker.prototype.build = function () {
    var self = this;
    var holder = this.holder;
    var id = holder.getAttribute("data-input");

    var tools = document.createElement("div");
    tools.className = "map-picker-tools";
    var typedLabel = document.createElement("label");
    typedLabel.htmlFor = id + "-typed";
    typedLabel.textContent = this.t.typed;
    var typed = document.createElement("input");
    typed.type = "text";
    typed.id = id + "-typed";
    typed.className = "map-picker-typed";
    typed.setAttribute("dir", "ltr");
    typed.setAttribute("autocomplete", "off");
    typed.setAttribute("spellcheck", "false");
    var place = button(this.t.place, "map-picker-place");
    var undo = button(this.t.undo, "map-picker-undo");
    var clear = button(this.t.clear, "map-picker-clear");
    tools.appendChild(typedLabel);
    tools.appendChild(typed);
    tools.appendChild(place);
    if (this.kind !== "Point") tools.appendChild(undo);
    tools.appendChild(clear);

    var hint = document.createElement("p");
    hint.className = "hint map-picker-hint";
    hint.textContent = this.t["hint_" + this.kind] || this.t.hint_Point;
    var status = document.createElement("p");
    status.className = "field-error map-picker-status";
    status.setAttribute("role", "status");
    status.hidden = true;

    var mapEl = document.createElement("div");
    mapEl.className = "picker-map";
    mapEl.setAttribute("data-legend", "off");
    mapEl.setAttribute("data-popups", "off");
    ["data-zones-url", "data-sites-url", "data-basemap-url", "data-i18n"].forEach(function (name) {
      var value = holder.getAttribute(name);
      if (value) mapEl.setAttribute(name, value);
    });

    holder.appendChild(hint);
    holder.appendChild(mapEl);
    holder.appendChild(tools);
    holder.appendChild(status);
    this.typed = typed;
    this.status = status;
    this.mapEl = mapEl;

    typed.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // not a submit of the whole message
        self.placeTyped();
      }
    });
    place.addEventListener("click", function () {
      self.placeTyped();
    });
    undo.addEventListener("click", function () {
      self.vertices.pop();
      self.changed();
    });
    clear.addEventListener("click", function () {
      self.vertices = [];
      self.changed();
    });
    if (this.input) {
      this.input.addEventListener("input", function () {
        self.readInput(true);
      });
    }
    this.whenShown();
  };

  // Leaflet measures its container once: build the map when the picker first has a size.
  Picker.prototype.whenShown = function () {
    var self = this;
    if (typeof window.ResizeObserver !== "function") {
      this.start();
      return;
    }
    var observer = new window.ResizeObserver(function () {
      if (self.mapEl.offsetWidth > 0 && self.mapEl.offsetHeight > 0) {
        if (!self.map) {
          self.start();
        } else {
          self.map.invalidateSize();
        }
      }
    });
    observer.observe(this.mapEl);
  };

  Picker.prototype.start = function () {
    var self = this;
    var controller = window.fusioncellMap.init(this.mapEl);
    if (!controller) return;
    this.controller = controller;
    this.map = controller.map;
    this.shapes = L.layerGroup().addTo(this.map);
    this.map.on("click", function (event) {
      self.add(event.latlng.lat, L.Util.wrapNum(event.latlng.lng, [-180, 180], true));
    });
    this.readInput(false);
    this.holder.setAttribute("data-picker-ready", "true");
  };

  Picker.prototype.say = function (text) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
  };

  Picker.prototype.placeTyped = function () {
    var found = window.fusioncellCoords.parse(this.typed.value);
    if (!found) {
      this.say(this.t.bad_position);
      this.typed.setAttribute("aria-invalid", "true");
      return;
    }
    this.typed.removeAttribute("aria-invalid");
    this.typed.value = "";
    this.add(found.lat, found.lon);
    if (this.map) this.map.panTo([found.lat, found.lon]);
  };

  Picker.prototype.add = function (lat, lon) {
    var round = window.fusioncellCoords.round;
    var vertex = [round(lat), round(lon)];
    if (this.kind === "Point") {
      this.vertices = [vertex];
    } else {
      this.vertices.push(vertex);
    }
    this.changed();
  };

  // The GeoJSON for the vertices so far, or null while there are too few.
  Picker.prototype.geometry = function () {
    var positions = this.vertices.map(function (v) {
      return [v[1], v[0]];
    });
    if (positions.length < MINIMUM[this.kind]) return null;
    if (this.kind === "Point") return { type: "Point", coordinates: positions[0] };
    if (this.kind === "LineString") return { type: "LineString", coordinates: positions };
    return { type: "Polygon", coordinates: [positions.concat([positions[0]])] };
  };

  Picker.prototype.changed = function () {
    var geometry = this.geometry();
    if (this.input) this.input.value = geometry ? JSON.stringify(geometry) : "";
    this.holder.setAttribute("data-vertices", String(this.vertices.length));
    var few = this.vertices.length && !geometry ? this.t["few_" + this.kind] : "";
    this.say(few);
    this.draw();
  };

  Picker.prototype.draw = function () {
    if (!this.shapes) return;
    this.shapes.clearLayers();
    var style = { className: "picked", color: "#d9480f", weight: 3, fillOpacity: 0.2 };
    var v = this.vertices;
    if (this.kind === "Point" && v.length) {
      L.marker(v[0], { keyboard: false }).addTo(this.shapes);
    } else if (this.kind === "Polygon" && v.length >= 3) {
      L.polygon(v, style).addTo(this.shapes);
    } else if (v.length >= 2) {
      L.polyline(v, style).addTo(this.shapes);
    }
    if (this.kind !== "Point") {
      var shapes = this.shapes;
      v.forEach(function (vertex) {
        L.circleMarker(vertex, { className: "picked-vertex", radius: 4, color: "#d9480f" }).addTo(
          shapes
        );
      });
    }
  };

  // The textarea's GeoJSON, drawn; typing something the map cannot draw says so.
  Picker.prototype.readInput = function (typing) {
    var text = this.input ? this.input.value.trim() : "";
    var parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        parsed = null;
      }
    }
    var vertices = parsed ? this.verticesOf(parsed) : null;
    if (text && !vertices) {
      if (typing) this.say(this.t.bad_text);
      return;
    }
    this.vertices = vertices || [];
    this.holder.setAttribute("data-vertices", String(this.vertices.length));
    this.say("");
    this.draw();
    if (!typing && this.vertices.length && this.map) {
      this.map.fitBounds(L.latLngBounds(this.vertices), { maxZoom: 11, animate: false });
      this.controller.fitted = true; // the zones, when they arrive, keep this view
    }
  };

  Picker.prototype.verticesOf = function (geometry) {
    if (!geometry || geometry.type !== this.kind || !Array.isArray(geometry.coordinates)) {
      return null;
    }
    var c = geometry.coordinates;
    var positions = this.kind === "Point" ? [c] : this.kind === "Polygon" ? c[0] : c;
    if (!Array.isArray(positions)) return null;
    if (this.kind === "Polygon") positions = positions.slice(0, -1);
    var vertices = [];
    for (var i = 0; i < positions.length; i++) {
      var p = positions[i];
      if (!Array.isArray(p) || typeof p[0] !== "number" || typeof p[1] !== "number") return null;
      vertices.push([p[1], p[0]]);
    }
    return vertices;
  };

  function initAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var holders = scope.querySelectorAll(".map-picker:not([data-picker])");
    if (!holders.length) return;
    ensureAssets().then(
      function () {
        for (var i = 0; i < holders.length; i++) {
          if (holders[i].hasAttribute("data-picker")) continue;
          holders[i].setAttribute("data-picker", "true");
          holders[i].fusioncellPicker = new Picker(holders[i]);
        }
      },
      function (err) {
        if (window.console) window.console.error("fusioncell map picker:", err);
      }
    );
  }

  window.fusioncellPicker = { initAll: initAll };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      initAll(document);
    });
  } else {
    initAll(document);
  }
  document.addEventListener("htmx:load", function (event) {
    initAll(event.target);
  });
})();
