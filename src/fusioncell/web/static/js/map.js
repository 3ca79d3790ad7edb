/*
 * fusioncell map: Leaflet with no tile layer (the UI runs air-gapped).
 *
 * Markup (the server fills the URLs and the translated labels):
 *
 *   <div id="map" class="map"
 *        data-basemap-url="/static/vendor/basemap.geojson"
 *        data-zones-url="/geo/zones.geojson"
 *        data-sites-url="/geo/sites.geojson"
 *        data-i18n='{"layer_basemap": "Basemap", "Protected sites": "...", ...}'></div>
 *
 * Draws the basemap (country outlines), then the zones (properties: kind
 * separation|limitation|sector, side ALPHA|BRAVO|null, band "0-10"|"10-20"|"20-25", name),
 * then the sites (Point features, kind protected_site) as circle markers. When everything is
 * drawn it sets data-zones-drawn / data-sites-drawn / data-basemap-drawn (feature counts),
 * adds the class "map-ready" and dispatches "fusioncell:map-ready" on the element. If zones or
 * sites cannot be loaded it adds "map-error" and data-map-error instead. Zone paths carry the
 * classes "zone zone-<kind>", site markers "site".
 *
 * Every map has a scale bar, zone names as labels and a read-out of the pointer's position
 * in decimal degrees and MGRS (map-coordinates.js); on right-to-left pages the controls sit
 * in the mirrored corners. data-legend="off" leaves the legend out and data-popups="off"
 * makes zones and sites ignore clicks, so that they reach the map (the compose form's
 * picker). On the map page, ?show=<message id> draws that message's geometry highlighted
 * (class "highlight") and zooms to it, then sets data-shown (the number of shapes drawn).
 *
 * No build step and no modules: a plain script (needs fetch and Promise), loaded after
 * vendor/leaflet.js, vendor/mgrs.min.js and map-coordinates.js. window.fusioncellMap.init(el)
 * returns the controller; its load() refetches zones and sites and redraws them.
 */
