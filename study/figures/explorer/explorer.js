// The explorer page's logic (study.figures.explorer fills page.html with it and the data).
// atScale / fits / rank / choose mirror study.analysis.tradeoff.at_scale / fits / rank / select,
// parseBudget / parseVectors mirror parse_budget / check_n_vectors; tests/test_explorer.py runs both side by side.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("explorer-data").textContent);
  var FIGURE = JSON.parse(document.getElementById("explorer-figure").textContent);
  var METRIC = DATA.metric_label || "nDCG@10";  // the quality compared (study advise: recall@10 without labels)
  var UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
               "KIB": Math.pow(2, 10), "MIB": Math.pow(2, 20), "GIB": Math.pow(2, 30), "TIB": Math.pow(2, 40)};
  var BUDGET_RE = /^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$/;
  var NUMBER_RE = /^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;

  // parse_budget: bytes in "512MiB" (2^20) or "2GB" (10^9); a final lowercase b (bits) is refused; null if invalid
  function parseBudget(value) {
    var m = BUDGET_RE.exec(String(value));
    if (!m) return null;
    var unit = m[2];
    if (unit.slice(-1) === "b") return null;
    var size = UNITS[unit.toUpperCase()];
    if (size === undefined) return null;
    var total = parseFloat(m[1]) * size;
    if (!isFinite(total) || total < 1) return null;
    return Math.floor(total);
  }
  // check_n_vectors: a positive whole number of vectors ("1e7", "10_000_000", "10,000,000"); null if invalid
  function parseVectors(value) {
    var text = String(value).replace(/_/g, "").replace(/,/g, "");
    if (!NUMBER_RE.test(text)) return null;
    var n = Number(text);
    if (!isFinite(n) || n < 1 || n !== Math.floor(n)) return null;
    return n;
  }
  function g3(x) { return String(Number(x.toPrecision(3))); }
  // format_bytes: "480 MB (458 MiB)"
  function formatBytes(n) {
    if (n < 1000) return Math.round(n).toLocaleString("en-US") + " B";
    var dec = [["TB", 1e12], ["GB", 1e9], ["MB", 1e6], ["kB", 1e3]].find(function (u) { return n >= u[1]; });
    var bin = [["TiB", Math.pow(2, 40)], ["GiB", Math.pow(2, 30)], ["MiB", Math.pow(2, 20)], ["KiB", 1024]]
      .find(function (u) { return n >= u[1]; });
    var exact = bin ? g3(n / bin[1]) + " " + bin[0] : Math.round(n).toLocaleString("en-US") + " B";
    return g3(n / dec[1]) + " " + dec[0] + " (" + exact + ")";
  }
  // format_budget: "512 MiB" or "2 GB" when exact, else formatBytes
  function formatBudget(n) {
    var best = null;
    [["TiB", Math.pow(2, 40)], ["GiB", Math.pow(2, 30)], ["MiB", Math.pow(2, 20)], ["KiB", 1024],
     ["TB", 1e12], ["GB", 1e9], ["MB", 1e6], ["kB", 1e3]].forEach(function (u) {
      if (n >= u[1] && n % u[1] === 0) {
        var c = n / u[1];
        if (best === null || c < best[0] || (c === best[0] && u[0] < best[1])) best = [c, u[0]];
      }
    });
    return best === null ? formatBytes(n) : best[0] + " " + best[1];
  }
  // at_scale: storage of N vectors, every tier counted, and its RAM and disk parts
  function atScale(rows, n) {
    return rows.map(function (r) {
      return Object.assign({}, r, {
        total_bytes: n * r.bytes_per_vector + r.overhead_bytes,
        ram_bytes: n * r.tier1_bytes_per_vector + r.overhead_bytes,
        disk_bytes: n * r.tier2_bytes_per_vector
      });
    });
  }
  // fits: without a disk budget everything in RAM; with one, first tier + stored once in RAM, rescoring tier on disk
  function fits(r, ram, disk) {
    if (disk === null || disk === undefined) return r.total_bytes <= ram;
    return r.ram_bytes <= ram && r.disk_bytes <= disk;
  }
  function byLabel(a, b) { return a.label < b.label ? -1 : (a.label > b.label ? 1 : 0); }
  // rank: highest change, then smallest total, then label (pandas sorts NaN last)
  function rankOrder(a, b) {
    var ca = a.change_pct, cb = b.change_pct;
    if (ca === null || cb === null) {
      if (ca !== cb) return ca === null ? 1 : -1;
    } else if (ca !== cb) {
      return cb - ca;
    }
    if (a.total_bytes !== b.total_bytes) return a.total_bytes - b.total_bytes;
    return byLabel(a, b);
  }
  // pareto_mask: no other point has cost <= and quality >= (one strictly); ties on both all kept, null never
  function paretoMask(rows, cost, quality) {
    var keep = rows.map(function () { return false; });
    var order = rows.map(function (r, i) { return i; })
      .filter(function (i) { return rows[i][quality] !== null; })
      .sort(function (a, b) {
        var ca = rows[a][cost], cb = rows[b][cost];
        return ca !== cb ? ca - cb : rows[b][quality] - rows[a][quality];
      });
    var best = -Infinity, i = 0;
    while (i < order.length) {
      var j = i;
      while (j < order.length && rows[order[j]][cost] === rows[order[i]][cost]) j += 1;
      var top = rows[order[i]][quality];
      if (top > best) {
        for (var k = i; k < j; k += 1) keep[order[k]] = rows[order[k]][quality] === top;
        best = top;
      }
      i = j;
    }
    return keep;
  }
  // study select's rule (tradeoff.choose, tradeoff.frontier_mask), where the page has each pair's relation:
  // relations[i][j] = "2" i significantly better than j, "1" not significantly worse, "0" significantly worse or
  // no CI; without relations, point estimates (pareto_mask, rank)
  function relation(model, i, j) { return DATA.models[model].relations[i].charAt(j); }
  function cheapestOrder(a, b) {
    if (a.total_bytes !== b.total_bytes) return a.total_bytes - b.total_bytes;
    var ca = a.change_pct, cb = b.change_pct;
    if (ca === null || cb === null) {
      if (ca !== cb) return ca === null ? 1 : -1;
    } else if (ca !== cb) {
      return cb - ca;
    }
    return byLabel(a, b);
  }
  function argmaxChange(rows, idx) {
    var best = idx[0];
    idx.forEach(function (i) { if (rows[i].change_pct > rows[best].change_pct) best = i; });
    return best;
  }
  function frontierMask(model, rows, cost) {
    if (!DATA.models[model].relations) return paretoMask(rows, cost, "change_pct");
    var keep = rows.map(function () { return false; });
    var valid = rows.map(function (r, i) { return i; })
      .filter(function (i) { return rows[i].change_pct !== null && rows[i][cost] !== null; });
    var levels = valid.map(function (i) { return rows[i][cost]; })
      .filter(function (v, k, all) { return all.indexOf(v) === k; }).sort(function (a, b) { return a - b; });
    var cheaper = null;
    levels.forEach(function (level) {
      var here = valid.filter(function (i) { return rows[i][cost] === level; });
      if (cheaper === null) {
        keep[argmaxChange(rows, here)] = true;
      } else {
        var up = here.filter(function (i) { return relation(model, rows[i].id, rows[cheaper].id) === "2"; });
        if (up.length) keep[argmaxChange(rows, up)] = true;
      }
      var top = argmaxChange(rows, here);
      if (cheaper === null || rows[top].change_pct > rows[cheaper].change_pct) cheaper = top;
    });
    return keep;
  }
  // select: the cheapest configuration of `model` that fits and is not significantly worse than the best that fits
  // (with relations; else the best), the rest it could not tell apart ranked, and (nothing fits) the smallest
  function choose(model, n, ram, disk) {
    var rows = atScale(DATA.models[model].configs, n);
    var front = frontierMask(model, rows, "total_bytes");  // at_scale's frontier, on total bytes at N
    rows.forEach(function (r, i) { r.on_frontier_at_n = front[i]; });
    var fitting = rows.filter(function (r) { return fits(r, ram, disk); });
    var result = {model: model, n_vectors: n, ram: ram, disk: disk === undefined ? null : disk, rows: rows,
                  fitting: fitting, n_fitting: fitting.length, n_configurations: rows.length,
                  best: null, top: null, ranked: [], smallest: null, n_tied: 0, needed: null,
                  tested: !!DATA.models[model].relations};
    var column = result.disk === null ? "total_bytes" : "ram_bytes";
    if (fitting.length) {
      var ranked = fitting.slice().sort(rankOrder);
      result.top = ranked[0];
      var tied = result.tested ? ranked.filter(function (r, k) {
        return k === 0 || relation(model, r.id, ranked[0].id) !== "0"; }) : ranked.slice(0, 1);
      tied.sort(cheapestOrder);
      // the cheapest tie that clears the quality floor where one does (tradeoff.choose)
      var clear = tied.filter(function (r) { return -r.change_pct <= DATA.max_loss; });
      result.best = clear.length ? clear[0] : tied[0];
      result.n_tied = tied.length;
      var rest = result.tested ? tied.filter(function (r) { return r !== result.best; }) : ranked.slice(1);
      result.ranked = [result.best].concat(rest.sort(rankOrder));
      if (-result.best.change_pct > DATA.max_loss) {
        result.needed = rows.filter(function (r) { return r.change_pct !== null && -r.change_pct <= DATA.max_loss; })
          .sort(function (a, b) {
            if (a[column] !== b[column]) return a[column] - b[column];
            return a.change_pct !== b.change_pct ? b.change_pct - a.change_pct : byLabel(a, b);
          })[0] || null;
      }
    } else {
      result.smallest = rows.slice().sort(function (a, b) {
        return a[column] !== b[column] ? a[column] - b[column] : byLabel(a, b);
      })[0];
    }
    return result;
  }

  var state = {model: DATA.defaults.model, n: DATA.defaults.n_vectors, ram: DATA.defaults.ram,
               disk: DATA.defaults.disk, yall: false};
  var api = {parseBudget: parseBudget, parseVectors: parseVectors, formatBytes: formatBytes,
             formatBudget: formatBudget, choose: function (m, n, r, d) {
               var c = choose(m, n, r, d === undefined ? null : d);
               return c.best ? c.best.label : null;
             }, select: function (m, n, r, d) {
               var c = choose(m, n, r, d === undefined ? null : d);
               return {best: c.best ? c.best.label : null, n_fitting: c.n_fitting,
                       runners_up: c.ranked.slice(1, 6).map(function (x) { return [x.label, x.on_frontier_at_n]; }),
                       smallest: c.smallest ? c.smallest.label : null, top: c.top ? c.top.label : null,
                       n_tied: c.n_tied, needed: c.needed ? c.needed.label : null};
             }, state: state, ready: false, updates: 0, choice: null, data: DATA};
  window.explorer = api;

  function el(id) { return document.getElementById(id); }
  function pct(x) { return x === null ? "n/a" : (x >= 0 ? "+" : "") + x.toFixed(2) + " %"; }
  function ci(r) { return r.ci_low === null || r.ci_high === null ? "no CI" :
                   "95 % CI [" + pct(r.ci_low) + ", " + pct(r.ci_high) + "]"; }
  function nearest(stops, value) {
    var best = 0;
    stops.forEach(function (s, i) {
      if (Math.abs(Math.log(s) - Math.log(value)) < Math.abs(Math.log(stops[best]) - Math.log(value))) best = i;
    });
    return best;
  }
  function text(node, value) { node.textContent = value; }

  function renderChoice(c) {
    var detail = el("choice-detail"), list = el("runners-up");
    list.innerHTML = "";
    var where = "RAM " + formatBytes(c.ram) + (c.disk === null ? "" : " + disk " + formatBytes(c.disk));
    var head = "Budget " + where + " for " + c.n_vectors.toLocaleString("en-US") + " vectors of " + c.model + ": " +
               c.n_fitting + " of " + c.n_configurations + " configurations fit.";
    if (!c.best) {
      var s = c.smallest, col = c.disk === null ? "total_bytes" : "ram_bytes";
      text(el("choice"), "nothing fits");
      text(detail, head + " The smallest is " + s.label + " at " + formatBytes(s[col]) + " (" +
           s.bytes_per_vector + " B/vector + " + s.overhead_bytes.toLocaleString("en-US") + " B overhead).");
      api.choice = null;
      return;
    }
    var b = c.best;
    text(el("choice"), b.label);
    api.choice = b.label;
    var lines = [head,
      "storage " + formatBytes(b.total_bytes) + " = " + c.n_vectors.toLocaleString("en-US") + " × " +
        b.bytes_per_vector + " B/vector + " + b.overhead_bytes.toLocaleString("en-US") + " B stored once; " +
        "compression " + g3(b.compression_ratio) + "×"];
    if (b.tier2_bytes_per_vector > 0) {
      lines.push("tiers: RAM " + formatBytes(b.ram_bytes) + " (" + b.tier1_bytes_per_vector + " B/vector searched " +
                 "+ what is stored once), rescoring tier " + formatBytes(b.disk_bytes) + " (" +
                 b.tier2_bytes_per_vector + " B/vector" + (c.disk === null ? ")" : ", on disk)"));
    }
    lines.push("expected " + METRIC + " " + b.expected.toFixed(4) + " (" + pct(b.change_pct) + " vs float32, " + ci(b) +
               "; " + b.n_datasets + " collections, " + DATA.weighting + "-weighted)");
    if (!c.tested) {
      lines.push("(no per-query scores: differences were not tested; ranked by point estimate)");
    } else if (c.top.label !== b.label) {
      lines.push("why: the cheapest of " + c.n_tied + " that fit and are " + (DATA.margin > 0 ?
                 "not significantly more than " + DATA.margin + " " + METRIC + " below" : "not significantly worse than") +
                 " the best point estimate, " + c.top.label + " (" + pct(c.top.change_pct) + ")");
    }
    if (c.needed !== null) {
      var col = c.disk === null ? "total_bytes" : "ram_bytes";
      lines.splice(1, 0, "Nothing in this budget is good enough: the best that fits loses " +
                   (-b.change_pct).toFixed(2) + " % (floor: " + DATA.max_loss + " %). Clearing the floor needs " +
                   formatBytes(c.needed[col]) + ": " + c.needed.label + " (" + pct(c.needed.change_pct) + ").");
    }
    detail.innerHTML = "";
    lines.forEach(function (line) {
      var d = document.createElement("div");
      d.textContent = line;
      detail.appendChild(d);
    });
    c.ranked.slice(1, 6).forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.label + ": " + formatBytes(r.total_bytes) + ", " + pct(r.change_pct) +
                       (r.on_frontier_at_n ? "" : " (dominated)");
      list.appendChild(li);
    });
  }

  function renderCommand() {
    var arg = function (n) {
      var f = formatBudget(n);
      return /^[0-9]+ [A-Za-z]+$/.test(f) ? f.replace(" ", "") : String(n);
    };
    var budget = " --ram " + arg(state.ram) + (state.disk === null ? "" : " --disk " + arg(state.disk));
    if (DATA.command) {  // study advise: its own command, with this budget and N
      text(el("command"), "same as: " + DATA.command + budget + " --n " + state.n);
      return;
    }
    text(el("command"), "same as: study select" + budget +
         " --vectors " + state.n + " --model " + state.model + " --profile " + DATA.profile +
         (DATA.weighting === "texts" ? "" : " --weighting " + DATA.weighting));
  }

  function yRange(rows, best) {
    var ys = rows.map(function (r) { return r.change_pct; }).filter(function (y) { return y !== null; });
    var hi = Math.max.apply(null, ys.concat([0])), lo = Math.min.apply(null, ys);
    if (!state.yall) lo = Math.max(lo, -50);
    if (best && best.change_pct !== null) lo = Math.min(lo, best.change_pct);
    var pad = Math.max(1, 0.05 * (hi - lo));
    return [lo - pad, hi + pad];
  }

  function renderPlot(c) {
    var gd = el("tradeoff");
    var fitIds = {};
    c.fitting.forEach(function (r) { fitIds[r.id] = true; });
    var bestId = c.best ? c.best.id : -1;
    var idx = [], visible = [], markerTraces = [], chosen = [], sizes = [], lineW = [], lineC = [];
    gd.data.forEach(function (t, i) {
      idx.push(i);
      visible.push(t.meta.model === state.model);
      if (t.meta.frontier) return;
      markerTraces.push(i);
      var ids = t.meta.ids;
      chosen.push(ids.map(function (id, k) { return fitIds[id] ? k : -1; }).filter(function (k) { return k >= 0; }));
      sizes.push(ids.map(function (id) { return id === bestId ? 20 : 9; }));
      lineW.push(ids.map(function (id) { return id === bestId ? 3 : 0.5; }));
      lineC.push(ids.map(function (id) { return id === bestId ? "#111" : "white"; }));
    });
    var annotations = c.best ? [{x: Math.log10(c.best.compression_ratio), y: c.best.change_pct, xref: "x", yref: "y",
      text: "<b>" + c.best.label.replace(/</g, "&lt;") + "</b>", showarrow: true, arrowhead: 2, ax: 40, ay: -40,
      bgcolor: "rgba(255,255,255,0.85)", bordercolor: "#111", font: {size: 12}}] : [];
    Plotly.restyle(gd, {visible: visible}, idx);
    Plotly.restyle(gd, {selectedpoints: chosen, "marker.size": sizes, "marker.line.width": lineW,
                        "marker.line.color": lineC}, markerTraces);
    Plotly.relayout(gd, {annotations: annotations, "yaxis.autorange": false, "yaxis.range": yRange(c.rows, c.best),
                         "title.text": state.model + ": " + c.n_fitting + " of " + c.n_configurations +
                                       " configurations fit (" + DATA.models[state.model].n_datasets +
                                       " held-out collections)"});
  }

  function renderCollections(c) {
    var gd = el("collections");
    if (!c.best) {
      Plotly.react(gd, [], {template: FIGURE.layout.template, title: {text: "nothing fits this budget"},
                            xaxis: {visible: false}, yaxis: {visible: false}});
      return;
    }
    var b = c.best, rows = b.per_collection;
    var colour = DATA.colours[b.format_family];
    var trace = {type: "bar", x: rows.map(function (r) { return r[0]; }), y: rows.map(function (r) { return r[1]; }),
      marker: {color: colour}, name: b.label,
      error_y: {type: "data", symmetric: false, visible: true, color: "#333",
                array: rows.map(function (r) { return r[2] === null ? 0 : r[3] - r[1]; }),
                arrayminus: rows.map(function (r) { return r[2] === null ? 0 : r[1] - r[2]; })},
      hovertext: rows.map(function (r) {
        return "<b>" + r[0] + "</b><br>change " + pct(r[1]) + (r[2] === null ? " (no CI)" :
               " (95 % CI [" + pct(r[2]) + ", " + pct(r[3]) + "])") + "<br>" + METRIC + " " +
               (r[4] === null ? "n/a" : r[4].toFixed(4)) + " vs float32 " + (r[5] === null ? "n/a" : r[5].toFixed(4)) +
               "<br>" + (r[6] === null ? "" : r[6].toLocaleString("en-US") + " texts");
      }), hoverinfo: "text"};
    var layout = {template: FIGURE.layout.template, margin: {l: 70, r: 20, t: 40, b: 90}, showlegend: false,
      title: {text: b.label.replace(/</g, "&lt;") + ": change per collection (the " + rows.length +
                    " it was averaged over; dashed: " + DATA.weighting + "-weighted mean " + pct(b.change_pct) + ")",
              font: {size: 13}},
      yaxis: {title: {text: METRIC + " change vs float32 (%)"}, zeroline: true},
      xaxis: {tickangle: -35},
      shapes: b.change_pct === null ? [] : [{type: "line", xref: "paper", x0: 0, x1: 1, y0: b.change_pct,
                                            y1: b.change_pct, line: {dash: "dash", color: "#111", width: 1}}]};
    Plotly.react(gd, [trace], layout, {displaylogo: false, responsive: true});
  }

  function update() {
    var c = choose(state.model, state.n, state.ram, state.disk);
    renderChoice(c);
    renderCommand();
    renderPlot(c);
    renderCollections(c);
    api.last = {n_fitting: c.n_fitting, best: c.best ? c.best.label : null, best_id: c.best ? c.best.id : null};
    api.updates += 1;
  }

  function error(message) { text(el("error"), message); }

  function setUp() {
    var select = el("model");
    DATA.model_order.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m; o.textContent = m + " (" + DATA.models[m].configs.length + " configurations)";
      select.appendChild(o);
    });
    select.value = state.model;
    select.addEventListener("change", function () { state.model = select.value; update(); });

    function control(name, stops, withNone, parse, show, key) {
      var slider = el(name + "-slider"), box = el(name);
      var offset = withNone ? 1 : 0;
      slider.max = String(stops.length - 1 + offset);
      function sync() {
        box.value = state[key] === null ? "none" : show(state[key]);
        slider.value = String(state[key] === null ? 0 : nearest(stops, state[key]) + offset);
      }
      slider.addEventListener("input", function () {
        var i = Number(slider.value) - offset;
        state[key] = i < 0 ? null : stops[i];
        box.value = state[key] === null ? "none" : show(state[key]);
        error("");
        update();
      });
      box.addEventListener("change", function () {
        var raw = box.value.trim();
        if (withNone && (raw === "" || raw.toLowerCase() === "none")) {
          state[key] = null;
        } else {
          var v = parse(raw);
          if (v === null) {
            error(name + ": invalid value '" + raw + "'; allowed: " +
                  (key === "n" ? "a positive whole number of vectors, e.g. 10000000 or 1e7" : DATA.budget_help));
            return;
          }
          state[key] = v;
        }
        error("");
        sync();
        update();
      });
      sync();
    }
    control("vectors", DATA.stops.vectors, false, parseVectors, function (n) { return String(n); }, "n");
    control("ram", DATA.stops.ram, false, parseBudget, formatBudget, "ram");
    control("disk", DATA.stops.disk, true, parseBudget, formatBudget, "disk");
    el("yall").addEventListener("change", function () { state.yall = el("yall").checked; update(); });
  }

  Plotly.newPlot("tradeoff", FIGURE.data, FIGURE.layout, {displaylogo: false, responsive: true}).then(function () {
    setUp();
    update();
    api.ready = true;
  });
})();
