/* ipv6scan report: sort, filter and page the tables; open drill-downs; expand for print.
   Plain DOM, no libraries, nothing fetched; the page reads fine without it. */
(function () {
  "use strict";
  var words = {};
  try {
    words = JSON.parse(document.getElementById("report-text").textContent);
  } catch (e) {
    words = {};
  }
  var lang = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(lang);
  var collator = new Intl.Collator(lang, { numeric: true, sensitivity: "base" });

  function say(key, values) {
    return (words[key] || "").replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
    });
  }

  function sortKey(row, column, numeric) {
    var cell = row.cells[column];
    if (!cell) return numeric ? -Infinity : "";
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    if (!numeric) return raw.trim();
    var n = parseFloat(raw.replace(/[^0-9.+-]/g, ""));
    return isNaN(n) ? -Infinity : n;
  }

  function DataTable(table) {
    var self = this;
    this.table = table;
    this.body = table.tBodies[0];
    this.rows = Array.prototype.slice.call(this.body.rows);
    this.rows.forEach(function (row) {
      row.searchText = row.textContent.toLowerCase();
    });
    this.pageSize = parseInt(table.getAttribute("data-page") || "0", 10) || 0;
    this.page = 0;
    this.printing = false;
    this.controls = document.querySelector('.filters[data-table="' + table.id + '"]');
    this.pager = document.querySelector('.pager[data-table="' + table.id + '"]');
    this.count = this.controls ? this.controls.querySelector(".count") : null;
    if (this.controls) {
      this.controls.addEventListener("input", function () { self.page = 0; self.render(); });
      this.controls.addEventListener("change", function () { self.page = 0; self.render(); });
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      var button = th.querySelector("button");
      if (!button) return;
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { self.sort(th, column); });
    });
    if (this.pager) this.buildPager();
    this.render();
  }

  DataTable.prototype.sort = function (th, column) {
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (other) {
      if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var keyed = this.rows.map(function (row, i) {
      return { row: row, key: sortKey(row, column, numeric), i: i };
    });
    keyed.sort(function (a, b) {
      var c = numeric ? a.key - b.key : collator.compare(a.key, b.key);
      if (c === 0) return a.i - b.i; // stable
      return ascending ? c : -c;
    });
    this.rows = keyed.map(function (k) { return k.row; });
    var fragment = document.createDocumentFragment();
    this.rows.forEach(function (row) { fragment.appendChild(row); });
    this.body.appendChild(fragment);
    this.page = 0;
    this.render();
  };

  DataTable.prototype.matches = function () {
    if (!this.controls) return this.rows;
    var wanted = [];
    var query = "";
    Array.prototype.forEach.call(this.controls.querySelectorAll("[data-key]"), function (el) {
      var key = el.getAttribute("data-key");
      if (key === "text") query = el.value.trim().toLowerCase();
      else if (el.value) wanted.push([key, el.value]);
    });
    return this.rows.filter(function (row) {
      for (var i = 0; i < wanted.length; i++) {
        if (row.getAttribute("data-" + wanted[i][0]) !== wanted[i][1]) return false;
      }
      return !query || row.searchText.indexOf(query) !== -1;
    });
  };

  DataTable.prototype.render = function () {
    var matching = this.matches();
    var size = this.printing ? 0 : this.pageSize;
    var pages = size ? Math.max(1, Math.ceil(matching.length / size)) : 1;
    this.page = Math.min(this.page, pages - 1);
    var from = size ? this.page * size : 0;
    var to = size ? Math.min(matching.length, from + size) : matching.length;
    var visible = new Set(matching.slice(from, to));
    this.rows.forEach(function (row) { row.hidden = !visible.has(row); });
    var status = matching.length
      ? say("shown", {
          from: number.format(matching.length ? from + 1 : 0),
          to: number.format(to),
          total: number.format(matching.length),
        })
      : say("none", {});
    if (this.count) this.count.textContent = status;
    if (this.pager) {
      this.prev.disabled = this.page === 0;
      this.next.disabled = this.page >= pages - 1;
      this.pager.hidden = pages < 2;
      this.where.textContent = number.format(this.page + 1) + " / " + number.format(pages);
    }
  };

  DataTable.prototype.buildPager = function () {
    var self = this;
    function button(label, step) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", function () { self.page += step; self.render(); });
      self.pager.appendChild(b);
      return b;
    }
    this.prev = button(say("prev", {}), -1);
    this.where = document.createElement("span");
    this.pager.appendChild(this.where);
    this.next = button(say("next", {}), 1);
  };

  var tables = Array.prototype.map.call(document.querySelectorAll("table.data"), function (t) {
    return new DataTable(t);
  });

  function openTarget(hash) {
    if (!hash || hash.charAt(0) !== "#") return;
    var el = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (el && el.tagName === "DETAILS") {
      el.open = true;
      el.scrollIntoView();
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.drill-link") : null;
    if (link) openTarget(link.getAttribute("href"));
  });
  window.addEventListener("hashchange", function () { openTarget(location.hash); });
  openTarget(location.hash);

  // A finding's fix links to its text, written once in the list of fixes (#fixes): each
  // finding gets a copy, so the reader need not leave the drill-down.
  var links = document.querySelectorAll(".drill .howto[data-fix]");
  Array.prototype.forEach.call(links, function (el) {
    var def = document.getElementById("fix-" + el.getAttribute("data-fix"));
    var text = def ? def.querySelector(".howto") : null;
    if (!text) return;
    el.textContent = "";
    Array.prototype.forEach.call(text.childNodes, function (node) {
      el.appendChild(node.cloneNode(true));
    });
  });

  // Print: every target drill-down expanded, every ranking row shown; restored afterwards.
  var closedForPrint = [];
  window.addEventListener("beforeprint", function () {
    closedForPrint = Array.prototype.filter.call(
      document.querySelectorAll("details.target"), function (d) { return !d.open; });
    closedForPrint.forEach(function (d) { d.open = true; });
    tables.forEach(function (t) {
      if (t.table.hasAttribute("data-print-all")) { t.printing = true; t.render(); }
    });
  });
  window.addEventListener("afterprint", function () {
    closedForPrint.forEach(function (d) { d.open = false; });
    closedForPrint = [];
    tables.forEach(function (t) {
      if (t.printing) { t.printing = false; t.render(); }
    });
  });
})();