(function () {
  "use strict";

  if (window.fusioncellMap) return; // loaded twice (a page's tag and a picker's loader)

  // English fallbacks for every fixed label. data-i18n overrides any of them, keyed by the
  // id on the left or by the English text on the right (so a server can send
  // {msgid: gettext(msgid)}).
  var DEFAULT_I18N = {
    layer_basemap: "Basemap",
    layer_separation: "Area of separation",
    layer_limitation: "Areas of limitation",
    layer_sector: "Sectors",
    layer_other: "Other zones",
    layer_sites: "Protected sites",
    kind_separation: "Area of separation",
    kind_limitation: "Area of limitation",
    kind_sector: "Sector",
    kind_protected_site: "Protected site",
    side: "Side",
    band: "Band",
    km: "km",
    legend: "Legend",
    not_authoritative: "Not authoritative",
    load_error: "The map data could not be loaded.",
    basemap_attribution: "Natural Earth",
    readout: "Position under the pointer: latitude, longitude and MGRS",
    shown: "Shown from the message",
    open: "Open"
  };

  // The region shown before any data arrives: lon 33.5-38.5 E, lat 31.0-35.5 N.
  var REGION = [[31.0, 33.5], [35.5, 38.5]];

  // Zone kinds in drawing order (bottom to top); each gets its own pane so that toggling a
  // layer in the layers control never changes the stacking. Sectors lie under the bands of
  // limitation they overlap, so that a click inside a band opens the band's popup.
  var ZONE_KINDS = ["sector", "limitation", "other", "separation"];
  var PANES = {
    basemap: 350,
    "zones-sector": 410,
    "zones-limitation": 420,
    "zones-other": 425,
    "zones-separation": 430,
    sites: 450,
    tracks: 460,
    holdings: 470
  };
  var BAND_FILL = { "0-10": 0.3, "10-20": 0.2, "20-25": 0.1 };

  function readI18n(el) {
    var labels = {};
    var key;
    for (key in DEFAULT_I18N) {
      if (Object.prototype.hasOwnProperty.call(DEFAULT_I18N, key)) {
        labels[key] = DEFAULT_I18N[key];
      }
    }
    var raw = el.getAttribute("data-i18n");
    if (raw) {
      try {
        var given = JSON.parse(raw);
        // A label may be keyed by its id ("layer_sites") or by its English text, the gettext
        // msgid ("Protected sites"); the id wins when both are given.
        for (key in DEFAULT_I18N) {
          if (!Object.prototype.hasOwnProperty.call(DEFAULT_I18N, key)) continue;
          if (typeof given[key] === "string") {
            labels[key] = given[key];
          } else if (typeof given[DEFAULT_I18N[key]] === "string") {
            labels[key] = given[DEFAULT_I18N[key]];
          }
        }
      } catch (err) {
        if (window.console) window.console.warn("fusioncell map: bad data-i18n", err);
      }
    }
    return labels;
  }

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function token(value) {
    return String(value).toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
  }

  function cssVar(el, name, fallback) {
    var value = window.getComputedStyle(el).getPropertyValue(name);
    value = value ? value.trim() : "";
    return value || fallback;
  }

  function fetchJson(url) {
    return window
      .fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/geo+json, application/json" }
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(url + ": HTTP " + response.status);
        }
        return response.json();
      });
  }

  function featuresOf(data) {
    if (!data) return [];
    if (data.type === "FeatureCollection") return data.features || [];
    if (data.type === "Feature") return [data];
    return [];
  }

  function propsOf(feature) {
    return (feature && feature.properties) || {};
  }

  function FusioncellMap(el) {
    this.el = el;
    this.t = readI18n(el);
    this.colours = {
      ALPHA: cssVar(el, "--side-alpha", "#1b7f6b"),
      BRAVO: cssVar(el, "--side-bravo", "#6a51a3"),
      neutral: cssVar(el, "--zone-neutral", "#4d4d4d"),
      site: cssVar(el, "--site-colour", "#b3126f"),
      land: cssVar(el, "--map-land", "#fbfbf8"),
      border: cssVar(el, "--map-border", "#a8a8a8")
    };
    this.fitted = false;
    var passive = el.getAttribute("data-popups") === "off";

    var coords = window.fusioncellCoords;
    var map = L.map(el, {
      preferCanvas: false,
      zoomSnap: 0.25,
      attributionControl: true,
      zoomControl: false
    });
    this.map = map;
    map.attributionControl.setPrefix("Leaflet");
    coords.addStandardControls(map);
    coords.addReadout(map, this.t);
    // The page around the map can change its size after load (a header that fills in).
    if (typeof window.ResizeObserver === "function") {
      new window.ResizeObserver(function () {
        map.invalidateSize({ animate: false });
      }).observe(el);
    }
    map.fitBounds(REGION, { animate: false });

    for (var pane in PANES) {
      if (Object.prototype.hasOwnProperty.call(PANES, pane)) {
        map.createPane(pane).style.zIndex = String(PANES[pane]);
      }
    }

    var self = this;
    this.layersControl = null; // added with the first overlay
    this.inControl = {};

    this.basemap = L.geoJSON(null, {
      pane: "basemap",
      interactive: false,
      attribution: escapeHtml(this.t.basemap_attribution),
      style: function () {
        return {
          className: "basemap",
          color: self.colours.border,
          weight: 1,
          opacity: 1,
          fillColor: self.colours.land,
          fillOpacity: 1
        };
      }
    });

    this.zoneGroups = {};
    ZONE_KINDS.forEach(function (kind) {
      self.zoneGroups[kind] = L.geoJSON(null, {
        pane: "zones-" + kind,
        interactive: !passive,
        style: function (feature) {
          return self.zoneStyle(feature);
        },
        onEachFeature: function (feature, layer) {
          self.zonesDrawn += 1;
          self.labelZone(feature, layer);
          if (passive) return;
          layer.bindPopup(function () {
            return self.popup(feature, "zone");
          });
        }
      });
    });

    this.sites = L.geoJSON(null, {
      pane: "sites",
      interactive: !passive,
      pointToLayer: function (feature, latlng) {
        var style = self.siteStyle(feature);
        style.interactive = !passive;
        return L.circleMarker(latlng, style);
      },
      style: function (feature) {
        return self.siteStyle(feature);
      },
      onEachFeature: function (feature, layer) {
        self.sitesDrawn += 1;
        var name = propsOf(feature).name;
        if (name) {
          var label = document.createElement("span");
          label.textContent = name;
          layer.bindTooltip(label, { direction: "top", offset: [0, -6] });
        }
        if (passive) return;
        layer.bindPopup(function () {
          return self.popup(feature, "site");
        });
      }
    });

    // The legend folds (a <details>: its summary is a button for the keyboard and screen
    // readers): open on a wide screen, closed on a phone (under 600 px), where it would cover
    // the map.
    this.legend = L.control({ position: coords.corner("bottomleft") });
    this.legend.onAdd = function () {
      var box = L.DomUtil.create("details", "map-legend leaflet-control");
      var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
      box.open = !narrow;
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      self.legendBox = box;
      self.renderLegend();
      return box;
    };
    if (el.getAttribute("data-legend") !== "off") this.legend.addTo(map);

    this.zonesDrawn = 0;
    this.sitesDrawn = 0;
    this.basemapDrawn = 0;
  }

  FusioncellMap.prototype.zoneStyle = function (feature) {
    var p = propsOf(feature);
    var kind = p.kind ? token(p.kind) : "unknown";
    var colour = this.colours[p.side] || this.colours.neutral;
    var classes = ["zone", "zone-" + kind];
    if (p.side) classes.push("zone-side-" + token(p.side));
    if (p.band) classes.push("zone-band-" + token(p.band));
    var style = {
      className: classes.join(" "),
      color: colour,
      weight: 2,
      opacity: 0.9,
      fillColor: colour,
      fillOpacity: 0.15
    };
    if (p.kind === "separation") {
      style.color = this.colours.neutral;
      style.fillColor = this.colours.neutral;
      style.fillOpacity = 0.35;
    } else if (p.kind === "limitation") {
      style.weight = 1;
      style.fillOpacity = BAND_FILL[p.band] !== undefined ? BAND_FILL[p.band] : 0.15;
    } else if (p.kind === "sector") {
      style.dashArray = "6 4";
      style.fillOpacity = 0.05;
    }
    return style;
  };

  FusioncellMap.prototype.siteStyle = function (feature) {
    var p = propsOf(feature);
    var classes = ["site"];
    if (p.kind) classes.push("site-" + token(p.kind));
    return {
      pane: "sites",
      className: classes.join(" "),
      radius: 6,
      color: "#ffffff",
      weight: 2,
      opacity: 1,
      fillColor: this.colours.site,
      fillOpacity: 0.95
    };
  };

  // Zone names stay on the map; the bands of limitation are told apart by the legend instead.
  FusioncellMap.prototype.labelZone = function (feature, layer) {
    var p = propsOf(feature);
    if (!p.name || p.kind === "limitation") return;
    var label = document.createElement("span");
    label.textContent = p.name;
    layer.bindTooltip(label, {
      permanent: true,
      direction: "center",
      className: "zone-label zone-label-" + token(p.kind || "other"),
      interactive: false
    });
  };

  // Geometries among a message's fields: any value that is a GeoJSON geometry.
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

  FusioncellMap.prototype.highlight = function (geometries, caption) {
    var colour = cssVar(this.el, "--map-highlight", "#d9480f");
    if (this.highlighted) this.highlighted.remove();
    var layer = L.geoJSON(geometries, {
      style: function () {
        return { className: "highlight", color: colour, weight: 4, opacity: 1, fillOpacity: 0.2 };
      },
      pointToLayer: function (feature, latlng) {
        return L.marker(latlng, { title: caption, alt: caption });
      }
    }).addTo(this.map);
    if (caption) layer.bindTooltip(caption);
    this.highlighted = layer;
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { padding: [48, 48], maxZoom: 11, animate: false });
      this.fitted = true;
    }
    this.el.setAttribute("data-shown", String(layer.getLayers().length));
    return layer;
  };

  // /map?show=<message id>: the message's places, read through the API as its reader.
  FusioncellMap.prototype.showFromLocation = function () {
    var id = new window.URLSearchParams(window.location.search).get("show");
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
    var self = this;
    return fetchJson("/api/v1/messages/" + id).then(
      function (message) {
        var geometries = geometriesOf(message && message.fields);
        return geometries.length ? self.highlight(geometries, self.t.shown) : null;
      },
      function (err) {
        self.el.setAttribute("data-shown-error", String(err.message || err));
        return null;
      }
    );
  };

  FusioncellMap.prototype.label = function (key, fallback) {
    return this.t[key] !== undefined ? this.t[key] : fallback;
  };

  // Popup content is built as DOM nodes with textContent: feature data is never HTML.
  FusioncellMap.prototype.popup = function (feature, what) {
    var p = propsOf(feature);
    var kindLabel = p.kind ? this.label("kind_" + p.kind, p.kind) : "";
    var box = document.createElement("div");
    box.className = "map-popup map-popup-" + what;
    var title = document.createElement("strong");
    title.textContent = p.name || kindLabel;
    box.appendChild(title);
    var list = document.createElement("dl");
    function row(term, value) {
      var dt = document.createElement("dt");
      dt.textContent = term;
      var dd = document.createElement("dd");
      dd.textContent = value;
      list.appendChild(dt);
      list.appendChild(dd);
    }
    if (kindLabel && p.name) {
      var kind = document.createElement("div");
      kind.className = "map-popup-kind";
      kind.textContent = kindLabel;
      box.appendChild(kind);
    }
    if (p.side) row(this.t.side, String(p.side));
    if (p.band) row(this.t.band, String(p.band) + " " + this.t.km);
    if (list.childNodes.length) box.appendChild(list);
    if (p.authoritative === false) {
      var note = document.createElement("div");
      note.className = "map-popup-note";
      note.textContent = this.t.not_authoritative;
      box.appendChild(note);
    }
    return box;
  };

  FusioncellMap.prototype.renderLegend = function () {
    var box = this.legendBox;
    if (!box) return;
    // The summary stays the same element (a layer arriving later redraws the entries): a
    // keyboard user who opened the legend keeps the focus on it.
    var title = box.querySelector("summary.map-legend-title");
    if (!title) {
      title = document.createElement("summary");
      title.className = "map-legend-title";
      box.appendChild(title);
    }
    title.textContent = this.t.legend;
    Array.prototype.slice.call(box.children).forEach(function (child) {
      if (child !== title) box.removeChild(child);
    });
    var self = this;
    var list = document.createElement("ul");
    function entry(cls, text, stroke, fill, fillOpacity, dashed) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "map-legend-swatch " + cls;
      swatch.style.borderColor = stroke;
      swatch.style.borderStyle = dashed ? "dashed" : "solid";
      swatch.style.backgroundColor = fill;
      swatch.setAttribute("aria-hidden", "true");
      if (fillOpacity !== null) {
        // Mimic the fill's transparency without fading the border.
        swatch.style.boxShadow = "inset 0 0 0 1em rgba(255,255,255," + (1 - fillOpacity) + ")";
      }
      var text_ = document.createElement("span");
      text_.textContent = text;
      item.appendChild(swatch);
      item.appendChild(text_);
      list.appendChild(item);
    }
    var kinds = {};
    var sides = {};
    ZONE_KINDS.forEach(function (kind) {
      self.zoneGroups[kind].eachLayer(function (layer) {
        var p = propsOf(layer.feature);
        kinds[p.kind || "other"] = true;
        if (p.side && self.colours[p.side]) sides[p.side] = true;
      });
    });
    if (kinds.separation) {
      entry("zone-separation", this.t.kind_separation, this.colours.neutral, this.colours.neutral, 0.35);
    }
    if (kinds.limitation) {
      entry("zone-limitation", this.t.layer_limitation, this.colours.neutral, this.colours.neutral, 0.2);
    }
    if (kinds.sector) {
      entry("zone-sector", this.t.layer_sector, this.colours.neutral, "transparent", null, true);
    }
    Object.keys(sides)
      .sort()
      .forEach(function (side) {
        entry("zone-side-" + token(side), side, self.colours[side], self.colours[side], 0.3);
      });
    if (this.sitesDrawn) {
      entry("site", this.t.layer_sites, "#ffffff", this.colours.site, null);
    }
    this.legendHoldings(list);
    box.appendChild(list);
    box.hidden = list.childNodes.length === 0;
  };

  // The holdings' symbols in the legend: each affiliation drawn, each category's letter, the
  // candidates' ring.
  FusioncellMap.prototype.legendHoldings = function (list) {
    var affiliations = {};
    var categories = {};
    var candidate = false;
    var labelled = null;
    (this.trackLayers || []).forEach(function (track) {
      if (!track.layer) return;
      track.layer.eachLayer(function (layer) {
        var p = propsOf(layer.feature);
        if (!isHolding(layer.feature)) return;
        labelled = track;
        affiliations[p.affiliation] = true;
        categories[p.category] = true;
        if (p.candidate) candidate = true;
      });
    });
    if (!labelled) return;
    var track = labelled;
    function item(classes, letter, text) {
      var li = document.createElement("li");
      li.className = "map-legend-holding";
      var symbol = document.createElement("span");
      symbol.className = "holding-symbol holding-legend " + classes;
      symbol.setAttribute("aria-hidden", "true");
      var inner = document.createElement("span");
      inner.className = "holding-letter";
      inner.textContent = letter;
      symbol.appendChild(inner);
      var label = document.createElement("span");
      label.textContent = text;
      li.appendChild(symbol);
      li.appendChild(label);
      list.appendChild(li);
    }
    ["own", "other", "neutral"].forEach(function (affiliation) {
      if (affiliations[affiliation]) {
        item("holding-" + affiliation, "", labelOf(track, "affiliation." + affiliation, affiliation));
      }
    });
    Object.keys(categories)
      .sort()
      .forEach(function (category) {
        item(
          "holding-neutral holding-key",
          labelOf(track, "symbol." + category, category.charAt(0).toUpperCase()),
          labelOf(track, "category." + category, category)
        );
      });
    if (candidate) {
      item("holding-neutral holding-candidate", "", labelOf(track, "candidate", "Violation candidate"));
    }
  };

  FusioncellMap.prototype.addOverlay = function (layer, key) {
    if (!this.layersControl) {
      this.layersControl = L.control
        .layers(null, null, {
          collapsed: this.el.getAttribute("data-legend") === "off",
          position: window.fusioncellCoords.corner("topright")
        })
        .addTo(this.map);
    }
    if (!this.inControl[key]) {
      this.layersControl.addOverlay(layer, escapeHtml(this.label(key, key)));
      this.inControl[key] = true;
    }
    if (!this.map.hasLayer(layer)) layer.addTo(this.map);
  };

  FusioncellMap.prototype.drawBasemap = function (data) {
    this.basemap.clearLayers();
    this.basemap.addData(featuresOf(data));
    this.basemapDrawn = this.basemap.getLayers().length;
    if (this.basemapDrawn) this.addOverlay(this.basemap, "layer_basemap");
  };

  FusioncellMap.prototype.drawZones = function (data) {
    var self = this;
    var byKind = {};
    ZONE_KINDS.forEach(function (kind) {
      byKind[kind] = [];
      self.zoneGroups[kind].clearLayers();
    });
    featuresOf(data).forEach(function (feature) {
      var kind = propsOf(feature).kind;
      (byKind[kind] && kind !== "other" ? byKind[kind] : byKind.other).push(feature);
    });
    this.zonesDrawn = 0;
    // Panes fix the stacking; this order is the one the layers control lists.
    ["separation", "limitation", "sector", "other"].forEach(function (kind) {
      if (byKind[kind].length) {
        self.zoneGroups[kind].addData(byKind[kind]);
        self.addOverlay(self.zoneGroups[kind], "layer_" + kind);
      }
    });
  };

  FusioncellMap.prototype.drawSites = function (data) {
    this.sites.clearLayers();
    this.sitesDrawn = 0;
    this.sites.addData(featuresOf(data));
    if (this.sitesDrawn) this.addOverlay(this.sites, "layer_sites");
  };

  FusioncellMap.prototype.fit = function () {
    var bounds = L.latLngBounds([]);
    var self = this;
    ZONE_KINDS.forEach(function (kind) {
      var b = self.zoneGroups[kind].getBounds();
      if (b.isValid()) bounds.extend(b);
    });
    if (!bounds.isValid() && this.sitesDrawn) bounds = this.sites.getBounds();
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { padding: [16, 16], animate: false });
      this.fitted = true;
    }
  };

  FusioncellMap.prototype.fail = function (err) {
    var el = this.el;
    el.classList.remove("map-ready");
    el.classList.add("map-error");
    el.setAttribute("data-map-error", String((err && err.message) || err));
    if (!this.errorControl) {
      var message = this.t.load_error;
      this.errorControl = L.control({ position: window.fusioncellCoords.corner("topleft") });
      this.errorControl.onAdd = function () {
        var box = L.DomUtil.create("div", "map-error-message leaflet-control");
        box.setAttribute("role", "alert");
        box.textContent = message;
        return box;
      };
      this.errorControl.addTo(this.map);
    }
    if (window.console) window.console.error("fusioncell map:", err);
  };

  // Fetch and draw everything; resolves when drawn. Call again to refresh zones and sites.
  FusioncellMap.prototype.load = function () {
    var el = this.el;
    var self = this;
    var basemapUrl = el.getAttribute("data-basemap-url");
    var zonesUrl = el.getAttribute("data-zones-url");
    var sitesUrl = el.getAttribute("data-sites-url");

    // The basemap is decoration: without it the zones and sites are still drawn.
    var basemap =
      basemapUrl && !this.basemapDrawn
        ? fetchJson(basemapUrl).then(null, function (err) {
            el.setAttribute("data-basemap-error", String(err.message || err));
            if (window.console) window.console.warn("fusioncell map: basemap:", err);
            return null;
          })
        : Promise.resolve(null);
    var zones = zonesUrl ? fetchJson(zonesUrl) : Promise.resolve(null);
    var sites = sitesUrl ? fetchJson(sitesUrl) : Promise.resolve(null);

    // Settle all three, draw whatever arrived, then report ready or failed.
    function settle(promise) {
      return promise.then(
        function (data) {
          return { ok: true, data: data };
        },
        function (err) {
          return { ok: false, error: err };
        }
      );
    }

    return Promise.all([basemap, settle(zones), settle(sites)]).then(function (results) {
      if (results[0]) self.drawBasemap(results[0]);
      if (results[1].ok) self.drawZones(results[1].data);
      if (results[2].ok) self.drawSites(results[2].data);
      self.renderLegend();
      var failed = !results[1].ok ? results[1].error : !results[2].ok ? results[2].error : null;
      if (failed) {
        self.fail(failed);
        return self;
      }
      if (!self.fitted) self.fit();
      el.setAttribute("data-basemap-drawn", String(self.basemapDrawn));
      el.setAttribute("data-zones-drawn", String(self.zonesDrawn));
      el.setAttribute("data-sites-drawn", String(self.sitesDrawn));
      el.classList.remove("map-error");
      el.removeAttribute("data-map-error");
      if (self.errorControl) {
        self.errorControl.remove();
        self.errorControl = null;
      }
      el.classList.add("map-ready");
      if (typeof window.CustomEvent === "function") {
        el.dispatchEvent(
          new window.CustomEvent("fusioncell:map-ready", {
            bubbles: true,
            detail: { zones: self.zonesDrawn, sites: self.sitesDrawn, basemap: self.basemapDrawn }
          })
        );
      }
      return self;
    });
  };

  // The tracks' layers (data-layers: [{url, label}] from the registry, e.g. intelligence
  // reports): each an overlay in the layers control, its features with a popup (title, grade,
  // TLP, a link to their page). A layer that cannot be loaded is left out; data-layers-drawn
  // says how many features each drew ("-" for one that failed).
  //
  // A layer whose collection carries a "timeline" member ({start, end, at}: RFC 7946 foreign
  // members) shows a time: the page gets a time slider under the map (from the earliest start
  // to the latest end, by the hour) and each move reloads those layers with ?at=<RFC 3339>
  // (no at: now). Features with "affiliation" and "category" properties (holdings) are drawn
  // as symbols: a letter per category, a colour and a shape per affiliation (own, other,
  // neutral: computed by the server for the viewer), a ring when "candidate" is true; such a
  // layer's texts come in its "labels" member. data-at says the time shown ("" for now).
  FusioncellMap.prototype.loadLayers = function () {
    var self = this;
    var specs = [];
    try {
      specs = JSON.parse(this.el.getAttribute("data-layers") || "[]") || [];
    } catch (err) {
      specs = [];
    }
    this.trackLayers = specs.map(function (spec) {
      return { spec: spec, layer: null, timed: false, count: "-" };
    });
    return this.fetchLayers(this.trackLayers, null).then(function () {
      self.addTimeSlider();
    });
  };

  function withAt(url, at) {
    if (!at) return url;
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + "at=" + encodeURIComponent(at);
  }

  // Fetch each entry's layer (at a time, for timed layers) and draw it in place.
  FusioncellMap.prototype.fetchLayers = function (entries, at) {
    var self = this;
    return Promise.all(
      entries.map(function (entry) {
        return fetchJson(withAt(entry.spec.url, entry.timed ? at : null)).then(
          function (data) {
            self.drawTrackLayer(entry, data);
          },
          function () {
            if (!entry.layer) entry.count = "-";
          }
        );
      })
    ).then(function () {
      self.el.setAttribute(
        "data-layers-drawn",
        self.trackLayers
          .map(function (entry) {
            return entry.count;
          })
          .join(",")
      );
      self.el.setAttribute("data-at", at || "");
      self.renderLegend();
      if (typeof window.CustomEvent === "function") {
        self.el.dispatchEvent(new window.CustomEvent("fusioncell:layers-drawn", { detail: { at: at || null } }));
      }
    });
  };

  // A feature's party as a class ("party-alpha"), so that a page can hide a party's features
  // (the operations room's filters): holdings, unit tracks, notifications.
  function partyClass(p) {
    return p && typeof p.party === "string" && p.party ? "party-" + token(p.party) : "party-none";
  }

  // Unit tracks (kind "track") in their affiliation's colour; notifications (role "buffer"
  // or "shape") outlined, red where a conflict is flagged; other lines in the layer colour.
  FusioncellMap.prototype.lineStyle = function (feature, colour) {
    var p = propsOf(feature);
    var party = partyClass(p);
    if (p.kind === "track") {
      return {
        className: "unit-track unit-track-" + token(p.affiliation || "neutral") + " " + party,
        color: colour,
        weight: 3,
        opacity: 0.9,
        dashArray: "2 6"
      };
    }
    if (p.role === "buffer" || p.role === "shape") {
      var classes = ["notification", "notification-" + p.role, party];
      if (p.conflict) classes.push("notification-conflict");
      return {
        className: classes.join(" "),
        color: colour,
        weight: p.role === "buffer" ? 1 : 3,
        dashArray: p.role === "buffer" ? "4 4" : null,
        fillOpacity: p.role === "buffer" ? 0.08 : 0.3
      };
    }
    return { className: party, color: colour, weight: 2 };
  };

  FusioncellMap.prototype.drawTrackLayer = function (entry, data) {
    var self = this;
    var passive = this.el.getAttribute("data-popups") === "off";
    var colour = cssVar(this.el, "--map-track-layer", "#c2410c");
    if (data && data.timeline && data.timeline.start && data.timeline.end) {
      entry.timed = true;
      entry.timeline = data.timeline;
    }
    if (data && data.labels && typeof data.labels === "object") entry.labels = data.labels;
    var features = featuresOf(data);
    // Symbols that share a place are spread around it, so that each can be clicked.
    entry.seen = {};
    if (!entry.layer) {
      entry.layer = L.geoJSON(null, {
        pane: "tracks",
        pointToLayer: function (feature, latlng) {
          if (isHolding(feature)) {
            var key = latlng.lat.toFixed(5) + "," + latlng.lng.toFixed(5);
            var nth = entry.seen[key] || 0;
            entry.seen[key] = nth + 1;
            return self.holdingMarker(feature, latlng, nth, entry);
          }
          var style = { pane: "tracks", radius: 7, color: colour, weight: 3, fillOpacity: 0.6 };
          return L.circleMarker(latlng, style);
        },
        style: function (feature) {
          return self.lineStyle(feature, colour);
        },
        onEachFeature: function (feature, item) {
          if (passive) return;
          item.bindPopup(function () {
            return isHolding(feature) ? self.holdingPopup(feature, entry) : self.layerPopup(feature);
          });
        }
      });
      this.addOverlay(entry.layer, entry.spec.label);
    } else {
      entry.layer.clearLayers();
    }
    entry.layer.addData(features);
    entry.count = String(entry.layer.getLayers().length);
  };

  function isHolding(feature) {
    var p = propsOf(feature);
    return typeof p.affiliation === "string" && typeof p.category === "string";
  }

  function labelOf(entry, key, fallback) {
    var labels = (entry && entry.labels) || {};
    return typeof labels[key] === "string" && labels[key] ? labels[key] : fallback;
  }

  // A holding's symbol: its category's letter in a shape and colour of its affiliation
  // (map.css: .holding-own, .holding-other, .holding-neutral), ringed when a candidate.
  FusioncellMap.prototype.holdingMarker = function (feature, latlng, nth, entry) {
    var p = propsOf(feature);
    var affiliation = token(p.affiliation);
    var category = token(p.category);
    var classes = ["holding-symbol", "holding-" + affiliation, "holding-cat-" + category];
    if (p.candidate) classes.push("holding-candidate");
    var symbol = document.createElement("span");
    symbol.className = classes.join(" ");
    symbol.setAttribute("data-affiliation", affiliation);
    symbol.setAttribute("data-category", category);
    symbol.setAttribute("data-candidate", p.candidate ? "true" : "false");
    var letter = document.createElement("span");
    letter.className = "holding-letter";
    letter.textContent = labelOf(entry, "symbol." + p.category, category.charAt(0).toUpperCase());
    symbol.appendChild(letter);
    // Spread around the place: the first at it, the next on a ring of 16 px.
    var dx = 0;
    var dy = 0;
    if (nth > 0) {
      var angle = (nth - 1) * (Math.PI / 3);
      dx = Math.round(16 * Math.cos(angle));
      dy = Math.round(16 * Math.sin(angle));
    }
    var title =
      labelOf(entry, "category." + p.category, p.category) +
      " " +
      String(p.count) +
      " · " +
      String(p.party) +
      (p.candidate ? " · " + labelOf(entry, "candidate", "Violation candidate") : "");
    return L.marker(latlng, {
      pane: "holdings",
      title: title,
      alt: title,
      keyboard: true,
      icon: L.divIcon({
        className: "holding-icon " + partyClass(p),
        html: symbol,
        iconSize: [26, 26],
        iconAnchor: [13 - dx, 13 - dy],
        popupAnchor: [dx, dy - 12]
      })
    });
  };

  FusioncellMap.prototype.holdingPopup = function (feature, entry) {
    var p = propsOf(feature);
    var box = document.createElement("div");
    box.className = "map-popup map-holding-popup";
    box.setAttribute("data-affiliation", String(p.affiliation));
    var title = document.createElement("strong");
    title.textContent = labelOf(entry, "category." + p.category, p.category) + " · " + String(p.count);
    box.appendChild(title);
    var list = document.createElement("dl");
    function row(term, value) {
      if (value === null || value === undefined || value === "") return;
      var dt = document.createElement("dt");
      dt.textContent = term;
      var dd = document.createElement("dd");
      dd.textContent = String(value);
      list.appendChild(dt);
      list.appendChild(dd);
    }
    row(
      labelOf(entry, "party", "Party"),
      String(p.party) + " (" + labelOf(entry, "affiliation." + p.affiliation, p.affiliation) + ")"
    );
    row(labelOf(entry, "unit", "Unit"), p.unit);
    row(labelOf(entry, "count", "Count"), p.count);
    row(labelOf(entry, "source", "Source"), labelOf(entry, "source." + p.source, p.source));
    row(
      labelOf(entry, "observed", "Observed"),
      p.observed_at && !isNaN(Date.parse(p.observed_at)) ? timeText(Date.parse(p.observed_at)) : p.observed_at
    );
    row(labelOf(entry, "calibre", "Calibre (mm)"), p.calibre_mm);
    row(labelOf(entry, "range", "Range (km)"), p.range_km);
    box.appendChild(list);
    if (p.candidate && p.rules && p.rules.length) {
      var note = document.createElement("div");
      note.className = "map-popup-candidate";
      note.textContent =
        labelOf(entry, "candidate", "Violation candidate") +
        ": " +
        p.rules
          .map(function (rule) {
            return rule + " " + labelOf(entry, "rule." + rule, "");
          })
          .join("; ");
      box.appendChild(note);
    } else if (p.covered_by && p.covered_by.length) {
      var covered = document.createElement("div");
      covered.className = "map-popup-note";
      covered.textContent = labelOf(entry, "covered", "Covered by an exception");
      box.appendChild(covered);
    }
    var link = document.createElement("a");
    link.href = "/deescalation" + (this.at ? "?at=" + encodeURIComponent(this.at) : "");
    link.textContent = labelOf(entry, "page", this.label("open", "Open"));
    box.appendChild(link);
    return box;
  };

  // -- the time slider ----------------------------------------------------------------------

  var HOUR = 3600000;

  function timeText(ms) {
    // 2026-03-01 14:00 UTC: the same in every language, left to right.
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  FusioncellMap.prototype.addTimeSlider = function () {
    var timed = (this.trackLayers || []).filter(function (entry) {
      return entry.timed;
    });
    if (!timed.length || this.timeBox || this.el.id !== "map") return;
    var self = this;
    var start = Infinity;
    var end = -Infinity;
    timed.forEach(function (entry) {
      start = Math.min(start, Date.parse(entry.timeline.start));
      end = Math.max(end, Date.parse(entry.timeline.end));
    });
    if (!(end > start)) return;
    var first = timed[0];
    var steps = Math.ceil((end - start) / HOUR);
    var box = document.createElement("div");
    box.className = "map-time";
    box.id = "map-time";
    var label = document.createElement("label");
    label.setAttribute("for", "map-time-range");
    label.textContent = labelOf(first, "time", "Situation at");
    var range = document.createElement("input");
    range.type = "range";
    range.id = "map-time-range";
    range.min = "0";
    range.max = String(steps);
    range.step = "1";
    range.value = String(steps);
    range.setAttribute("data-start", new Date(start).toISOString());
    range.setAttribute("data-end", new Date(end).toISOString());
    range.title = labelOf(first, "time_help", "");
    var shown = document.createElement("output");
    shown.id = "map-time-value";
    shown.setAttribute("for", "map-time-range");
    shown.setAttribute("dir", "ltr");
    var now = document.createElement("button");
    now.type = "button";
    now.className = "secondary map-time-now";
    now.textContent = labelOf(first, "now", "Now");
    box.appendChild(label);
    box.appendChild(range);
    box.appendChild(shown);
    box.appendChild(now);
    this.el.parentNode.insertBefore(box, this.el.nextSibling);
    this.timeBox = box;

    function at() {
      var step = Number(range.value);
      return step >= steps ? null : new Date(start + step * HOUR).toISOString().replace(".000Z", "Z");
    }
    function describe() {
      var moment = at();
      var text = timeText(moment ? Date.parse(moment) : end);
      shown.textContent = text;
      range.setAttribute("aria-valuetext", text);
      now.disabled = !moment;
    }
    var timer = null;
    function reload() {
      if (timer !== null) window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        timer = null;
        self.at = at();
        self.fetchLayers(
          self.trackLayers.filter(function (entry) {
            return entry.timed;
          }),
          self.at
        );
      }, 200);
    }
    range.addEventListener("input", function () {
      describe();
      reload();
    });
    now.addEventListener("click", function () {
      range.value = String(steps);
      describe();
      reload();
    });
    describe();
    this.timeSlider = { range: range, at: at, reload: reload };
  };

  FusioncellMap.prototype.layerPopup = function (feature) {
    var p = propsOf(feature);
    var box = document.createElement("div");
    box.className = "map-popup map-layer-popup";
    var title = document.createElement("strong");
    title.textContent = p.title || p.name || (p.unit ? String(p.party) + " · " + String(p.unit) : "");
    box.appendChild(title);
    var window_ = p.starts_at && p.ends_at ? timeText(Date.parse(p.starts_at)) + " – " + timeText(Date.parse(p.ends_at)) : "";
    var moved = p.from && p.until ? timeText(Date.parse(p.from)) + " – " + timeText(Date.parse(p.until)) : "";
    var facts = [
      p.grade,
      p.tlp ? "TLP:" + String(p.tlp).toUpperCase() : "",
      p.detail,
      window_,
      moved
    ].filter(Boolean);
    if (facts.length) {
      var line = document.createElement("div");
      line.textContent = facts.join(" · ");
      box.appendChild(line);
    }
    if (p.url && /^\/[^\/]/.test(p.url)) {
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = this.label("open", "Open");
      box.appendChild(link);
    }
    return box;
  };

  function init(el) {
    if (!el || el.fusioncellMap) return el && el.fusioncellMap;
    if (typeof window.L === "undefined") {
      el.classList.add("map-error");
      el.setAttribute("data-map-error", "Leaflet is not loaded");
      return null;
    }
    var controller = new FusioncellMap(el);
    el.fusioncellMap = controller;
    var loaded = controller.load();
    if (el.id === "map") {
      loaded.then(function () {
        return controller.showFromLocation();
      });
    }
    if (el.getAttribute("data-layers")) {
      loaded.then(function () {
        return controller.loadLayers();
      });
    }
    return controller;
  }

  function initAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var found = [];
    if (scope.matches && scope.matches("#map, .map[data-zones-url]")) found.push(scope);
    var list = scope.querySelectorAll("#map, .map[data-zones-url]");
    for (var i = 0; i < list.length; i++) found.push(list[i]);
    found.forEach(init);
  }

  window.fusioncellMap = {
    init: init,
    initAll: initAll,
    defaults: DEFAULT_I18N,
    geometriesOf: geometriesOf
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      initAll(document);
    });
  } else {
    initAll(document);
  }
  // Maps that arrive in content swapped in by htmx.
  document.addEventListener("htmx:load", function (evt) {
    initAll(evt.target);
  });
})();
