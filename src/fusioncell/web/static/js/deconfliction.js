/*
 * The deconfliction pages (notifications, protected places, incidents and alerts), live.
 *
 * - When the track's frames arrive on the page's one stream (console.js dispatches each as a
 *   "fusioncell:frame" event; the track's kinds start with "deconfliction-": a notification,
 *   an acknowledgement, a conflict check, a place, a list, an incident, an alert), the page
 *   fetches its sections again (the same address with HX-Target: <data-sections>, read
 *   through the policy like the page) and puts them in place: one request per burst.
 *   #deconfliction gets data-live from the stream's state and data-refreshed (a count).
 * - The map (#dc-map, drawn by map.js with the zones and sites) gets the page's own layer
 *   from the sections' <script type="application/json" class="dc-map-data">: each
 *   notification's buffer and shape (a convoy's route dashed, a conflict in red), the
 *   registry's places, incidents. data-overlay-drawn says how many features it drew.
 * - Countdowns (<time class="dc-countdown" data-deadline="ms">) tick each second.
 * - The compose form shows the lead-time verdict for what it holds before anything is sent
 *   (GET /deconfliction/preview), offers the categories of the kind chosen, and redraws its
 *   map picker for a point, a route or an area. The incident form hashes chosen files with
 *   WebCrypto (SHA-256); the files never leave the device.
 *
 * Plain script, no build step; labels come translated in data-i18n.
 */
