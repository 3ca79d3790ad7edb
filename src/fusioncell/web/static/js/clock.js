/*
 * fusioncell header clock: the time in UTC (the cell's one time zone: deadlines, the log and
 * every page's times are in UTC), and beside it the time where the browser is, each in the
 * page's language (Intl.DateTimeFormat with <html lang>), ticking every second.
 *
 * <p id="header-clock" data-now-ms data-local-label> (base.html) holds the server's time when
 * the page was made; the clock runs on the server's time (the offset from this browser's
 * clock), as the countdowns do. The local time is left out where the browser is on UTC.
 * Digits stay Latin (numberingSystem "latn"), as the server's Babel formats write them.
 */
(function () {
  "use strict";

  var clock = document.getElementById("header-clock");
  if (!clock || typeof Intl !== "object" || !Intl.DateTimeFormat) return;
  var lang = document.documentElement.lang || "en";
  var utcNode = clock.querySelector(".clock-utc");
  var localNode = clock.querySelector(".clock-local");
  var label = clock.getAttribute("data-local-label") || "%(time)s";
  var serverMs = Number(clock.getAttribute("data-now-ms"));
  var offset = serverMs > 0 ? serverMs - Date.now() : 0;

  var options = {
    hour: "numeric",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
    numberingSystem: "latn"
  };
  var utc, local;
  try {
    utc = new Intl.DateTimeFormat(lang, Object.assign({ timeZone: "UTC" }, options));
    local = new Intl.DateTimeFormat(lang, options);
  } catch (err) {
    return;
  }
  var zone = local.resolvedOptions().timeZone || "";
  var onUtc = /^(Etc\/)?(UTC|GMT|UCT|Universal|Zulu)$/.test(zone);
  if (localNode) {
    localNode.hidden = onUtc;
    if (!onUtc) localNode.setAttribute("title", zone);
  }

  function tick() {
    var now = new Date(Date.now() + offset);
    var iso = now.toISOString();
    if (utcNode) {
      utcNode.textContent = utc.format(now);
      utcNode.setAttribute("datetime", iso);
    }
    if (localNode && !onUtc) {
      localNode.textContent = label.replace("%(time)s", local.format(now));
      localNode.setAttribute("datetime", iso);
    }
  }

  tick();
  window.setInterval(tick, 1000);
  window.fusioncellClock = { tick: tick, zone: zone };
})();
