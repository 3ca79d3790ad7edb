/*
 * The de-escalation page, live: when the track's frames arrive on the page's one stream
 * (console.js opens GET /api/v1/stream and dispatches each frame as a "fusioncell:frame"
 * event; the track's kinds start with "deescalation-": new observations, a baseline, an
 * exception...), the page fetches its sections again (GET the same address with the header
 * HX-Target: deescalation-sections, through the policy like the page) and puts them in place,
 * one request for a burst of frames. A frame carries ids and counts only; what the page shows
 * is what the server computes for the member.
 *
 * <div id="deescalation" data-i18n='{"Updated with new observations.": "..."}'> gets
 * data-live ("open", "down"...) from the stream's state and data-refreshed (how many times
 * the sections were replaced). Plain script, no build step.
 */
(function () {
  "use strict";
  var root = document.getElementById("deescalation");
  if (!root) return;
  var SECTIONS = "deescalation-sections";
  var PREFIX = "deescalation-";
  var notice = document.getElementById("deescalation-updated");
  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    labels = {};
  }
  function t(text) {
    return typeof labels[text] === "string" && labels[text] ? labels[text] : text;
  }

  var busy = false;
  var again = false;
  var refreshed = 0;

  function replace(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.getElementById
      ? holder.content.getElementById(SECTIONS)
      : holder.content.querySelector("#" + SECTIONS);
    var current = document.getElementById(SECTIONS);
    if (!fresh || !current) return false;
    // Keep open what the reader opened (a candidate's evidence).
    var open = {};
    current.querySelectorAll("li.deesc-candidate").forEach(function (item) {
      var details = item.querySelector("details");
      if (details) open[item.id] = details.open;
    });
    fresh.querySelectorAll("li.deesc-candidate").forEach(function (item) {
      var details = item.querySelector("details");
      if (details && Object.prototype.hasOwnProperty.call(open, item.id)) details.open = open[item.id];
    });
    current.replaceWith(fresh);
    return true;
  }

  function refresh() {
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
            if (notice) {
              notice.textContent = t("Updated with new observations.");
              notice.hidden = false;
            }
          }
        },
        function () {
          return null;
        }
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
    var kind = (event.detail && event.detail.kind) || "";
    if (kind.indexOf(PREFIX) === 0) refresh();
  });

  var wasDown = false;
  document.addEventListener("fusioncell:connection", function (event) {
    var state = (event.detail && event.detail.state) || "connecting";
    root.setAttribute("data-live", state);
    // Back after a break: what arrived meanwhile is caught up by the stream, and read again.
    if (state === "down") wasDown = true;
    if (state === "open" && wasDown) {
      wasDown = false;
      refresh();
    }
  });
  if (document.body.getAttribute("data-connection") === "open") root.setAttribute("data-live", "open");

  window.fusioncellDeescalation = { refresh: refresh };
})();
