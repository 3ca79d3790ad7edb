/*
 * Intelligence pages, live: a new report, release or response released to the member's
 * organisation is announced at the top of the list (or of the report it answers) with a link.
 * The server sends only what is released to the member (the stream reads through the
 * releasability). The header's console.js keeps one stream per page for the hotline's events;
 * until it carries intelligence events too, this page listens for them on a stream of its own.
 */
(function () {
  "use strict";
  var root = document.getElementById("intel");
  var notice = document.getElementById("intel-arrived");
  if (!root || !notice || typeof window.EventSource !== "function") return;
  var labels = {};
  try {
    labels = JSON.parse(root.getAttribute("data-i18n") || "{}");
  } catch (err) {
    labels = {};
  }
  function t(text) {
    return labels[text] || text;
  }
  var report = root.getAttribute("data-report");
  function show(data) {
    if (!data || !data.report) return;
    if (report && data.responds_to !== report && data.report !== report) return;
    notice.textContent = "";
    var text = document.createElement("span");
    text.textContent = t("New intelligence has arrived.") + " " + (data.title || "") + " ";
    var link = document.createElement("a");
    link.href = data.url || "/intel";
    link.textContent = t("Show");
    link.className = "intel-arrived-link";
    link.setAttribute("data-report", data.report);
    notice.appendChild(text);
    notice.appendChild(link);
    notice.hidden = false;
    root.setAttribute("data-arrived", data.report);
  }
  var source = null;
  function connect() {
    source = new window.EventSource("/api/v1/stream");
    ["intel-report", "intel-response"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        try {
          show(JSON.parse(event.data));
        } catch (err) {
          /* a frame that is not JSON is not ours */
        }
      });
    });
    source.addEventListener("open", function () {
      root.setAttribute("data-live", "open");
    });
  }
  connect();
  window.addEventListener("pagehide", function () {
    if (source) source.close();
  });
})();
