/*
 * fusioncell hotline: keeps the inbox and the supervisor's deadlines live.
 *
 * The page (<div id="hotline" data-mode="inbox|deadlines" data-stream data-server-now-ms
 * data-i18n>) works without this script: forms post, filters are links. With it:
 *
 *   - the page's one stream (console.js opens GET /api/v1/stream and dispatches each frame as a
 *     "fusioncell:frame" event: message, delivered, acknowledged and escalation, with JSON data
 *     naming the message) keeps the page live. The
 *     inbox fetches the row of a new message (GET /hotline/messages/{id}/row, a constant number
 *     of queries) and inserts it in log order when it passes the filters in the address bar.
 *     It updates the rows it shows from the frames themselves (hotline-frames.js): an
 *     acknowledgement and an escalation change the row in place, with no request; a
 *     recipient's first delivery (whose frame carries no time) or a party's second
 *     acknowledgement fetches the row, one request for a burst of frames. The deadlines page
 *     fetches its list again (one request per burst), for those frames and for a deadline action
 *     ("deadline_action": what a supervisor recorded about a row), keeping what a watcher was
 *     typing in a row's form; a row's form posts with htmx and its cell comes back in place.
 *     A row the party owes goes to the pinned list (most urgent first) when the inbox shows it;
 *   - countdowns (<time class="countdown" data-deadline-ms>) tick every second on the server's
 *     clock (data-server-now-ms on the page, data-now-ms on each partial), not the browser's:
 *     console.js ticks them, and says when they may be stale. The alert banner and its sound
 *     are console.js's too, on every page;
 *   - the compose form shows only the fields of the chosen template.
 *
 * Texts come translated from data-i18n, keyed by their English text. Plain script, no build
 * step, no third-party code. window.fusioncellHotline exposes the pieces for tests.
 */
