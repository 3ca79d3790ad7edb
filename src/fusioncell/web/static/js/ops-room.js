/*
 * The operations room: the map page made live for a watch floor or a wall display.
 *
 * Markup (geo/templates/geo/map.html):
 *
 *   <div id="ops-room" class="ops-room" data-i18n='{"...": "..."}' data-tracks='{"kind": ...}'>
 *     <div class="ops-toolbar">
 *       <fieldset id="ops-parties"> <input type="checkbox" value="ALPHA" checked> ... </fieldset>
 *       <button id="ops-fullscreen" aria-pressed="false">...</button>
 *     </div>
 *     <div id="map" ...></div>
 *     <section id="ops-timeline"><ol></ol></section>
 *   </div>
 *
 * - Live: every frame of the page's one stream (console.js: "fusioncell:frame" on document)
 *   whose track draws on the map reloads the map's layers (holdings, unit tracks,
 *   notifications, reports) while the time slider shows now. Nothing is polled.
 * - The timeline lists what the layers show with a time (observations, notification windows),
 *   newest first, and each live frame as it arrives, with its track's name and a link to its
 *   page. data-timeline-count says how many items it holds.
 * - Filters: each party's checkbox hides that party's holdings, tracks and notifications (the
 *   map element gets the class "hide-party-<slug>"); the layers control (Leaflet's) hides a
 *   whole layer.
 * - Full screen: the button puts the room (toolbar, map, timeline) on the whole screen (the
 *   Fullscreen API where the browser has it, a fixed layer otherwise); Escape leaves it.
 */
