/*
 * fusioncell page helpers. Plain script, no build step; load it after vendor/htmx.min.js.
 *
 * CSRF: every htmx request to this origin carries the token from
 * <meta name="csrf-token" content="..."> as the X-CSRF-Token header.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function sameOrigin(path) {
    try {
      return new URL(path, window.location.href).origin === window.location.origin;
    } catch (err) {
      return false;
    }
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    // Never send the token to another origin.
    if (token && sameOrigin(evt.detail.path)) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });
})();
