// Weatherboard's one island of script: drag and drop with SortableJS.
// A drop posts the same move form a keyboard user submits from the card panel; the server
// answers with the whole board, so a refused move simply puts the card back where it was.
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function moveCard(board, item, cell) {
    var previous = item.previousElementSibling;
    var values = {
      lane_id: cell.dataset.lane,
      column_id: cell.dataset.column,
      after: previous ? previous.dataset.id : "0",
      csrf_token: csrfToken()
    };
    var filters = document.getElementById("filters");
    if (filters) {
      new FormData(filters).forEach(function (value, key) { values[key] = value; });
    }
    htmx.ajax("POST", board.dataset.base + "/cards/" + item.dataset.id + "/move", {
      source: board, target: "#board", swap: "outerHTML", values: values
    });
  }

  function enableDragAndDrop(root) {
    var board = root.id === "board" ? root : root.querySelector && root.querySelector("#board");
    if (!board || !board.classList.contains("editable") || typeof Sortable === "undefined") {
      return;
    }
    board.querySelectorAll("ol.cell").forEach(function (cell) {
      Sortable.create(cell, {
        group: "board",
        animation: 120,
        draggable: ".card",
        filter: "a",
        preventOnFilter: false,
        onEnd: function (evt) {
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { return; }
          moveCard(board, evt.item, evt.to);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enableDragAndDrop(document.body);
    document.body.addEventListener("htmx:load", function (evt) { enableDragAndDrop(evt.target); });
  });
})();
