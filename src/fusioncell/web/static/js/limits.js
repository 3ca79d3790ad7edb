/*
 * Honest limits: every text field with a limit shows how many characters it holds, counted
 * as the server's len() counts them (code points: [...text].length), and says so when the
 * text is too long. Nothing is cut: the browser's own maxlength counts UTF-16 units and
 * silently stops typing or truncates a paste, so it is lifted into data-max-chars here and
 * the form refuses to submit (a custom validity message) until the text fits.
 *
 * The translated wording comes from this script tag's data-counter and data-over
 * attributes, with %(count)s and %(limit)s placeholders.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var labels = {
    counter: (script && script.getAttribute("data-counter")) || "%(count)s / %(limit)s",
    over:
      (script && script.getAttribute("data-over")) ||
      "Too long: %(count)s characters, at most %(limit)s.",
  };
  var FIELDS = 'textarea, input:not([type]), input[type="text"], input[type="search"]';
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function characters(text) {
    return [...text].length;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function limitOf(field) {
    if (field.hasAttribute("maxlength")) {
      field.setAttribute("data-max-chars", field.getAttribute("maxlength"));
      field.removeAttribute("maxlength");
    }
    var limit = parseInt(field.getAttribute("data-max-chars") || "", 10);
    return limit > 0 ? limit : null;
  }

  var counterIds = 0;

  function counterOf(field) {
    var id = field.getAttribute("data-counter-id");
    return id ? document.getElementById(id) : null;
  }

  function update(field) {
    var limit = parseInt(field.getAttribute("data-max-chars") || "", 10);
    var counter = counterOf(field);
    if (!(limit > 0) || !counter) {
      return;
    }
    var count = characters(field.value);
    var values = { count: numbers.format(count), limit: numbers.format(limit) };
    var over = count > limit;
    counter.textContent = fill(labels.counter, values);
    counter.classList.toggle("error-message", over);
    counter.classList.toggle("muted", !over);
    counter.setAttribute("data-over", over ? "true" : "false");
    field.setCustomValidity(over ? fill(labels.over, values) : "");
    if (over) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("data-limit-invalid", "true");
    } else if (field.hasAttribute("data-limit-invalid")) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("data-limit-invalid");
    }
  }

  function setUp(field) {
    if (counterOf(field) || limitOf(field) === null) {
      return;
    }
    var counter = document.createElement("span");
    counterIds += 1;
    counter.id = (field.id || "field") + "-chars-" + counterIds;
    counter.className = "char-counter muted";
    field.setAttribute("data-counter-id", counter.id);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", described ? described + " " + counter.id : counter.id);
    field.insertAdjacentElement("afterend", counter);
    update(field);
  }

  function scan(root) {
    if (root.matches && root.matches(FIELDS)) {
      setUp(root);
    }
    root.querySelectorAll(FIELDS).forEach(setUp);
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field && field.getAttribute && field.getAttribute("data-counter-id")) {
      update(field);
    }
  });

  function start() {
    scan(document);
    // Fields htmx swaps in (the compose form, a template's fields) get theirs too.
    document.body.addEventListener("htmx:afterSettle", function (event) {
      scan(event.target);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
