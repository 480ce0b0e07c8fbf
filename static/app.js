// Weatherboard's one island of script: drag and drop with SortableJS.
// A drop posts the same move form a keyboard user submits from the card panel; the server
// answers with the cells the move changed (or the whole board when the page was behind), so
// a refused move, answered with the whole board, simply puts the card back where it was.
// The CSRF token rides on the X-CSRFToken header that <body hx-headers> gives every htmx
// request; X-Board-Version tells the server which version of the board the page shows.
(function () {
  "use strict";

  var dragging = false;  // a live update never swaps the board out from under a drag

  var UNREACHABLE = "The server could not be reached, so the card was not moved. " +
    "It is back where it was; try again in a moment.";
  var FAILED_ACTION = "That did not work and nothing was changed. Reload the page and try again.";
  var FAILED = "The card was not moved; it is back where it was. Reload the page and try again.";

  function putBack(evt) {
    // Undo the drag in the page: take the card out, then insert it at its old index.
    evt.item.remove();
    evt.from.insertBefore(evt.item, evt.from.children[evt.oldIndex] || null);
  }

  function showError(board, xhr) {
    var message = !xhr || xhr.status === 0 ? UNREACHABLE :
      responseText(xhr, FAILED) + (xhr.responseText ? " The card is back where it was." : "");
    alertIn(board.querySelector("#notices"), message);
  }

  function alertIn(region, message) {
    if (!region) { return; }
    var p = document.createElement("p");
    p.className = "notice error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    region.replaceChildren(p);
  }

  function responseText(xhr, fallback) {
    // The server's error fragment is a one-line message; take its text only.
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var text = (doc.body.textContent || "").trim();
    return text && text.length <= 300 ? text : fallback;
  }

  function moveCard(board, evt) {
    var item = evt.item;
    var previous = item.previousElementSibling;
    var values = {
      lane_id: evt.to.dataset.lane,
      column_id: evt.to.dataset.column,
      after: previous ? previous.dataset.id : "0"
    };
    var filters = document.getElementById("filters");
    if (filters) {
      new FormData(filters).forEach(function (value, key) { values[key] = value; });
    }
    // A refusal (422) swaps in the server's board with its message. Any other failure swaps
    // nothing, so put the card back ourselves and say what happened.
    board.addEventListener("htmx:afterRequest", function answered(e) {
      if (e.detail.elt !== board) { return; }  // a request from inside the board, bubbling up
      board.removeEventListener("htmx:afterRequest", answered);
      if (!e.detail.successful) {
        putBack(evt);
        showError(board, e.detail.xhr);
      }
    });
    htmx.ajax("POST", board.dataset.base + "/cards/" + item.dataset.id + "/move", {
      source: board, target: "#board", swap: "outerHTML", values: values
    });
  }

  function enableDragAndDrop(root) {
    // root: the page, the board, or a part of it a change's answer swapped in out of band.
    if (!root.querySelectorAll) { return; }
    var board = root.closest("#board") || root.querySelector("#board");
    if (!board || !board.classList.contains("editable") || typeof Sortable === "undefined") {
      return;
    }
    root.querySelectorAll("ol.cell").forEach(function (cell) {
      // On a full page load both DOMContentLoaded and htmx:load reach the same board;
      // a second Sortable on a cell would double its listeners.
      if (Sortable.get(cell)) { return; }
      Sortable.create(cell, {
        group: "board",
        onStart: function () { dragging = true; },
        animation: 120,
        // On a touch screen a card is dragged after a long press only: a swipe scrolls.
        delay: 300,
        delayOnTouchOnly: true,
        draggable: ".card",
        filter: "a",
        preventOnFilter: false,
        onEnd: function (evt) {
          dragging = false;
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { return; }
          moveCard(board, evt);
        }
      });
    });
  }

  // The column switcher (a phone shows one column at a time, a tablet two; see app.css):
  // the choice is kept per board for the tab, and put back after every swap of the board.
  function chosenKey(board) { return "weatherboard-column:" + board.dataset.base; }

  function showColumn(board, number) {
    board.dataset.show = number;
    board.querySelectorAll(".colswitch button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.column === String(number)));
      var count = board.querySelectorAll(".cellwrap.c" + button.dataset.column + " li.card").length;
      button.querySelector(".count").textContent = "(" + count + ")";
    });
  }

  function columnSwitch() {
    var board = document.getElementById("board");
    if (!board || !board.querySelector(".colswitch")) { return; }
    var chosen = null;
    try { chosen = window.sessionStorage.getItem(chosenKey(board)); } catch (e) { chosen = null; }
    if (!chosen || !board.querySelector('.colswitch button[data-column="' + chosen + '"]')) {
      var active = board.querySelector(".colhead.active");  // the first column of work
      var found = active && /\bc(\d+)\b/.exec(active.className);
      chosen = found ? found[1] : "1";
    }
    showColumn(board, chosen);
  }

  // A notice that offers Undo (templates/board/_undo.html) goes once the server would no
  // longer take the undo: data-undo-ms after it came (the app's UNDO_SECONDS). A keyboard
  // user on its Undo button, when it goes or once the undo is answered, is put back on the
  // card's tile, not at the top of the page.
  function focusTile(cardId) {
    var tile = document.getElementById("card-" + cardId);
    var link = tile && tile.querySelector("a.ref");
    if (link) { link.focus(); }
  }

  function expireUndoNotices() {
    document.querySelectorAll(".notice.undo[data-undo-ms]:not([data-timed])").forEach(
      function (notice) {
        notice.dataset.timed = "1";
        window.setTimeout(function () {
          if (!notice.isConnected) { return; }
          var focused = notice.contains(document.activeElement);
          notice.remove();
          if (focused) { focusTile(notice.dataset.card); }
        }, Number(notice.dataset.undoMs) || 0);
      });
  }

  var undoing = null;  // the Undo pressed from its button: { xhr, card }

  function undoSent(evt) {
    var form = evt.detail.elt;
    var notice = form && form.closest && form.closest(".notice.undo");
    if (notice && notice.contains(document.activeElement)) {
      undoing = { xhr: evt.detail.xhr, card: notice.dataset.card };
    }
  }

  function undoAnswered(evt) {
    if (!undoing || evt.detail.xhr !== undoing.xhr) { return; }
    var card = undoing.card;
    undoing = null;
    var active = document.activeElement;
    if (!active || active === document.body) { focusTile(card); }
  }

  // @mention choices in a comment box (templates/board/_thread.html): the box asks the
  // server for members (its hx-get, on keyup) only while an @name is typed just before the
  // caret, sending that name alone; a choice picked puts "@username " in its place.
  var MENTION = /(^|[^\w@.])@([\w.-]*)$/;

  function mentionAt(box) {
    var found = MENTION.exec(box.value.slice(0, box.selectionStart));
    return found ? found[2] : null;
  }

  function mentionList(box) { return document.getElementById(box.dataset.mentions); }

  function askForMentions(evt) {
    var box = evt.detail.elt;
    if (!box || !box.dataset || !box.dataset.mentions) { return; }
    var typed = mentionAt(box);
    if (!typed) {
      evt.preventDefault();  // no @name being typed: nothing to ask, nothing to offer
      var list = mentionList(box);
      if (list) { list.replaceChildren(); }
      return;
    }
    evt.detail.parameters = { q: typed };
  }

  function pickMention(button) {
    var list = button.closest("ul.mentions");
    var box = list && document.getElementById(list.dataset.for);
    if (!box) { return; }
    var before = box.value.slice(0, box.selectionStart);
    var found = MENTION.exec(before);
    if (!found) { return; }
    var start = before.length - found[2].length;
    var inserted = button.dataset.username + " ";
    box.value = before.slice(0, start) + inserted + box.value.slice(box.selectionStart);
    list.replaceChildren();
    box.focus();
    box.setSelectionRange(start + inserted.length, start + inserted.length);
  }

  // The support desk: a canned reply fills the reply box (and makes it a reply to the
  // requester); the Copy button copies a new status link.
  function fillCanned(select) {
    var option = select.selectedOptions[0];
    var box = document.getElementById(select.dataset.fills);
    if (!option || !option.value || !box) { return; }
    box.value = option.dataset.body;
    var reply = box.form && box.form.querySelector('input[name="visibility"][value="reply"]');
    if (reply) { reply.checked = true; }
    box.focus();
  }

  function copyLink(button) {
    var field = document.getElementById(button.dataset.copy);
    var said = button.parentNode.querySelector(".copied");
    function done(words) { if (said) { said.textContent = words; } }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done("Copied."); },
        function () { done("Press Ctrl+C (or Cmd+C) to copy the selected link."); });
    } else {
      done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C (or Cmd+C) to copy the selected link.");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    body.addEventListener("change", function (evt) {
      if (evt.target.matches && evt.target.matches("select[data-fills]")) { fillCanned(evt.target); }
    });
    body.addEventListener("click", function (evt) {
      var button = evt.target.closest && evt.target.closest("button[data-copy]");
      if (button) { copyLink(button); }
    });
    columnSwitch();
    expireUndoNotices();
    body.addEventListener("htmx:afterSettle", expireUndoNotices);
    body.addEventListener("htmx:oobAfterSwap", expireUndoNotices);
    body.addEventListener("htmx:beforeRequest", undoSent);
    body.addEventListener("htmx:afterSettle", undoAnswered);
    body.addEventListener("htmx:afterSettle", columnSwitch);
    body.addEventListener("htmx:oobAfterSwap", columnSwitch);  // a move's answer: counts
    body.addEventListener("click", function (evt) {
      var button = evt.target.closest && evt.target.closest(".colswitch button");
      if (!button) { return; }
      var board = document.getElementById("board");
      try { window.sessionStorage.setItem(chosenKey(board), button.dataset.column); } catch (e) {}
      showColumn(board, button.dataset.column);
    });
    enableDragAndDrop(body);
    body.addEventListener("htmx:load", function (evt) { enableDragAndDrop(evt.target); });
    // Background polls (the live board, the emergency banner) fail quietly: the next poll
    // tries again, and an alert every few seconds would only bury the page.
    var quiet = { board: true, "board-live": true, emergency: true };
    body.addEventListener("htmx:responseError", function (evt) {
      if (evt.detail.elt && quiet[evt.detail.elt.id]) { return; }  // a drop is handled above
      // A page-wide alert for answers that swap nothing (403, an expired form, 5xx).
      alertIn(document.getElementById("flash"), responseText(evt.detail.xhr, FAILED_ACTION));
    });
    body.addEventListener("htmx:sendError", function (evt) {
      if (evt.detail.elt && quiet[evt.detail.elt.id]) { return; }
      alertIn(document.getElementById("flash"),
        "The server could not be reached; nothing was changed. Try again in a moment.");
    });
    body.addEventListener("htmx:configRequest", askForMentions);
    body.addEventListener("click", function (evt) {
      var pick = evt.target.closest && evt.target.closest("button.mention-pick");
      if (pick) { pickMention(pick); }
    });
    body.addEventListener("keydown", function (evt) {
      // Down from a comment box with choices offered goes to the first choice.
      var box = evt.target;
      if (evt.key !== "ArrowDown" || !box.dataset || !box.dataset.mentions) { return; }
      var first = mentionList(box) && mentionList(box).querySelector("button");
      if (first) { evt.preventDefault(); first.focus(); }
    });
    body.addEventListener("htmx:configRequest", function (evt) {
      var live = document.getElementById("board-live");
      if (live) { evt.detail.headers["X-Board-Version"] = live.dataset.version; }
    });
    // SortableJS leaves style attributes (often empty) on the tiles it animated. When htmx
    // swaps in new markup it copies the old element's attributes onto the new one with the
    // same id, and the strict CSP refuses a script-set style attribute (a console error).
    // Our markup has no style attributes: drop them from what is about to be replaced.
    function dropScriptStyles(evt) {
      var target = evt.detail.target;
      if (dragging || !target || !target.querySelectorAll) { return; }
      if (target.hasAttribute("style")) { target.removeAttribute("style"); }
      target.querySelectorAll("[style]").forEach(function (el) { el.removeAttribute("style"); });
    }
    body.addEventListener("htmx:oobBeforeSwap", dropScriptStyles);
    body.addEventListener("htmx:beforeSwap", function (evt) {
      dropScriptStyles(evt);
      if (dragging && evt.detail.requestConfig && evt.detail.requestConfig.elt &&
          evt.detail.requestConfig.elt.id === "board-live") {
        evt.detail.shouldSwap = false;  // the next poll brings the change after the drop
      }
    });
    // A card just added (the server names it once the board has settled): bring its tile
    // into view, mark it for a moment, and give it the keyboard focus.
    body.addEventListener("card-added", function (evt) {
      var tile = document.getElementById("card-" + evt.detail.id);
      if (!tile) { return; }  // hidden by the page's filter
      tile.classList.add("added");
      tile.scrollIntoView({ block: "center" });
      var link = tile.querySelector("a.ref");
      if (link) { link.focus({ preventScroll: true }); }
    });
    body.addEventListener("htmx:afterSwap", function (evt) {
      // Any other swap may have changed what the emergency banner shows: it asks again.
      // (An hx-trigger filter could say this, but filters need eval, which the CSP forbids.)
      var banner = document.getElementById("emergency");
      if (banner && evt.detail.target && evt.detail.target.id !== "emergency") {
        htmx.trigger(banner, "page-swapped");
      }
      // A card panel that opens takes the keyboard focus, so its controls are the next Tab.
      if (evt.detail.target && evt.detail.target.id === "panel") {
        var heading = evt.detail.target.querySelector("h2");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      }
    });
  });
})();
