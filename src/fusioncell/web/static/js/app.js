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

  // The phone layout folds the navigation and the tools into a menu (app.css): open it here.
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest ? evt.target.closest(".menu-toggle") : null;
    if (!toggle) return;
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    var open = !menu.classList.contains("open");
    menu.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    // Never send the token to another origin.
    if (token && sameOrigin(evt.detail.path)) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });
})();