(function () {
  "use strict";

  var MAX_ITEMS = 60;
  var INITIAL_ITEMS = 20;

  function parseJson(text, fallback) {
    try {
      return JSON.parse(text || "") || fallback;
    } catch (err) {
      return fallback;
    }
  }

  function token(value) {
    return String(value).toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
  }

  function utc(ms) {
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  function Room(box) {
    this.box = box;
    this.mapEl = box.querySelector("#map");
    this.list = box.querySelector("#ops-timeline ol");
    this.t = parseJson(box.getAttribute("data-i18n"), {});
    // frame kind -> {label, url}: the track that sends it and its page.
    this.tracks = parseJson(box.getAttribute("data-tracks"), {});
    this.timer = null;
    this.seeded = false;
    var self = this;

    var parties = box.querySelectorAll("#ops-parties input[type=checkbox]");
    // One rule per party: "#map.hide-party-alpha .party-alpha { display: none }".
    var sheet = document.createElement("style");
    sheet.textContent = Array.prototype.map
      .call(parties, function (input) {
        var slug = token(input.value);
        return "#map.hide-party-" + slug + " .party-" + slug + " { display: none; }";
      })
      .join("\n");
    document.head.appendChild(sheet);
    Array.prototype.forEach.call(parties, function (input) {
      input.addEventListener("change", function () {
        self.mapEl.classList.toggle("hide-party-" + token(input.value), !input.checked);
      });
    });

    var full = box.querySelector("#ops-fullscreen");
    if (full) {
      full.addEventListener("click", function () {
        self.setFullScreen(!box.classList.contains("ops-fullscreen"));
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && box.classList.contains("ops-fullscreen")) self.setFullScreen(false);
      });
      document.addEventListener("fullscreenchange", function () {
        if (!document.fullscreenElement && box.classList.contains("ops-fullscreen")) {
          self.markFullScreen(false);
        }
      });
    }

    this.mapEl.addEventListener("fusioncell:layers-drawn", function () {
      if (!self.seeded) {
        self.seeded = true;
        self.seed();
      }
    });
    document.addEventListener("fusioncell:frame", function (event) {
      self.onFrame(event.detail || {});
    });
  }

  Room.prototype.label = function (key, fallback) {
    return typeof this.t[key] === "string" && this.t[key] ? this.t[key] : fallback;
  };

  Room.prototype.controller = function () {
    return this.mapEl && this.mapEl.fusioncellMap;
  };

  Room.prototype.markFullScreen = function (on) {
    this.box.classList.toggle("ops-fullscreen", on);
    document.documentElement.classList.toggle("ops-fullscreen-page", on);
    var full = this.box.querySelector("#ops-fullscreen");
    if (full) {
      full.setAttribute("aria-pressed", on ? "true" : "false");
      full.textContent = on ? this.label("leave", "Leave full screen") : this.label("enter", "Full screen");
    }
    var map = this.controller();
    if (map && map.map) map.map.invalidateSize({ animate: false });
  };

  Room.prototype.setFullScreen = function (on) {
    this.markFullScreen(on);
    try {
      if (on && this.box.requestFullscreen && !document.fullscreenElement) {
        var asked = this.box.requestFullscreen();
        if (asked && asked.catch) asked.catch(function () {});
      } else if (!on && document.fullscreenElement && document.exitFullscreen) {
        var left = document.exitFullscreen();
        if (left && left.catch) left.catch(function () {});
      }
    } catch (err) {
      // The fixed layer stands in where the browser refuses.
    }
  };

  // A frame from a track that draws on the map reloads the layers (the time slider at now).
  Room.prototype.onFrame = function (frame) {
    var track = this.tracks[frame.kind];
    if (!track) return;
    this.add({
      at: Date.now(),
      text: track.label + (frame.data && typeof frame.data.count === "number" ? " · " + frame.data.count : ""),
      url: track.url,
      live: true
    });
    var map = this.controller();
    if (!map || !map.trackLayers) return;
    var self = this;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      self.timer = null;
      if (map.at) return; // the slider shows the past: left as it is
      map.fetchLayers(map.trackLayers, null);
    }, 300);
  };

  // What the layers show with a time, newest first.
  Room.prototype.seed = function () {
    var map = this.controller();
    if (!map || !map.trackLayers) return;
    var items = [];
    var self = this;
    map.trackLayers.forEach(function (entry) {
      if (!entry.layer) return;
      var labels = entry.labels || {};
      entry.layer.eachLayer(function (item) {
        var p = (item.feature && item.feature.properties) || {};
        if (p.observed_at && p.category) {
          var category = labels["category." + p.category] || p.category;
          items.push({
            at: Date.parse(p.observed_at),
            text: category + " " + p.count + " · " + p.party + " · " + p.unit,
            url: "/deescalation"
          });
        } else if (p.role === "shape" && p.starts_at) {
          items.push({ at: Date.parse(p.starts_at), text: p.title + " · " + (p.detail || ""), url: p.url });
        }
      });
    });
    items = items.filter(function (item) {
      return !isNaN(item.at);
    });
    items.sort(function (a, b) {
      return a.at - b.at;
    });
    items.slice(-INITIAL_ITEMS).forEach(function (item) {
      self.add(item);
    });
    this.count();
  };

  Room.prototype.add = function (item) {
    var li = document.createElement("li");
    if (item.live) li.className = "ops-live";
    var time = document.createElement("time");
    time.dateTime = new Date(item.at).toISOString();
    time.setAttribute("dir", "ltr");
    time.textContent = utc(item.at);
    li.appendChild(time);
    li.appendChild(document.createTextNode(" "));
    var text = document.createElement(item.url && /^\/[^\/]/.test(item.url) ? "a" : "span");
    if (text.tagName === "A") text.href = item.url;
    text.setAttribute("dir", "auto");
    text.textContent = item.text;
    li.appendChild(text);
    var empty = this.list.querySelector(".ops-empty");
    if (empty) empty.remove();
    this.list.insertBefore(li, this.list.firstChild);
    while (this.list.children.length > MAX_ITEMS) this.list.removeChild(this.list.lastChild);
    this.count();
  };

  Room.prototype.count = function () {
    var items = this.list.querySelectorAll("li:not(.ops-empty)").length;
    this.box.setAttribute("data-timeline-count", String(items));
  };

  function init() {
    var box = document.getElementById("ops-room");
    if (!box || box.opsRoom) return;
    box.opsRoom = new Room(box);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
