/*
 * Intelligence pages, live: a new report, release or response released to the member's
 * organisation is announced at the top of the list (or of the report it answers) with a link.
 * The server sends only what is released to the member (the stream reads through the
 * releasability). The header's console.js keeps the page's one stream and dispatches every
 * track's frames as "fusioncell:frame" events; this script listens to those and opens none.
 */
(function () {
  "use strict";
  var root = document.getElementById("intel");
  var notice = document.getElementById("intel-arrived");
  if (!root || !notice) return;
  var KINDS = ["intel-report", "intel-response"];
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
  document.addEventListener("fusioncell:frame", function (event) {
    var detail = event.detail || {};
    if (KINDS.indexOf(detail.kind) >= 0) show(detail.data);
  });
  document.addEventListener("fusioncell:connection", function (event) {
    var state = event.detail && event.detail.state;
    root.setAttribute("data-live", state === "open" ? "open" : state || "connecting");
  });
  var body = document.body;
  if (body.getAttribute("data-connection") === "open") root.setAttribute("data-live", "open");
})();
