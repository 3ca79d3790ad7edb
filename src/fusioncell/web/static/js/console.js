/*
 * fusioncell console: on every page a member opens, what needs them and whether the page is live.
 *
 * <body data-stream data-i18n data-organisation data-member> (base.html) and the strip
 * (#console-strip, #console-alert; web/templates/console.html) work without this script. With it:
 *
 *   - ONE EventSource per page on data-stream (GET /api/v1/stream, the one live bus). Each frame
 *     becomes a DOM CustomEvent "fusioncell:frame" on document ({kind, id, data}) for every kind
 *     a track's feed emits (data-stream-kinds, from the registry); hotline.js and intel.js
 *     listen to those instead of opening a stream of their own. "fusioncell:connection"
 *     ({state: "connecting" | "open" | "down", since}) tells the page the stream's state;
 *   - a message, acknowledgement or escalation frame fetches the strip again (GET /console, one
 *     request per burst). An item that alerts (a FLASH) and is new, or any item whose escalation
 *     steps grew, raises the banner again, plays the alert sound and shows a desktop
 *     notification if the member allowed them. An item the party acknowledged leaves the strip
 *     and the banner, on every tab: the acknowledgement's frame reaches each tab's stream;
 *   - Acknowledge in the strip or the banner posts (with the CSRF token) without leaving the page;
 *   - when the stream drops, the header says since when and that deadlines may be stale, and the
 *     countdowns say so; on reconnecting, the browser sends Last-Event-ID, the server replays
 *     what was missed, and the header says how many events arrived;
 *   - countdowns (<time class="countdown" data-deadline-ms>) tick every second on the server's
 *     clock (data-now-ms on the strip);
 *   - "Test sound" plays the alert (and unlocks audio: browsers allow sound only after a click);
 *     "Allow desktop notifications" asks the browser, only when clicked.
 *
 * Texts come translated in data-i18n, keyed by their English text. No third-party code.
 * window.fusioncellConsole exposes the pieces hotline.js and the tests use.
 */
