// The board from the keyboard: "?" lists the shortcuts, "/" goes to the filter, "j"/"k" and
// the arrow keys move between cards, Enter opens one, Esc closes its panel and returns to
// the card, "p" pulls the next card, "n" adds a card to the focused card's lane. After an
// action in the panel the focus stays on that control (or returns to the card), never to
// the top of the page. Keys typed into a field, or with Ctrl, Alt or Meta, are left alone.
(function () {
  "use strict";

  var opened = null;    // the id of the card whose panel was opened last
  var remembered = null;  // where the focus was in the panel before a swap replaced it

  function board() { return document.getElementById("board"); }

  function cardLinks() {
    var b = board();
    return b ? Array.prototype.slice.call(b.querySelectorAll("li.card a.ref")) : [];
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" ||
      (target && target.isContentEditable);
  }

  function focusCard(link) {
    if (!link) { return; }
    link.focus();
    link.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function step(delta) {
    var links = cardLinks();
    if (!links.length) { return; }
    var at = links.indexOf(document.activeElement);
    if (at === -1) { focusCard(links[delta > 0 ? 0 : links.length - 1]); return; }
    focusCard(links[Math.min(links.length - 1, Math.max(0, at + delta))]);
  }

  function sideways(delta) {
    // The first card of the next (or previous) cell with cards in the same lane.
    var current = document.activeElement.closest("ol.cell");
    if (!current) { return; }
    var cells = Array.prototype.slice.call(
      board().querySelectorAll('ol.cell[data-lane="' + current.dataset.lane + '"]'));
    for (var i = cells.indexOf(current) + delta; i >= 0 && i < cells.length; i += delta) {
      var link = cells[i].querySelector("li.card a.ref");
      if (link) { focusCard(link); return; }
    }
  }

  function focusOpened() {
    // Back onto the card whose panel was opened last, where it is now.
    focusCard(opened && document.querySelector("#card-" + opened + " a.ref"));
  }

  function closePanel() {
    var panel = document.getElementById("panel");
    if (!panel || !panel.querySelector(".card-detail")) { return false; }
    panel.replaceChildren();
    var base = board() && board().dataset.base;
    if (base && window.location.search.indexOf("card=") !== -1) {
      window.history.replaceState(null, "", base);
    }
    focusOpened();
    return true;
  }

  function addCard() {
    var lane = document.activeElement.closest && document.activeElement.closest("ol.cell");
    var selector = lane ? 'ol.cell[data-lane="' + lane.dataset.lane + '"]' : "ol.cell";
    var cells = board().querySelectorAll(selector);
    for (var i = 0; i < cells.length; i++) {
      var add = cells[i].parentElement.querySelector("a.add");
      if (add) { add.click(); return; }
    }
  }

  function onKey(evt) {
    if (!board() || evt.ctrlKey || evt.metaKey || evt.altKey) { return; }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) { return; }  // the dialog closes itself on Esc
    if (evt.key === "Escape") {
      if (closePanel()) { evt.preventDefault(); }
      return;
    }
    if (typing(evt.target)) { return; }
    var onCard = document.activeElement && document.activeElement.matches &&
      document.activeElement.matches("li.card a.ref");
    var handled = true;
    switch (evt.key) {
      case "?":
        if (dialog) { dialog.showModal(); }
        break;
      case "/":
        var filter = document.getElementById("filter-q");
        if (filter) { filter.focus(); } else { handled = false; }
        break;
      case "j": step(1); break;
      case "k": step(-1); break;
      case "ArrowDown": if (onCard) { step(1); } else { handled = false; } break;
      case "ArrowUp": if (onCard) { step(-1); } else { handled = false; } break;
      case "ArrowRight": if (onCard) { sideways(1); } else { handled = false; } break;
      case "ArrowLeft": if (onCard) { sideways(-1); } else { handled = false; } break;
      case "p":
        var pull = document.querySelector("button.pull");
        if (pull) { pull.click(); } else { handled = false; }
        break;
      case "n": addCard(); break;
      default: handled = false;
    }
    if (handled) { evt.preventDefault(); }
  }

  function describe(element) {
    // How to find a panel control again once a swap has replaced it.
    if (!element || !element.closest || !element.closest("#panel")) { return null; }
    if (element.id) { return { id: element.id }; }
    var form = element.closest("form");
    return form ? { action: form.getAttribute("action"), text: element.textContent } : null;
  }

  function restore() {
    if (!remembered) { return; }
    var wanted = remembered;
    remembered = null;
    var found = wanted.id ? document.getElementById(wanted.id) : null;
    if (!found && wanted.action) {
      document.querySelectorAll('#panel form[action="' + wanted.action + '"] button')
        .forEach(function (button) {
          if (!found && button.textContent === wanted.text) { found = button; }
        });
    }
    if (found) { found.focus(); return; }
    var active = document.activeElement;
    if (!active || active === document.body) { focusOpened(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("keydown", onKey);
    var body = document.body;
    body.addEventListener("click", function (evt) {
      var link = evt.target.closest && evt.target.closest("li.card a.ref");
      if (link) { opened = link.closest("li.card").dataset.id; }
    });
    // Only the answer to the panel's own request restores its focus: a live poll may come
    // and go in between.
    body.addEventListener("htmx:beforeRequest", function (evt) {
      var where = describe(document.activeElement);
      if (where) { where.xhr = evt.detail.xhr; remembered = where; }
    });
    // An answer may swap the board and then the panel out of band: look once all of it is in.
    body.addEventListener("htmx:afterSettle", function (evt) {
      if (remembered && evt.detail.xhr === remembered.xhr) { window.setTimeout(restore, 0); }
    });
    var help = document.getElementById("shortcuts-help");
    var dialog = document.getElementById("shortcuts");
    if (help && dialog) {
      help.addEventListener("click", function () { dialog.showModal(); });
      dialog.querySelector("button.close").addEventListener("click", function () {
        dialog.close();
      });
    }
  });
})();
