/*
 * fusioncell hotline: a row of the inbox updated in place from a live frame, with no request.
 *
 * The stream's frames (GET /api/v1/stream) carry their event's payload. Two say all that a
 * row shows of them: an acknowledgement ({organisation, member, counts, at}) and an escalation
 * ({organisation, step, due_at, notify}). A delivery ({organisation}) carries no time, so only
 * a fetch of the row can show a recipient's first one; a party's second acknowledgement adds a
 * name to a list the row builds on the server. apply() answers false for those, and hotline.js
 * fetches the row (GET /hotline/messages/{id}/row, a constant number of queries).
 *
 * The row is the one views/render.py and templates/hotline/row.html make: parties are
 * <li class="party" data-organisation data-delivered data-acknowledged
 * data-escalation-steps>, countdowns sit in <p class="deadlines">. Applying a frame twice
 * changes nothing the second time. Loaded before hotline.js, which uses
 * window.fusioncellHotlineFrames.forViewer({organisation, member, t}).
 */
(function () {
  "use strict";

  // A log time (2024-05-01T10:00:00.123Z) as the rows show it: UTC, to the second.
  function shownTime(logTime) {
    return typeof logTime === "string" ? logTime.slice(0, 19).replace("T", " ") : "";
  }

  function partyIn(row, organisation) {
    var parties = row.querySelectorAll(".party[data-organisation]");
    for (var i = 0; i < parties.length; i++) {
      if (parties[i].getAttribute("data-organisation") === organisation) return parties[i];
    }
    return null;
  }

  // The countdowns views/render.py shows: the acknowledgement's while a party owes one, the
  // delivery's while one of those has not received the message.
  function settleCountdowns(row) {
    var holder = row.querySelector(".deadlines");
    if (!holder) return;
    var owing = 0;
    var undelivered = 0;
    var parties = row.querySelectorAll(".party");
    for (var i = 0; i < parties.length; i++) {
      if (parties[i].getAttribute("data-acknowledged") === "true") continue;
      owing += 1;
      if (parties[i].getAttribute("data-delivered") !== "true") undelivered += 1;
    }
    var delivery = holder.querySelector(".countdown-delivered");
    if (!owing) holder.remove();
    else if (!undelivered && delivery) delivery.remove();
  }

  function withdrawAck(row) {
    var form = row.querySelector("form.ack-form");
    if (form) form.remove();
    row.classList.remove("awaiting-ack");
  }

  function forViewer(viewer) {
    var t = viewer.t;

    function acknowledged(row, data) {
      if (data.member === viewer.member) withdrawAck(row);
      var party = partyIn(row, data.organisation);
      if (!party) return true; // not a recipient: the row lists only theirs
      if (data.counts !== true) return false; // a second name for the party's list
      if (party.getAttribute("data-acknowledged") === "true") return true; // shown already
      var shown = document.createElement("span");
      shown.className = "state acknowledged";
      var when = document.createElement("time");
      when.className = "ltr";
      when.textContent = shownTime(data.at);
      var by = document.createElement("span");
      by.className = "by";
      by.textContent = "(" + String(data.member || "?") + ")";
      shown.appendChild(document.createTextNode(t("acknowledged") + " "));
      shown.appendChild(when);
      shown.appendChild(document.createTextNode(" "));
      shown.appendChild(by);
      var pending = party.querySelector(".state.unacknowledged");
      if (pending) pending.replaceWith(shown);
      else party.appendChild(shown);
      party.setAttribute("data-acknowledged", "true");
      if (data.organisation === viewer.organisation) {
        row.setAttribute("data-owed", "false");
        withdrawAck(row);
      }
      settleCountdowns(row);
      return true;
    }

    // The row names the party's latest step, and counts them.
    function escalation(row, data) {
      var party = partyIn(row, data.organisation);
      if (!party) return true;
      if (typeof data.step !== "number") return false;
      var steps = (party.getAttribute("data-escalation-steps") || "").split(" ").filter(Boolean);
      if (steps.indexOf(String(data.step)) >= 0) return true; // shown already
      steps.push(String(data.step));
      party.setAttribute("data-escalation-steps", steps.join(" "));
      var shown = party.querySelector(".state.escalated");
      if (!shown) {
        shown = document.createElement("span");
        shown.className = "state escalated";
        party.appendChild(shown);
      }
      shown.setAttribute("data-steps", String(steps.length));
      var step =
        data.step === 0
          ? t("Delivery deadline missed")
          : t("Escalation step %(step)s", { step: data.step });
      shown.textContent = t("escalated") + ": " + step;
      return true;
    }

    function delivered(row, data) {
      var party = partyIn(row, data.organisation);
      return !party || party.getAttribute("data-delivered") === "true";
    }

    var appliers = { acknowledged: acknowledged, escalation: escalation, delivered: delivered };

    return {
      // Whether the row now shows the frame (false: fetch the row).
      apply: function (kind, row, data) {
        var applier = appliers[kind];
        return applier ? applier(row, data) : false;
      }
    };
  }

  window.fusioncellHotlineFrames = { forViewer: forViewer, shownTime: shownTime };
})();
