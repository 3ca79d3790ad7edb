/*
 * Coordinates for fusioncell's maps: read and write decimal degrees and MGRS, the
 * coordinate read-out control, and Leaflet control corners mirrored on right-to-left pages.
 *
 * MGRS comes from the npm package mgrs (vendor/mgrs.min.js, window.mgrs); without it only
 * decimal degrees are read and shown. A plain script, loaded after vendor/leaflet.js;
 * it defines window.fusioncellCoords.
 */
(function () {
  "use strict";

  if (window.fusioncellCoords) return;

  var DECIMALS = 6;
  var NUMBER = "([+-]?\\d+(?:[.,]\\d+)?)\\s*°?\\s*([NSEW]?)";
  var DEGREES_RE = new RegExp("^\\s*" + NUMBER + "\\s*[,;\\s]\\s*" + NUMBER + "\\s*$", "i");
  var MGRS_RE = /^\s*(\d{1,2})\s*([C-HJ-NP-X])\s*([A-HJ-NP-Z]{2})\s*(\d{0,10})\s*(\d{0,5})\s*$/i;

  function isRtl() {
    return (document.documentElement.getAttribute("dir") || "").toLowerCase() === "rtl";
  }

  // "topleft" on a left-to-right page is "topright" on a right-to-left one.
  function corner(position) {
    if (!isRtl()) return position;
    if (position.indexOf("left") !== -1) return position.replace("left", "right");
    return position.replace("right", "left");
  }

  function round(value) {
    var factor = Math.pow(10, DECIMALS);
    return Math.round(value * factor) / factor;
  }

  function hasMgrs() {
    return !!(window.mgrs && typeof window.mgrs.forward === "function");
  }

  // "36S YA 12345 67890" (1 m), or "" where MGRS is undefined (the poles) or unavailable.
  function toMgrs(lat, lon) {
    if (!hasMgrs() || lat < -80 || lat > 84) return "";
    try {
      var text = window.mgrs.forward([lon, lat], 5);
      var m = /^(\d{1,2}[A-Z])([A-Z]{2})(\d*)$/.exec(text);
      if (!m) return text;
      var half = m[3].length / 2;
      return m[1] + " " + m[2] + " " + m[3].slice(0, half) + " " + m[3].slice(half);
    } catch (err) {
      return "";
    }
  }

  function toDegrees(lat, lon) {
    return lat.toFixed(5) + ", " + lon.toFixed(5);
  }

  function inRange(lat, lon) {
    return isFinite(lat) && isFinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
  }

  function readDegrees(text) {
    var m = DEGREES_RE.exec(text);
    if (!m) return null;
    var first = parseFloat(m[1].replace(",", "."));
    var second = parseFloat(m[3].replace(",", "."));
    var a = m[2].toUpperCase();
    var b = m[4].toUpperCase();
    function signed(value, hemisphere) {
      return hemisphere === "S" || hemisphere === "W" ? -Math.abs(value) : value;
    }
    // Latitude first, as people write it, unless the hemispheres say otherwise.
    if ((a === "E" || a === "W") && (b === "" || b === "N" || b === "S")) {
      return { lat: signed(second, b), lon: signed(first, a) };
    }
    return { lat: signed(first, a), lon: signed(second, b) };
  }

  function readMgrs(text) {
    var m = MGRS_RE.exec(text);
    if (!m || !hasMgrs()) return null;
    var digits = m[4] + m[5];
    if (digits.length % 2 !== 0) return null;
    try {
      var point = window.mgrs.toPoint((m[1] + m[2] + m[3] + digits).toUpperCase());
      return { lat: point[1], lon: point[0] };
    } catch (err) {
      return null;
    }
  }

  // A typed position: "33.21, 35.57", "33.21N 35.57E" or MGRS "36S YB 12345 67890";
  // null when it is neither or out of range.
  function parse(text) {
    var found = readDegrees(String(text || "")) || readMgrs(String(text || ""));
    if (!found || !inRange(found.lat, found.lon)) return null;
    return { lat: round(found.lat), lon: round(found.lon) };
  }

  // The read-out: the pointer's position (or the last tap's) in degrees and MGRS.
  function addReadout(map, labels) {
    var control = L.control({ position: corner("bottomright") });
    var box;
    control.onAdd = function () {
      box = L.DomUtil.create("div", "map-readout leaflet-control");
      box.setAttribute("aria-live", "off");
      box.setAttribute("dir", "ltr");
      box.title = (labels && labels.readout) || "";
      return box;
    };
    control.addTo(map);
    function show(evt) {
      var lat = evt.latlng.lat;
      var lon = L.Util.wrapNum(evt.latlng.lng, [-180, 180], true);
      var mgrsText = toMgrs(lat, lon);
      box.textContent = toDegrees(lat, lon) + (mgrsText ? "  ·  " + mgrsText : "");
      box.setAttribute("data-lat", String(round(lat)));
      box.setAttribute("data-lon", String(round(lon)));
      box.setAttribute("data-mgrs", mgrsText);
    }
    map.on("mousemove click", show);
    map.whenReady(function () {
      show({ latlng: map.getCenter() });
    });
    return control;
  }

  // Scale bar, zoom buttons and attribution, in the corners the page's direction gives.
  function addStandardControls(map) {
    L.control.zoom({ position: corner("topleft") }).addTo(map);
    L.control.scale({ position: corner("bottomleft"), imperial: false, maxWidth: 120 }).addTo(map);
    if (map.attributionControl) map.attributionControl.setPosition(corner("bottomright"));
  }

  window.fusioncellCoords = {
    parse: parse,
    toMgrs: toMgrs,
    toDegrees: toDegrees,
    round: round,
    corner: corner,
    isRtl: isRtl,
    addReadout: addReadout,
    addStandardControls: addStandardControls
  };
})();