(function () {
  "use strict";

  var root = document.getElementById("hotline");
  if (!root) return;
  document.documentElement.classList.add("hotline-js");

  var MODE = root.getAttribute("data-mode");
  var EVENT_KINDS = ["message", "delivered", "acknowledged", "escalation"];
  // What the supervisor did about a deadline: shown on the deadlines page only.
  var DEADLINE_KINDS = EVENT_KINDS.concat(["deadline_action"]);
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var TRUE = ["1", "true", "on", "yes"];

  // -- texts ------------------------------------------------------------------------------

  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}") || {};
  } catch (err) {
    if (window.console) window.console.warn("fusioncell hotline: bad data-i18n", err);
  }

  function t(english, vars) {
    var given = labels[english];
    var text = typeof given === "string" && given ? given : english;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole;
    });
  }

  // -- the server's clock and the countdowns ----------------------------------------------

  var offset = 0; // the server's clock minus the browser's, in milliseconds
  var shell = window.fusioncellConsole || null; // console.js: the page's stream and clock

  function calibrate(element, attribute) {
    var value = Number(element && element.getAttribute(attribute || "data-now-ms"));
    if (value > 0) offset = value - Date.now();
    if (shell) shell.calibrate(element, attribute);
  }

  function serverNow() {
    return Date.now() + offset;
  }

  // The same text the server renders (views.countdown_text): m:ss, h:mm:ss, or overdue by.
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
    if (shell) {
      shell.tick();
      return;
    }
    var now = serverNow();
    var nodes = document.querySelectorAll("time.countdown[data-deadline-ms]");
    for (var i = 0; i < nodes.length; i++) {
      var left = Number(nodes[i].getAttribute("data-deadline-ms")) - now;
      var text = clockText(left);
      if (nodes[i].textContent !== text) nodes[i].textContent = text;
      var wrap = nodes[i].closest(".countdown-wrap");
      if (wrap) wrap.classList.toggle("overdue", left < 0);
    }
  }

  // -- partials ---------------------------------------------------------------------------

  function fragment(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.firstElementChild;
  }

  function activate(element) {
    if (window.htmx && typeof window.htmx.process === "function") window.htmx.process(element);
  }

  function getHtml(url, headers) {
    var sent = { Accept: "text/html" };
    for (var name in headers || {}) sent[name] = headers[name];
    return fetch(url, { credentials: "same-origin", headers: sent }).then(function (response) {
      return response.ok ? response.text() : null;
    });
  }

  // -- the inbox --------------------------------------------------------------------------

  function matchesFilters(row) {
    var query = new URLSearchParams(window.location.search);
    var precedence = query.get("precedence");
    if (precedence && row.getAttribute("data-precedence") !== precedence) return false;
    var channel = query.get("channel");
    if (channel && row.getAttribute("data-channel") !== channel) return false;
    var unacknowledged = (query.get("unacknowledged") || "").toLowerCase();
    if (TRUE.indexOf(unacknowledged) >= 0 && row.getAttribute("data-owed") !== "true") return false;
    return true;
  }

  function placeRow(row) {
    var id = row.getAttribute("data-message");
    var existing = document.getElementById("message-" + id);
    var fits = matchesFilters(row);
    if (existing) {
      if (fits) {
        existing.replaceWith(row);
        activate(row);
      } else {
        existing.remove();
      }
      return;
    }
    var holder = document.getElementById("hotline-messages");
    var list = document.getElementById("hotline-message-list");
    if (!fits || !holder || !list) return;
    var index = Number(row.getAttribute("data-log-index"));
    var rows = list.querySelectorAll(":scope > li.message");
    var before = null;
    for (var i = 0; i < rows.length; i++) {
      if (Number(rows[i].getAttribute("data-log-index")) < index) {
        before = rows[i];
        break;
      }
    }
    // On an older page, newer messages belong to the pages before; past the last row, after.
    if (before === rows[0] && rows.length && holder.getAttribute("data-has-newer") === "true") return;
    if (before === null && rows.length && holder.getAttribute("data-has-older") === "true") return;
    var pinned = document.getElementById("hotline-pinned-list");
    if (pinned && row.classList.contains("awaiting-ack") && !window.location.search) {
      pin(pinned, row);
    } else {
      list.insertBefore(row, before);
    }
    activate(row);
    row.classList.add("arrived");
    var empty = holder.querySelector(".empty-state");
    if (empty) empty.hidden = true;
  }

  var RANK = ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"];

  // What the party owes, most urgent first: by precedence, then by arrival.
  function pin(pinned, row) {
    var rank = RANK.indexOf(row.getAttribute("data-precedence"));
    var rows = pinned.querySelectorAll(":scope > li.message");
    var before = null;
    for (var i = 0; i < rows.length; i++) {
      if (RANK.indexOf(rows[i].getAttribute("data-precedence")) > rank) {
        before = rows[i];
        break;
      }
    }
    pinned.insertBefore(row, before);
    pinned.closest(".hotline-pinned").hidden = false;
  }

  var fetching = {}; // message id -> true, or "again" when an event came during the fetch

  function refreshRow(id) {
    if (!UUID.test(id)) return;
    if (fetching[id]) {
      fetching[id] = "again";
      return;
    }
    fetching[id] = true;
    getHtml("/hotline/messages/" + id + "/row")
      .then(function (html) {
        var row = html ? fragment(html) : null;
        if (row) {
          calibrate(row);
          placeRow(row);
          tick();
        }
      })
      .catch(function (err) {
        if (window.console) window.console.warn("fusioncell hotline: row", id, err);
      })
      .then(function () {
        var again = fetching[id] === "again";
        delete fetching[id];
        if (again) refreshRow(id);
      });
  }

  // A burst of frames about one message (deliveries to several parties) becomes one request.
  var rowTimers = {};

  function scheduleRow(id) {
    if (rowTimers[id]) return;
    rowTimers[id] = window.setTimeout(function () {
      delete rowTimers[id];
      refreshRow(id);
    }, 150);
  }

  // -- rows updated in place from the frames (hotline-frames.js) ---------------------------

  // Without it (the deadlines page), every frame about a row fetches the row.
  var frames = window.fusioncellHotlineFrames
    ? window.fusioncellHotlineFrames.forViewer({
        organisation: root.getAttribute("data-organisation") || "",
        member: root.getAttribute("data-member") || "",
        t: t
      })
    : { apply: function () { return false; } };

  function updateRow(kind, id, data) {
    var row = document.getElementById("message-" + id);
    if (kind === "message") {
      // A message never changes: only one not shown yet needs its row.
      if (!row) refreshRow(id);
      return;
    }
    if (!row) return;
    if (fetching[id]) {
      // The row on its way may have been rendered before this frame's change.
      fetching[id] = "again";
      return;
    }
    if (!frames.apply(kind, row, data)) {
      scheduleRow(id);
    } else if (!matchesFilters(row)) {
      row.remove(); // e.g. acknowledged, under "awaiting our acknowledgement"
    }
  }

  // -- the deadlines page -----------------------------------------------------------------

  var listTimer = null;
  var listBusy = false;
  var listAgain = false;

  // A watcher may be typing in a row's form when the list is fetched again (an escalation, or
  // another watcher's action, refreshes it): what they typed, and where, carries over into the
  // fresh list. The fresh form's attributes are set, so the values survive the swap.
  var KEPT_FIELDS = ["id", "kind", "note", "follow_up_at"];

  function touched(form) {
    if (form.contains(document.activeElement)) return true;
    for (var i = 0; i < KEPT_FIELDS.length; i++) {
      var field = form.elements[KEPT_FIELDS[i]];
      if (!field || field.type === "hidden") continue;
      if (field.tagName === "SELECT") {
        var chosen = field.options[field.selectedIndex];
        if (chosen && !chosen.defaultSelected) return true;
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function keepForms(old, fresh) {
    var focus = null;
    var forms = old.querySelectorAll(".deadline-actions form");
    for (var i = 0; i < forms.length; i++) {
      var cell = forms[i].closest(".deadline-actions");
      var twin = cell && fresh.querySelector("#" + CSS.escape(cell.id) + " form");
      if (!twin || !touched(forms[i])) continue;
      for (var j = 0; j < KEPT_FIELDS.length; j++) {
        var from = forms[i].elements[KEPT_FIELDS[j]];
        var to = twin.elements[KEPT_FIELDS[j]];
        if (!from || !to) continue;
        if (to.tagName === "SELECT") {
          for (var k = 0; k < to.options.length; k++) {
            to.options[k].toggleAttribute("selected", to.options[k].value === from.value);
          }
        } else {
          to.setAttribute("value", from.value);
        }
      }
      var active = document.activeElement;
      if (forms[i].contains(active) && active.name) {
        focus = { cell: cell.id, name: active.name, start: null, end: null };
        try {
          focus.start = active.selectionStart;
          focus.end = active.selectionEnd;
        } catch (err) {
          focus.start = null; // a select or a date has no selection
        }
      }
    }
    return focus;
  }

  function restoreFocus(focus) {
    if (!focus) return;
    var cell = document.getElementById(focus.cell);
    var field = cell && cell.querySelector("form") && cell.querySelector("form").elements[focus.name];
    if (!field) return;
    field.focus();
    if (typeof focus.start === "number" && typeof field.setSelectionRange === "function") {
      try {
        field.setSelectionRange(focus.start, focus.end);
      } catch (err) {
        // not a text field
      }
    }
  }

  function refreshList() {
    if (listBusy) {
      listAgain = true;
      return;
    }
    listBusy = true;
    getHtml("/hotline/deadlines", { "HX-Request": "true", "HX-Target": "hotline-deadlines" })
      .then(function (html) {
        var fresh = html ? fragment(html) : null;
        var old = document.getElementById("hotline-deadlines");
        if (fresh && old) {
          calibrate(fresh);
          var focus = keepForms(old, fresh);
          if (window.htmx && typeof window.htmx.swap === "function") {
            // htmx's own swap: the new forms are processed and settled, so the other scripts
            // (the character counters) see them as they see any swapped content.
            window.htmx.swap(old, fresh.outerHTML, { swapStyle: "outerHTML" });
          } else {
            old.replaceWith(fresh);
          }
          restoreFocus(focus);
          tick();
        }
      })
      .catch(function (err) {
        if (window.console) window.console.warn("fusioncell hotline: deadlines", err);
      })
      .then(function () {
        listBusy = false;
        if (listAgain) {
          listAgain = false;
          refreshList();
        }
      });
  }

  function scheduleList() {
    // A burst of events (an escalation per party) becomes one request.
    if (listTimer === null) {
      listTimer = window.setTimeout(function () {
        listTimer = null;
        refreshList();
      }, 150);
    }
  }

  // -- the stream (console.js's, one per page) -------------------------------------------

  var live = document.getElementById("hotline-live");

  function setLive(state) {
    root.setAttribute("data-live", state);
    if (!live) return;
    live.setAttribute("data-state", state);
    live.textContent = t(
      state === "open" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…"
    );
  }

  function messageOf(data) {
    if (!data || typeof data !== "object") return null;
    var id = data.message || data.message_id;
    if (!id && data.payload) id = data.payload.message || data.payload.message_id;
    if (id && typeof id === "object") id = id.id;
    return typeof id === "string" && UUID.test(id) ? id : null;
  }

  document.addEventListener("fusioncell:frame", function (event) {
    var detail = event.detail || {};
    if (MODE === "deadlines") {
      if (DEADLINE_KINDS.indexOf(detail.kind) >= 0) scheduleList();
      return;
    }
    if (EVENT_KINDS.indexOf(detail.kind) < 0) return;
    var id = messageOf(detail.data);
    if (id) updateRow(detail.kind, id, detail.data);
  });

  document.addEventListener("fusioncell:connection", function (event) {
    var state = event.detail && event.detail.state;
    setLive(state === "open" ? "open" : state === "down" ? "reconnecting" : "connecting");
  });

  // -- the compose form -------------------------------------------------------------------

  function showTemplate(form) {
    var select = form.querySelector("select[name=form]");
    if (!select) return;
    var sets = form.querySelectorAll("fieldset.compose-fields");
    for (var i = 0; i < sets.length; i++) {
      var chosen = sets[i].getAttribute("data-form") === select.value;
      sets[i].hidden = !chosen;
      sets[i].disabled = !chosen; // a hidden template's fields are not sent
    }
  }

  function setUpCompose() {
    var form = document.querySelector("#hotline-compose form");
    if (!form || form.hasAttribute("data-ready")) return;
    form.setAttribute("data-ready", "true");
    showTemplate(form);
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "form") showTemplate(form);
    });
  }

  // The compose form, and a deadlines row's form, come back with their problems as a 422 (or
  // 404, 409): show them.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var target = detail.target;
    var response = String(detail.serverResponse || "");
    if (
      target &&
      detail.xhr.status >= 400 &&
      detail.xhr.status < 500 &&
      ((target.id === "hotline-compose" && response.indexOf('id="hotline-compose"') >= 0) ||
        (target.classList.contains("deadline-actions") &&
          response.indexOf('id="' + target.id + '"') >= 0))
    ) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  document.addEventListener("htmx:load", function () {
    setUpCompose();
    tick();
  });

  // A message this page sent: show it at once, whether or not its event has come yet.
  document.addEventListener("hotline:sent", function (event) {
    var id = event.detail && event.detail.message;
    if (typeof id === "string") refreshRow(id);
  });

  calibrate(root, "data-server-now-ms");
  setUpCompose();
  tick();
  if (!shell) window.setInterval(tick, 1000);
  if (shell) setLive(shell.state() === "open" ? "open" : shell.state() === "down" ? "reconnecting" : "connecting");

  window.fusioncellHotline = {
    clockText: clockText,
    serverNow: serverNow,
    matchesFilters: matchesFilters,
    refreshRow: refreshRow,
    updateRow: updateRow,
    refreshList: refreshList
  };
})();
