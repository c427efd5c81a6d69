/* ipv6scan report: sort, filter and page the tables; open drill-downs; expand for print.
   Plain DOM, no libraries, nothing fetched. The result rows are compressed data in the
   page (#report-data, report/packed.py), decompressed when first needed; every string
   from them is shown as text. The summary, ranking and fixes read fine without it. */
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
    this.table = table;
    this.body = table.tBodies[0];
    this.rows = Array.prototype.slice.call(this.body.rows);
    this.rows.forEach(function (row) {
      row.searchText = row.textContent.toLowerCase();
    });
    this.pageSize = parseInt(table.getAttribute("data-page") || "0", 10) || 0;
    wire(this, table, function (column) { return column; });
  }

  // What both kinds of table share: the filters and pager named after the table, the
  // sortable headers (`key` maps a header's column to what sort() takes), a first render.
  function wire(self, table, key) {
    self.page = 0;
    self.printing = false;
    self.controls = document.querySelector('.filters[data-table="' + table.id + '"]');
    self.pager = document.querySelector('.pager[data-table="' + table.id + '"]');
    self.count = self.controls ? self.controls.querySelector(".count") : null;
    if (self.controls) {
      self.controls.addEventListener("input", function () { self.page = 0; self.render(); });
      self.controls.addEventListener("change", function () { self.page = 0; self.render(); });
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      var button = th.querySelector("button");
      if (!button) return;
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { self.sort(th, key(column)); });
    });
    if (self.pager) self.buildPager();
    self.render();
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

  // A table's filter controls: the [key, value] pairs chosen, and the search text.
  function readFilters(controls) {
    var filters = { wanted: [], query: "" };
    if (!controls) return filters;
    Array.prototype.forEach.call(controls.querySelectorAll("[data-key]"), function (el) {
      var key = el.getAttribute("data-key");
      if (key === "text") filters.query = el.value.trim().toLowerCase();
      else if (el.value) filters.wanted.push([key, el.value]);
    });
    return filters;
  }

  DataTable.prototype.matches = function () {
    if (!this.controls) return this.rows;
    var filters = readFilters(this.controls);
    var wanted = filters.wanted;
    var query = filters.query;
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

  // ---- the compressed rows (report/packed.py) -------------------------------------
  // Decompressed once, when a reader first nears a table or opens a target.
  var rows = null; // the decoded document, once loaded
  var loading = null;
  function loadRows() {
    if (loading) return loading;
    loading = new Promise(function (resolve) {
      var data = document.getElementById("report-data");
      var bin = atob(data ? data.textContent : "");
      var bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      // a Blob's own stream: nothing is fetched (the CSP's connect-src 'none' holds)
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      resolve(new Response(stream).text());
    }).then(function (text) {
      var doc = JSON.parse(text);
      doc.anchors = {};
      doc.a.forEach(function (pair) { doc.anchors[doc.s[pair[0]]] = pair[1]; });
      rows = doc;
      return doc;
    });
    loading.catch(function () {
      Array.prototype.forEach.call(document.querySelectorAll(".drill-rows, .filters .count"),
        function (el) { el.textContent = say("failed", {}); });
    });
    return loading;
  }

  function has(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }
  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text; // data is text, never markup
    return el;
  }
  function field(doc, row, k) { return doc.s[row[k]]; }
  function label(doc, kind, id) {
    var names = doc.l[kind] || {};
    return has(names, id) ? names[id] : id;
  }
  function badge(doc, status) {
    return node("span", "badge s-" + status, label(doc, "status", status));
  }
  function checkCell(doc, check) {
    var td = node("td", "", label(doc, "check", check));
    td.appendChild(node("span", "cid", check));
    return td;
  }
  function targetCell(doc, name, className, anchor) {
    var td = node("td", className);
    if (anchor === undefined) anchor = has(doc.anchors, name) ? doc.anchors[name] : null;
    if (!anchor) { td.textContent = name; return td; }
    var link = node("a", "drill-link", name);
    link.href = "#" + anchor;
    td.appendChild(link);
    return td;
  }
  // a fix's text is written once in the page's list (#fixes): each row gets a copy
  function howto(doc, row) {
    if (row[7] < 0) return null;
    var def = document.getElementById("fix-" + doc.s[row[7]]);
    var text = def ? def.querySelector(".howto") : null;
    return text ? text.cloneNode(true) : null;
  }

  function fillDrill(details, doc) {
    var box = details.querySelector(".drill-rows[data-drill]");
    if (!box || box.hasAttribute("data-done")) return;
    box.textContent = "";
    var fragment = document.createDocumentFragment();
    (doc.d[box.getAttribute("data-drill")] || []).forEach(function (g) {
      var h = node("h4", "subject", label(doc, "tier", doc.s[g[0]]) + " · ");
      h.appendChild(node("span", "mono", doc.s[g[1]]));
      if (g[2]) h.appendChild(document.createTextNode(" · " + say("score", { score: g[2] })));
      fragment.appendChild(h);
      var table = node("table", "checks");
      var head = table.createTHead().insertRow();
      ["check", "status", "detail"].forEach(function (k) {
        head.appendChild(node("th", "", say(k, {})));
      });
      var body = table.createTBody();
      g[3].forEach(function (item) {
        var row = doc.r[item[0]];
        var tr = body.insertRow();
        tr.appendChild(checkCell(doc, field(doc, row, 4)));
        tr.insertCell().appendChild(badge(doc, field(doc, row, 5)));
        var cell = node("td", "detail", field(doc, row, 6));
        var fix = howto(doc, row);
        if (fix) cell.appendChild(fix);
        if (item[1] >= 0) {
          var evidence = node("details", "evidence");
          evidence.appendChild(node("summary", "", say("evidence", {})));
          evidence.appendChild(node("pre", "", doc.s[item[1]]));
          cell.appendChild(evidence);
        }
        tr.appendChild(cell);
      });
      fragment.appendChild(table);
    });
    box.appendChild(fragment);
    box.setAttribute("data-done", "1");
  }

  var targets = Array.prototype.slice.call(document.querySelectorAll("details.target"));
  targets.forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      var box = d.querySelector(".drill-rows");
      if (rows) { fillDrill(d, rows); return; }
      if (box && !box.hasChildNodes()) box.textContent = say("loading", {});
      loadRows().then(function (doc) { fillDrill(d, doc); }, function () {});
    });
  });

  // ---- the result table: rows of the document ("r"), a page of them made at a time
  function resultSpec(doc) {
    var items = [];
    for (var i = 0; i < doc.t; i++) items.push(doc.r[i]);
    var at = { target: 0, sector: 1, tier: 2, subject: 3, check: 4, status: 5, detail: 6 };
    return {
      items: items,
      value: function (row, key) { return has(at, key) ? field(doc, row, at[key]) : ""; },
      text: function (row, col) {
        var id = field(doc, row, at[col]);
        if (col === "sector" || col === "tier" || col === "status") return label(doc, col, id);
        if (col === "check") return label(doc, "check", id) + " " + id;
        return id;
      },
      make: function (row) {
        var tr = document.createElement("tr");
        ["sector", "tier", "status", "check"].forEach(function (k) {
          tr.setAttribute("data-" + k, field(doc, row, at[k]));
        });
        tr.appendChild(targetCell(doc, field(doc, row, 0), ""));
        tr.appendChild(node("td", "", this.text(row, "sector")));
        tr.appendChild(node("td", "", this.text(row, "tier")));
        tr.appendChild(node("td", "subject mono", field(doc, row, 3)));
        tr.appendChild(checkCell(doc, field(doc, row, 4)));
        tr.insertCell().appendChild(badge(doc, field(doc, row, 5)));
        tr.appendChild(node("td", "detail", field(doc, row, 6)));
        return tr;
      },
    };
  }

  // ---- the ranking: the document's "k" (html.py _ranking says what a row holds)
  var SVG = "http://www.w3.org/2000/svg";
  function svgNode(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }
  var sparkCount = 0;
  // the same picture as charts.py's sparkline: a 0-100 scale, the last point marked
  function sparkline(row) {
    var values = row[7];
    var width = 120, height = 28, pad = 3;
    var step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
    function y(v) { return (pad + (height - 2 * pad) * (1 - Math.max(0, Math.min(100, v)) / 100)).toFixed(1); }
    var id = "spark" + (++sparkCount);
    var svg = svgNode("svg", { "class": "chart spark", role: "img", width: width, height: height,
      viewBox: "0 0 " + width + " " + height, "aria-labelledby": id + "-t " + id + "-d" });
    var title = svgNode("title", { id: id + "-t" });
    title.textContent = say("trend", { name: row[0] });
    var desc = svgNode("desc", { id: id + "-d" });
    desc.textContent = say("trend_desc", { name: row[0], first: row[10], start: row[8],
                                           last: row[11], end: row[9] });
    svg.appendChild(title);
    svg.appendChild(desc);
    svg.appendChild(svgNode("line", { x1: pad, x2: width - pad, y1: y(50), y2: y(50), "class": "spark-mid" }));
    var points = values.map(function (v, i) { return [(pad + i * step).toFixed(1), y(v)]; });
    svg.appendChild(svgNode("polyline", { points: points.map(function (p) { return p.join(","); }).join(" "),
                                          "class": "spark-line", fill: "none" }));
    var last = points[points.length - 1];
    svg.appendChild(svgNode("circle", { cx: last[0], cy: last[1], r: 2.6, "class": "spark-end" }));
    return svg;
  }

  function rankingSpec(doc) {
    var k = doc.k && doc.k.rows ? doc.k : { rows: [], tiers: [], sector: {}, stage: {},
                                            service: {}, light: {} };
    function stage(id) { return has(k.stage, id) ? k.stage[id] : [id, -1]; }
    function sector(id) { return has(k.sector, id) ? k.sector[id] : id; }
    function pill(score, text) {
      if (score === null) return node("span", "pill score-none", say("unscored", {}));
      var tone = score >= 80 ? "score-good" : score >= 50 ? "score-mid" : "score-bad";
      return node("span", "pill " + tone, text);
    }
    function lights(row) {
      var box = node("span", "lights");
      row[5].forEach(function (pair) {
        var service = has(k.service, pair[0]) ? k.service[pair[0]] : pair[0];
        var light = has(k.light, pair[1]) ? k.light[pair[1]] : pair[1];
        var el = node("span", "light l-" + pair[1], service);
        el.title = say("pair", { label: service, value: light });
        el.appendChild(node("span", "visually-hidden", " " + light));
        box.appendChild(el);
      });
      return box;
    }
    function tier(row, col) {
      var i = k.tiers.indexOf(col.slice(5));
      return i < 0 ? [null, "–"] : row[6][i];
    }
    return {
      items: k.rows,
      value: function (row, key) { return key === "sector" ? row[1] : key === "stage" ? row[4] : ""; },
      text: function (row, col) {
        if (col === "name") return row[0];
        if (col === "sector") return sector(row[1]);
        if (col === "stage") return stage(row[4])[0];
        return "";
      },
      number: function (row, col) {
        if (col === "rank") return row[14];
        if (col === "score") return row[2] === null ? -1 : row[2];
        if (col === "stage") return stage(row[4])[1];
        if (col === "failures") return row[12];
        if (col.indexOf("tier:") === 0) { var t = tier(row, col)[0]; return t === null ? -1 : t; }
        return 0;
      },
      make: function (row, columns) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-sector", row[1]);
        tr.setAttribute("data-stage", row[4]);
        columns.forEach(function (col) {
          var td;
          if (col === "rank") td = node("td", "num", number.format(row[14]));
          else if (col === "name") td = targetCell(doc, row[0], "tname", row[13]);
          else if (col === "sector") td = node("td", "", sector(row[1]));
          else if (col === "score") { td = node("td", "num"); td.appendChild(pill(row[2], row[3])); }
          else if (col === "stage") td = node("td", "stage", stage(row[4])[0]);
          else if (col === "services") { td = node("td"); td.appendChild(lights(row)); }
          else if (col === "trend") { td = node("td", "col-trend"); if (row[7].length > 1) td.appendChild(sparkline(row)); }
          else if (col === "failures") td = node("td", "num", number.format(row[12]));
          else if (col.indexOf("tier:") === 0) td = node("td", "num", tier(row, col)[1]);
          else td = node("td");
          tr.appendChild(td);
        });
        return tr;
      },
    };
  }

  // A table whose rows are data: filtered, sorted and paged here, only a page in the DOM.
  function PackedTable(table, spec) {
    var self = this;
    this.table = table;
    this.spec = spec;
    this.body = table.tBodies[0];
    this.rows = spec.items.slice();
    this.search = new Map(); // a row's lower-case text, made when first searched
    this.columns = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) {
      return th.getAttribute("data-col") || "";
    });
    this.pageSize = parseInt(table.getAttribute("data-page") || "0", 10) || 100;
    var filters = document.querySelector('.filters[data-table="' + table.id + '"]');
    var status = filters ? filters.querySelector("select[data-key=status]") : null;
    this.statusRank = {}; // a status sorts as its place among the filter's options
    if (status) {
      Array.prototype.forEach.call(status.options, function (o, i) { self.statusRank[o.value] = i; });
    }
    wire(this, table, function (column) { return self.columns[column]; });
    table.setAttribute("data-ready", "1");
  }
  PackedTable.prototype.buildPager = DataTable.prototype.buildPager;

  PackedTable.prototype.sortKey = function (row, col, numeric) {
    if (!numeric) return this.spec.text(row, col);
    if (col === "status") return this.statusRank[this.spec.value(row, "status")] || 0;
    return this.spec.number(row, col);
  };

  PackedTable.prototype.sort = function (th, col) {
    var self = this;
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (other) {
      if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var keyed = this.rows.map(function (row, at) {
      return { row: row, key: self.sortKey(row, col, numeric), at: at };
    });
    keyed.sort(function (a, b) {
      var c = numeric ? a.key - b.key : collator.compare(a.key, b.key);
      if (c === 0) return a.at - b.at; // stable
      return ascending ? c : -c;
    });
    this.rows = keyed.map(function (k) { return k.row; });
    this.page = 0;
    this.render();
  };

  PackedTable.prototype.matches = function () {
    var self = this;
    var filters = readFilters(this.controls);
    var wanted = filters.wanted;
    var query = filters.query;
    return this.rows.filter(function (row) {
      for (var k = 0; k < wanted.length; k++) {
        if (self.spec.value(row, wanted[k][0]) !== wanted[k][1]) return false;
      }
      if (!query) return true;
      var text = self.search.get(row);
      if (text === undefined) {
        text = self.columns.map(function (col) { return self.spec.text(row, col); })
          .join(" ").toLowerCase();
        self.search.set(row, text);
      }
      return text.indexOf(query) !== -1;
    });
  };

  PackedTable.prototype.render = function () {
    var self = this;
    var matching = this.matches();
    var size = this.printing ? 0 : this.pageSize;
    var pages = size ? Math.max(1, Math.ceil(matching.length / size)) : 1;
    this.page = Math.min(this.page, pages - 1);
    var from = size ? this.page * size : 0;
    var to = size ? Math.min(matching.length, from + size) : matching.length;
    var fragment = document.createDocumentFragment();
    matching.slice(from, to).forEach(function (row) {
      fragment.appendChild(self.spec.make(row, self.columns));
    });
    this.body.textContent = "";
    this.body.appendChild(fragment);
    if (this.count) {
      this.count.textContent = matching.length
        ? say("shown", { from: number.format(from + 1), to: number.format(to),
                         total: number.format(matching.length) })
        : say("none", {});
    }
    if (this.pager) {
      this.prev.disabled = this.page === 0;
      this.next.disabled = this.page >= pages - 1;
      this.pager.hidden = pages < 2;
      this.where.textContent = number.format(this.page + 1) + " / " + number.format(pages);
    }
  };

  // Each table is made when a reader first comes near it.
  var SPECS = { "results-table": resultSpec, "ranking-table": rankingSpec };
  Array.prototype.forEach.call(document.querySelectorAll("table.packed"), function (table) {
    var start = function () {
      loadRows().then(function (doc) {
        if (!table.hasAttribute("data-ready")) {
          tables.push(new PackedTable(table, SPECS[table.id](doc)));
        }
      }, function () {});
    };
    if (typeof IntersectionObserver !== "function") { start(); return; }
    var watch = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) {
        watch.disconnect();
        start();
      }
    }, { rootMargin: "800px" });
    watch.observe(table);
  });

  // Print: every target drill-down expanded, every ranking row shown; restored afterwards.
  // The drill-downs' rows are made now if the data is loaded (else when it is).
  var closedForPrint = [];
  window.addEventListener("beforeprint", function () {
    closedForPrint = Array.prototype.filter.call(
      document.querySelectorAll("details.target"), function (d) { return !d.open; });
    closedForPrint.forEach(function (d) { d.open = true; });
    if (rows) targets.forEach(function (d) { fillDrill(d, rows); });
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