(function () {
  "use strict";
  var root = document.getElementById("deconfliction");
  if (!root) return;
  var SECTIONS = root.getAttribute("data-sections");
  var PREFIX = "deconfliction-";
  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    labels = {};
  }
  function t(text) {
    return typeof labels[text] === "string" && labels[text] ? labels[text] : text;
  }

  // -- the map's own layer -------------------------------------------------------------------

  var mapEl = document.getElementById("dc-map");
  var overlay = null;
  var fitted = false;

  function overlayData() {
    var holder = document.querySelector("#" + SECTIONS + " .dc-map-data");
    if (!holder) return null;
    try {
      return JSON.parse(holder.textContent || "null");
    } catch (err) {
      return null;
    }
  }

  function styleOf(feature) {
    var p = feature.properties || {};
    if (p.role === "buffer") {
      return {
        className: "dc-buffer" + (p.conflict ? " conflict" : ""),
        color: p.conflict ? "#c62828" : "#1f5f8b",
        weight: 1,
        dashArray: "4 4",
        fillOpacity: p.conflict ? 0.18 : 0.1
      };
    }
    if (p.role === "shape") {
      var colour = p.conflict ? "#c62828" : p.kind === "activity" ? "#a84300" : p.kind === "movement" ? "#1f5f8b" : "#6a51a3";
      return {
        className: "dc-shape kind-" + p.kind + (p.conflict ? " conflict" : ""),
        color: colour,
        weight: p.kind === "movement" ? 4 : 2,
        dashArray: p.kind === "movement" ? "10 6" : null,
        fillOpacity: 0.25
      };
    }
    if (p.role === "place") {
      return {
        className: "dc-place" + (p.agreed ? " agreed" : " proposed"),
        color: p.agreed ? "#1e7b34" : "#5f646c",
        weight: 2,
        dashArray: p.agreed ? null : "3 5",
        fillOpacity: p.agreed ? 0.15 : 0.05
      };
    }
    return { color: "#c62828", weight: 2 };
  }

  function popupOf(feature) {
    var p = feature.properties || {};
    var box = document.createElement("div");
    box.className = "map-popup";
    var title = document.createElement("strong");
    title.textContent = p.title || "";
    box.appendChild(title);
    if (p.detail) {
      var line = document.createElement("div");
      line.textContent = p.detail;
      box.appendChild(line);
    }
    if (p.url && p.url.charAt(0) === "#") {
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = "→";
      box.appendChild(link);
    }
    return box;
  }

  function drawOverlay() {
    if (!mapEl || !mapEl.fusioncellMap || !window.L) return;
    var map = mapEl.fusioncellMap.map;
    var data = overlayData();
    if (overlay) {
      map.removeLayer(overlay);
      overlay = null;
    }
    var count = 0;
    if (data && data.features) {
      overlay = window.L.geoJSON(data, {
        style: styleOf,
        pointToLayer: function (feature, latlng) {
          var p = feature.properties || {};
          return window.L.circleMarker(latlng, {
            radius: p.role === "incident" ? 7 : 6,
            className: "dc-point role-" + p.role + (p.conflict ? " conflict" : ""),
            color: p.role === "incident" ? "#c62828" : styleOf(feature).color,
            weight: 2,
            fillOpacity: 0.7
          });
        },
        onEachFeature: function (feature, layer) {
          count += 1;
          layer.bindPopup(popupOf(feature));
        }
      }).addTo(map);
      if (!fitted && count) {
        var bounds = overlay.getBounds();
        if (bounds.isValid()) {
          map.fitBounds(bounds.pad(0.25), { maxZoom: 11 });
          fitted = true;
        }
      }
    }
    mapEl.setAttribute("data-overlay-drawn", String(count));
  }

  if (mapEl) {
    mapEl.addEventListener("fusioncell:map-ready", drawOverlay);
    if (mapEl.classList.contains("map-ready")) drawOverlay();
  }

  // -- live sections and countdowns (live-page.js) -------------------------------------------

  var live = window.fusioncellLivePage;

  function keepOpen(current, fresh) {
    current.querySelectorAll("details[open]").forEach(function (node) {
      var owner = node.closest("[id]");
      if (!owner) return;
      var twin = fresh.querySelector("#" + owner.id + " details." + (node.className || "x").split(" ")[0]);
      if (twin) twin.open = true;
    });
  }

  var tick = live.countdowns(".dc-countdown[data-deadline]", t("due in %(time)s"), t("overdue by %(time)s"));
  live.watch({
    root: root,
    sections: SECTIONS,
    prefix: PREFIX,
    replace: function (html) {
      return live.swap(html, SECTIONS, keepOpen);
    },
    after: function () {
      var notice = document.getElementById("dc-updated");
      if (notice) {
        notice.textContent = t("Updated.");
        notice.hidden = false;
      }
      drawOverlay();
      tick();
    }
  });

  // -- the forms -------------------------------------------------------------------------------

  function rebuildPicker(select) {
    var target = select.getAttribute("data-for");
    var holder = document.querySelector('.map-picker[data-input="' + target + '"]');
    if (!holder || holder.getAttribute("data-kinds") === select.value) return;
    var fresh = holder.cloneNode(false);
    fresh.removeAttribute("data-picker");
    fresh.setAttribute("data-kinds", select.value);
    holder.replaceWith(fresh);
    var input = document.getElementById(target);
    if (input) input.value = "";
    if (window.fusioncellPicker) window.fusioncellPicker.initAll(fresh.parentNode);
  }
  document.querySelectorAll("select[data-for]").forEach(function (select) {
    select.addEventListener("change", function () {
      rebuildPicker(select);
    });
  });

  var compose = document.getElementById("compose-form");
  if (compose) {
    var kind = document.getElementById("compose-kind");
    var category = document.getElementById("compose-category");
    var shape = document.getElementById("compose-shape");
    var verdictBox = document.getElementById("compose-verdict");
    var SHAPES = { movement: "LineString", site: "Point", emergency: "Point", activity: "Polygon" };

    var applyKind = function (initial) {
      var chosen = kind.value;
      category.querySelectorAll("option[data-kind]").forEach(function (option) {
        var mine = option.getAttribute("data-kind") === chosen;
        option.hidden = !mine;
        option.disabled = !mine;
        if (!mine && option.selected) category.value = "";
      });
      compose.querySelectorAll("fieldset[data-kinds]").forEach(function (set) {
        set.hidden = set.getAttribute("data-kinds").split(" ").indexOf(chosen) < 0;
      });
      var geometry = document.getElementById("compose-geometry");
      if (shape && SHAPES[chosen] && !(initial && geometry && geometry.value)) {
        shape.value = SHAPES[chosen];
        rebuildPicker(shape);
      }
      shape.disabled = chosen === "movement";
    };
    kind.addEventListener("change", function () {
      applyKind(false);
      preview();
    });
    applyKind(true);

    var timer = null;
    var preview = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var params = new URLSearchParams();
        ["kind", "starts_at", "geometry"].forEach(function (name) {
          var field = compose.elements[name];
          if (field && field.value) params.set(name, field.value);
        });
        if (compose.elements.flash && compose.elements.flash.checked) params.set("flash", "on");
        window
          .fetch(compose.getAttribute("data-preview") + "?" + params.toString(), {
            credentials: "same-origin",
            headers: { Accept: "text/html" }
          })
          .then(function (response) {
            return response.ok ? response.text() : null;
          })
          .then(function (html) {
            if (html !== null && verdictBox) verdictBox.innerHTML = html;
          }, function () {});
      }, 300);
    };
    compose.addEventListener("input", preview);
    compose.addEventListener("change", preview);
  }

  var propose = document.getElementById("propose-kind");
  if (propose) {
    var proposeShape = document.getElementById("propose-shape");
    propose.addEventListener("change", function () {
      proposeShape.value = propose.value === "community" ? "Polygon" : "Point";
      rebuildPicker(proposeShape);
    });
  }

  var affects = document.getElementById("report-affects");
  var target = document.getElementById("report-target");
  if (affects && target) {
    var filter = function () {
      target.querySelectorAll("option[data-affects]").forEach(function (option) {
        var mine = option.getAttribute("data-affects") === affects.value;
        option.hidden = !mine;
        option.disabled = !mine;
        if (!mine && option.selected) target.value = "";
      });
    };
    affects.addEventListener("change", filter);
    filter();
  }

  var files = document.getElementById("report-files");
  if (files && window.crypto && window.crypto.subtle) {
    files.addEventListener("change", function () {
      var out = document.getElementById(files.getAttribute("data-target"));
      Array.prototype.forEach.call(files.files || [], function (file) {
        file.arrayBuffer().then(function (buffer) {
          return window.crypto.subtle.digest("SHA-256", buffer).then(function (digest) {
            var hex = Array.prototype.map
              .call(new Uint8Array(digest), function (b) {
                return (b < 16 ? "0" : "") + b.toString(16);
              })
              .join("");
            out.value = (out.value ? out.value.replace(/\s+$/, "") + "\n" : "") + hex + " " + file.name;
          });
        });
      });
    });
  }
})();