(function () {
  "use strict";

  var body = document.body;
  var STREAM = body.getAttribute("data-stream");
  if (!STREAM) return;
  // Every track's live event kinds, from the registry (bootstrap.FEEDS, in base.html): the one
  // stream dispatches them all, so a track's script listens here and opens no stream of its own.
  var KINDS = (body.getAttribute("data-stream-kinds") || "").split(/\s+/).filter(Boolean);
  var REFRESHING = ["message", "acknowledged", "escalation"];

  var labels = {};
  try {
    labels = JSON.parse(body.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    labels = {};
  }

  function t(english, vars) {
    var given = labels[english];
    var text = typeof given === "string" && given ? given : english;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole;
    });
  }

  function isolate(text) {
    return document.documentElement.dir === "rtl" ? "\u2068" + text + "\u2069" : text;
  }

  // -- the server's clock and the countdowns ----------------------------------------------

  var offset = 0;
  var stale = false;

  function calibrate(element, attribute) {
    var value = Number(element && element.getAttribute(attribute || "data-now-ms"));
    if (value > 0) offset = value - Date.now();
  }

  function serverNow() {
    return Date.now() + offset;
  }

  function clockText(milliseconds) {
    var whole = Math.floor(Math.abs(milliseconds) / 1000);
    var hours = Math.floor(whole / 3600);
    var minutes = Math.floor((whole % 3600) / 60);
    var seconds = whole % 60;
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    var text = hours ? hours + ":" + pad(minutes) + ":" + pad(seconds) : minutes + ":" + pad(seconds);
    return milliseconds < 0 ? t("overdue by %(time)s", { time: text }) : text;
  }

  function tick() {
    var now = serverNow();
    var nodes = document.querySelectorAll("time.countdown[data-deadline-ms]");
    var suffix = stale ? " (" + t("may be stale") + ")" : "";
    for (var i = 0; i < nodes.length; i++) {
      var left = Number(nodes[i].getAttribute("data-deadline-ms")) - now;
      var text = clockText(left) + suffix;
      if (nodes[i].textContent !== text) nodes[i].textContent = text;
      nodes[i].classList.toggle("stale", stale);
      var wrap = nodes[i].closest(".countdown-wrap");
      if (wrap) wrap.classList.toggle("overdue", left < 0);
      var item = nodes[i].closest(".console-item");
      if (item) item.classList.toggle("overdue", left < 0);
    }
  }

  // -- sound and desktop notifications -----------------------------------------------------

  var audio = null;
  var beeps = 0;

  function audioContext() {
    if (audio === null) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      try {
        audio = new Context();
      } catch (err) {
        return null;
      }
    }
    return audio;
  }

  // Three short square-wave pulses at 880 Hz, made here: no sound file is fetched.
  function beep() {
    var context = audioContext();
    beeps += 1;
    body.setAttribute("data-beeps", String(beeps));
    if (!context) return;
    if (context.state === "suspended" && context.resume) context.resume().catch(function () {});
    var start = context.currentTime + 0.05;
    for (var i = 0; i < 3; i++) {
      var at = start + i * 0.3;
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.22);
    }
  }

  function unlockAudio() {
    var context = audioContext();
    if (context && context.state === "suspended" && context.resume) {
      context.resume().catch(function () {});
    }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  var notifyButton = document.querySelector(".console-notify");
  var notifyState = document.querySelector(".console-notify-state");

  function showNotifyState() {
    if (!("Notification" in window)) return;
    var permission = window.Notification.permission;
    if (notifyButton) notifyButton.hidden = permission !== "default";
    if (notifyState) {
      notifyState.hidden = permission === "default";
      notifyState.textContent =
        permission === "granted"
          ? t("Notifications are on.")
          : t("Notifications are blocked in this browser's settings.");
    }
  }

  function notify(text, url) {
    if (!("Notification" in window) || window.Notification.permission !== "granted") return;
    try {
      var shown = new window.Notification("fusioncell", { body: text, tag: url, requireInteraction: true });
      shown.onclick = function () {
        window.focus();
        window.location.href = url;
      };
    } catch (err) {
      // Some browsers allow notifications only from a service worker: the banner still shows.
    }
  }

  // -- the strip and the banner ------------------------------------------------------------

  var DISMISSED = "fusioncell.dismissed";

  function dismissed() {
    try {
      return JSON.parse(window.sessionStorage.getItem(DISMISSED) || "{}") || {};
    } catch (err) {
      return {};
    }
  }

  function keyOf(item) {
    return item.getAttribute("data-id") + "#" + item.getAttribute("data-steps");
  }

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#console-strip .console-item"));
  }

  function known() {
    var found = {};
    items().forEach(function (item) {
      found[item.getAttribute("data-id")] = Number(item.getAttribute("data-steps"));
    });
    return found;
  }

  var banner = document.getElementById("console-alert");

  function bannerText(item) {
    var steps = Number(item.getAttribute("data-steps"));
    var summary = isolate(item.getAttribute("data-summary") || "");
    if (steps > 0 && item.getAttribute("data-alerts") !== "true") {
      return t("Escalation step %(step)s: %(summary)s", { step: steps, summary: summary });
    }
    return t("%(precedence)s awaiting your acknowledgement: %(summary)s", {
      precedence: item.getAttribute("data-kind-label") || "",
      summary: summary
    });
  }

  // The banner shows an item of the strip: its text, countdown, link and Acknowledge.
  function showBanner(item, loud) {
    if (!banner) return;
    var text = bannerText(item);
    banner.querySelector(".console-alert-text").textContent = text;
    var actions = banner.querySelector(".console-alert-actions");
    var dismiss = actions.querySelector(".console-alert-dismiss");
    while (actions.firstChild !== dismiss) actions.removeChild(actions.firstChild);
    var countdown = item.querySelector(".countdown-wrap");
    if (countdown) actions.insertBefore(countdown.cloneNode(true), dismiss);
    var open = document.createElement("a");
    open.className = "console-alert-open";
    open.href = item.getAttribute("data-url");
    open.textContent = banner.getAttribute("data-open-label") || "Open";
    actions.insertBefore(open, dismiss);
    var form = item.querySelector("form.console-ack");
    if (form) actions.insertBefore(form.cloneNode(true), dismiss);
    banner.setAttribute("data-id", item.getAttribute("data-id"));
    banner.setAttribute("data-steps", item.getAttribute("data-steps"));
    banner.hidden = false;
    if (loud) {
      banner.classList.remove("pulse");
      void banner.offsetWidth;
      banner.classList.add("pulse");
      beep();
      notify(text, item.getAttribute("data-url"));
    }
    tick();
  }

  function hideBannerUnlessOpen() {
    if (!banner || banner.hidden) return;
    var id = banner.getAttribute("data-id");
    if (!document.getElementById("console-item-" + id)) banner.hidden = true;
  }

  function updateTitle() {
    var strip = document.getElementById("console-strip");
    var count = strip ? strip.querySelector(".console-count") : null;
    var text = count && Number(count.getAttribute("data-count")) > 0 ? "(" + count.textContent + ") " : "";
    document.title = text + document.title.replace(/^\(\d+\+?\) /, "");
  }

  var before = known();

  // Whatever is new since the strip was last seen: a new alerting item, or a new step.
  function alertOnChanges() {
    var raised = null;
    items().forEach(function (item) {
      var id = item.getAttribute("data-id");
      var steps = Number(item.getAttribute("data-steps"));
      var isNew = !Object.prototype.hasOwnProperty.call(before, id);
      var stepped = !isNew && steps > before[id];
      var alerting = (isNew && item.getAttribute("data-alerts") === "true") || (stepped && steps > 0);
      if (alerting && raised === null) raised = item;
    });
    before = known();
    if (raised) showBanner(raised, true);
    hideBannerUnlessOpen();
    updateTitle();
  }

  function placeStrip(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var strip = holder.content.getElementById("console-strip");
    var old = document.getElementById("console-strip");
    if (!strip || !old) return;
    calibrate(strip);
    old.replaceWith(strip);
    alertOnChanges();
    tick();
  }

  var stripBusy = false;
  var stripAgain = false;
  var stripTimer = null;

  function refreshStrip() {
    if (stripBusy) {
      stripAgain = true;
      return;
    }
    stripBusy = true;
    fetch("/console", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) placeStrip(html);
      })
      .catch(function () {})
      .then(function () {
        stripBusy = false;
        if (stripAgain) {
          stripAgain = false;
          refreshStrip();
        }
      });
  }

  function scheduleStrip() {
    if (stripTimer !== null) return;
    stripTimer = window.setTimeout(function () {
      stripTimer = null;
      refreshStrip();
    }, 150);
  }

  // Acknowledge from the strip or the banner, from any page, without leaving it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.classList || !form.classList.contains("console-ack")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    var token = document.querySelector('meta[name="csrf-token"]');
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": token ? token.getAttribute("content") : "", "HX-Request": "true" },
      body: new URLSearchParams(new FormData(form))
    })
      .then(function (response) {
        if (!response.ok && response.status !== 409) {
          throw new Error(String(response.status));
        }
        document.dispatchEvent(new CustomEvent("fusioncell:acknowledged", { detail: { url: form.action } }));
        refreshStrip();
      })
      .catch(function (err) {
        if (button) button.disabled = false;
        var text = banner && banner.querySelector(".console-alert-text");
        if (text && !banner.hidden) text.textContent = t("Could not acknowledge: %(status)s", { status: err.message });
      });
  });

  if (banner) {
    banner.addEventListener("click", function (event) {
      if (!event.target.classList.contains("console-alert-dismiss")) return;
      var seen = dismissed();
      seen[banner.getAttribute("data-id") + "#" + banner.getAttribute("data-steps")] = true;
      try {
        window.sessionStorage.setItem(DISMISSED, JSON.stringify(seen));
      } catch (err) {
        // Private mode: dismissed for this page only.
      }
      banner.hidden = true;
    });
    // Dismissed on an earlier page of this tab: stays dismissed until a new step.
    var shown = banner.getAttribute("data-id");
    if (shown && dismissed()[shown + "#" + banner.getAttribute("data-steps")]) banner.hidden = true;
  }

  // -- the one stream ----------------------------------------------------------------------

  var connection = document.getElementById("console-connection");
  var header = document.querySelector(".site-header");
  var state = "connecting";
  var downSince = null;
  var caughtUp = -1; // counting the frames replayed after a reconnection, or -1
  var caughtTimer = null;
  var noticeTimer = null;

  // In UTC, as the header's clock and the log's times, written as the page's language
  // writes a time, with the zone named ("09:41 UTC"; minutes are enough, and a phone's
  // header has no room for more).
  function timeOfDay(moment) {
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || "en", {
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
        timeZone: "UTC",
        timeZoneName: "short",
        numberingSystem: "latn"
      }).format(moment);
    } catch (err) {
      return [moment.getUTCHours(), moment.getUTCMinutes()].map(pad).join(":") + " UTC";
    }
  }

  function setState(next) {
    if (next === "down" && state === "down") return;
    var was = state;
    state = next;
    body.setAttribute("data-connection", next);
    if (header) header.setAttribute("data-connection", next);
    stale = next === "down";
    if (next === "down") downSince = downSince || new Date();
    if (connection) {
      connection.setAttribute("data-state", next);
      if (next === "down") {
        connection.textContent = t("Not connected since %(time)s — deadlines shown may be stale", {
          time: timeOfDay(downSince)
        });
      } else if (next === "open") {
        connection.textContent = t("Live");
      } else {
        connection.textContent = t("Connecting…");
      }
    }
    if (next === "open" && was === "down") {
      downSince = null;
      caughtUp = 0;
      finishCatchUp();
      refreshStrip();
    }
    tick();
    document.dispatchEvent(new CustomEvent("fusioncell:connection", { detail: { state: next } }));
  }

  // Replayed frames come in a burst right after the reconnection: counted until a quiet second.
  function finishCatchUp() {
    if (caughtTimer !== null) window.clearTimeout(caughtTimer);
    caughtTimer = window.setTimeout(function () {
      caughtTimer = null;
      if (connection && state === "open") {
        connection.textContent = t("Reconnected: %(count)s events caught up", { count: caughtUp });
        connection.setAttribute("data-caught-up", String(caughtUp));
        if (noticeTimer !== null) window.clearTimeout(noticeTimer);
        noticeTimer = window.setTimeout(function () {
          if (state === "open") connection.textContent = t("Live");
        }, 10000);
      }
      caughtUp = -1;
    }, 1000);
  }

  var source = null;
  var lastEventId = "";
  var retry = 1000;

  function onFrame(kind, event) {
    if (event.lastEventId) lastEventId = event.lastEventId;
    var data = null;
    try {
      data = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (caughtUp >= 0) {
      caughtUp += 1;
      finishCatchUp();
    }
    document.dispatchEvent(
      new CustomEvent("fusioncell:frame", { detail: { kind: kind, id: event.lastEventId, data: data } })
    );
    if (REFRESHING.indexOf(kind) >= 0) scheduleStrip();
  }

  function connect() {
    if (typeof window.EventSource !== "function") return;
    var url = STREAM;
    // A new EventSource forgets the last id: resume from it in the address instead.
    if (/^\d+$/.test(lastEventId)) url += "?last_event_id=" + lastEventId;
    source = new window.EventSource(url);
    source.addEventListener("open", function () {
      retry = 1000;
      setState("open");
    });
    source.addEventListener("error", function (event) {
      setState("down");
      if (event.target === source && source.readyState === window.EventSource.CLOSED) {
        // Refused, not a blip the browser retries itself: try again, more slowly.
        window.setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      }
    });
    KINDS.forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        onFrame(kind, event);
      });
    });
  }

  window.addEventListener("pagehide", function () {
    if (source) source.close();
  });

  // -- controls ----------------------------------------------------------------------------

  var testSound = document.querySelector(".console-test-sound");
  if (testSound) {
    testSound.addEventListener("click", function () {
      unlockAudio();
      beep();
    });
  }
  if (notifyButton && "Notification" in window) {
    notifyButton.addEventListener("click", function () {
      var asked = window.Notification.requestPermission(showNotifyState);
      if (asked && typeof asked.then === "function") asked.then(showNotifyState);
    });
  }
  showNotifyState();

  var strip = document.getElementById("console-strip");
  if (strip) calibrate(strip);
  setState("connecting");
  tick();
  window.setInterval(tick, 1000);
  connect();

  window.fusioncellConsole = {
    t: t,
    tick: tick,
    calibrate: calibrate,
    clockText: clockText,
    serverNow: serverNow,
    beep: beep,
    refreshStrip: refreshStrip,
    state: function () {
      return state;
    }
  };
})();
