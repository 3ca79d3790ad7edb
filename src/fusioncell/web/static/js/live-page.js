/*
 * What the tracks' live pages share (deconfliction.js, verification.js, commercial.js,
 * diplomacy.js): their sections fetched again when the track's frames arrive, and their
 * countdowns. Load it before the page's own script.
 *
 * window.fusioncellLivePage.watch({root, sections, prefix, replace, after}):
 *   when a frame whose kind starts with `prefix` arrives on the page's one stream (console.js
 *   dispatches each as "fusioncell:frame"), or the stream comes back after it was down, the
 *   page asks its own address again for the element #<sections> (HX-Target, read through the
 *   policy like the page) and hands the answer to replace(html) (true when it put the
 *   sections in place; default: swap the element), then calls after(). One request per
 *   burst. `root` gets data-live (the stream's state) and data-refreshed (a count).
 *   Returns {refresh}.
 * window.fusioncellLivePage.swap(html, sections): the fresh #<sections> of an answer in place
 *   of the current one; returns [current, fresh] before the swap through keep(current, fresh)
 *   when given: window.fusioncellLivePage.swap(html, id, keep).
 * window.fusioncellLivePage.countdowns(selector, due, overdue): every element matching the
 *   selector with data-deadline (ms since the epoch) reads `due` or `overdue` with %(time)s
 *   replaced by the time left or past, in the page's language (the browser's Intl units:
 *   "9 דק׳ 38 שנ׳", "9 د 38 ث"), counted on the cell's clock (the header's data-now-ms), and
 *   gets the class "overdue" once past; each second. Returns the tick function.
 */
(function () {
  "use strict";

  if (window.fusioncellLivePage) return;

  function swap(html, sections, keep) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.querySelector("#" + sections);
    var current = document.getElementById(sections);
    if (!fresh || !current) return false;
    if (keep) keep(current, fresh);
    current.replaceWith(fresh);
    return true;
  }

  function watch(options) {
    var root = options.root;
    var sections = options.sections;
    var busy = false;
    var again = false;
    var refreshed = 0;
    var replace =
      options.replace ||
      function (html) {
        return swap(html, sections);
      };

    function refresh() {
      if (!sections) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      window
        .fetch(window.location.pathname + window.location.search, {
          credentials: "same-origin",
          headers: { Accept: "text/html", "HX-Request": "true", "HX-Target": sections }
        })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(
          function (html) {
            if (html && replace(html)) {
              refreshed += 1;
              root.setAttribute("data-refreshed", String(refreshed));
              if (options.after) options.after();
            }
          },
          function () {}
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
      var kind = event.detail && event.detail.kind;
      if (typeof kind === "string" && kind.indexOf(options.prefix) === 0) refresh();
    });
    document.addEventListener("fusioncell:connection", function (event) {
      var state = event.detail && event.detail.state;
      root.setAttribute("data-live", state || "connecting");
      if (state === "open" && root.getAttribute("data-was-down") === "yes") refresh();
      if (state && state !== "open") root.setAttribute("data-was-down", "yes");
    });
    if (document.body.getAttribute("data-connection") === "open") root.setAttribute("data-live", "open");
    return { refresh: refresh };
  }

  // Units in the page's language, as the browser's Intl names them; short Latin units where
  // it cannot.
  var LATIN_UNITS = { day: "d", hour: "h", minute: "min", second: "s" };
  var unitFormats = {};
  function unit(value, name) {
    try {
      if (!unitFormats[name]) {
        unitFormats[name] = new Intl.NumberFormat(document.documentElement.lang || "en", {
          style: "unit",
          unit: name,
          unitDisplay: "short"
        });
      }
      return unitFormats[name].format(value);
    } catch (err) {
      return value + " " + LATIN_UNITS[name];
    }
  }

  function span(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var d = Math.floor(s / 86400);
    var h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    if (d) return unit(d, "day") + " " + unit(h, "hour");
    if (h) return unit(h, "hour") + " " + unit(m, "minute");
    return unit(m, "minute") + " " + unit(sec, "second");
  }

  // The cell's clock, as the header gives it: a countdown counts from the cell's time.
  function skew() {
    var header = document.getElementById("header-clock");
    var found = header ? Number(header.getAttribute("data-now-ms")) - Date.now() : 0;
    return isFinite(found) ? found : 0;
  }

  function countdowns(selector, due, overdue) {
    var offset = skew();
    function tick() {
      var now = Date.now() + offset;
      document.querySelectorAll(selector).forEach(function (node) {
        var deadline = Number(node.getAttribute("data-deadline"));
        if (!deadline) return;
        var left = deadline - now;
        node.textContent = (left >= 0 ? due : overdue).replace("%(time)s", span(Math.abs(left)));
        node.classList.toggle("overdue", left < 0);
      });
    }
    tick();
    window.setInterval(tick, 1000);
    return tick;
  }

  window.fusioncellLivePage = { watch: watch, swap: swap, countdowns: countdowns, span: span };
})();
