/* rundocs: tables inside an element of class `rd-sortable` sort by a click (or Enter/Space) on
   a column header; a second click reverses. A column whose every filled cell reads as a number
   sorts numerically ("1.6 B", "12,000", "1.2e-4", "83.2%", "2 h 05 min", "∞", "0.905 (epoch 10)");
   others sort as text. Missing values ("", "—", "n/a") stay last either way. */
(function () {
  var MISSING = /^(|—|–|-|n\/a|none|nan)$/i;
  var SCALE = {"": 1, k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12, "%": 1};
  var NUMBER = /^([+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(k|K|M|B|G|T|%)?(?:\s*\(.*\))?$/i;
  var DURATION = /^(?:\d+(?:\.\d+)?\s*(?:d|h|min|ms|s)\s*)+$/;
  var SECONDS = {d: 86400, h: 3600, min: 60, s: 1, ms: 0.001};

  /* The cell's text as a number, or null when it does not read as one. */
  function readNumber(text) {
    text = text.replace(/\u2212/g, "-").replace(/\u00a0|\u202f/g, " ");
    if (text === "∞") return Infinity;
    var match = NUMBER.exec(text);
    if (match) return parseFloat(match[1].replace(/,/g, "")) * SCALE[match[2] || ""];
    if (!DURATION.test(text)) return null;
    var total = 0;
    text.replace(/(\d+(?:\.\d+)?)\s*(d|h|min|ms|s)/g, function (_, amount, unit) {
      total += parseFloat(amount) * SECONDS[unit];
    });
    return total;
  }

  function cellText(row, column) {
    var cell = row.cells[column];
    return cell ? cell.textContent.trim() : "";
  }

  function sortBy(table, column, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var texts = rows.map(function (row) { return cellText(row, column); });
    var numbers = texts.map(function (text) { return MISSING.test(text) ? null : readNumber(text); });
    var numeric = texts.every(function (text, i) { return MISSING.test(text) || numbers[i] !== null; });
    var order = rows.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      var missingA = MISSING.test(texts[a]), missingB = MISSING.test(texts[b]);
      if (missingA || missingB) return missingA === missingB ? a - b : (missingA ? 1 : -1);
      var difference = numeric ? numbers[a] - numbers[b]
        : texts[a].localeCompare(texts[b], undefined, {numeric: true, sensitivity: "base"});
      return (descending ? -difference : difference) || a - b;
    });
    order.forEach(function (i) { body.appendChild(rows[i]); });
  }

  function makeSortable(table) {
    var header = table.tHead && table.tHead.rows[0];
    if (!header || !table.tBodies.length || table.hasAttribute("data-rd-sortable")) return;
    table.setAttribute("data-rd-sortable", "");
    Array.prototype.forEach.call(header.cells, function (cell, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "rd-sort";
      while (cell.firstChild) button.appendChild(cell.firstChild);
      cell.appendChild(button);
      button.addEventListener("click", function () {
        var descending = cell.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(header.cells, function (other) { other.removeAttribute("aria-sort"); });
        cell.setAttribute("aria-sort", descending ? "descending" : "ascending");
        sortBy(table, column, descending);
      });
    });
  }

  window.rundocsSort = function (root) {
    root.querySelectorAll(".rd-sortable table").forEach(makeSortable);
  };
})();
