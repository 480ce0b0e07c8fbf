// The theme: light, dark, or the system's (the default). Loaded in <head> without defer, so
// a chosen theme is on <html data-theme="..."> before the page is first painted (no flash
// of the other theme); app.css reads that attribute, and follows prefers-color-scheme when
// it is absent. The header's three buttons (base.html, hidden until this script shows them)
// choose, and the choice is kept in localStorage for every page and every visit.
(function () {
  "use strict";

  var KEY = "weatherboard-theme";
  var root = document.documentElement;
  var current = stored();

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "system";
    } catch (e) {
      return "system";  // storage off (a private window may refuse it): follow the system
    }
  }

  function apply(choice) {
    if (choice === "system") {
      root.removeAttribute("data-theme");
    } else {
      root.setAttribute("data-theme", choice);
    }
  }

  function show() {
    // The buttons of the page (a boosted page load brings a new header): pressed is the choice.
    var choice = current;
    document.querySelectorAll(".theme").forEach(function (group) {
      group.hidden = false;
      group.querySelectorAll("button[data-theme-choice]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.dataset.themeChoice === choice));
      });
    });
  }

  function choose(choice) {
    try {
      if (choice === "system") {
        window.localStorage.removeItem(KEY);
      } else {
        window.localStorage.setItem(KEY, choice);
      }
    } catch (e) { /* not kept, but applied to this page all the same */ }
    current = choice;
    apply(choice);
    show();
  }

  apply(current);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".theme button[data-theme-choice]");
    if (button) { choose(button.dataset.themeChoice); }
  });
  // Another tab chose: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === KEY) { current = stored(); apply(current); show(); }
  });
  document.addEventListener("DOMContentLoaded", show);
  document.addEventListener("htmx:load", show);
})();
