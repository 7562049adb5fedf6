// The map of the field (/map): papers as dots on a canvas, coloured by broad topic; zoom, pan, topic labels by
// zoom, hover for a title, click to open, a search that lights up hits, today's papers and the member's library.
// No framework and nothing inline (the CSP allows scripts from this server only). Data: /api/topics, /api/map
// (all points up to ALL_POINTS, else a density grid from /api/map/density and the points of the view by bbox).
(function () {
  "use strict";
  var ALL_POINTS = 200000, PAGE = 50000, BOX_POINTS = 30000;
  var canvas = document.getElementById("map-canvas");
  if (!canvas) return;
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("map-tip");
  var status = document.getElementById("map-status");
  var legend = document.getElementById("map-legend");
  var st = {
    ids: [], x: new Float32Array(0), y: new Float32Array(0), broad: new Int32Array(0), fine: new Int32Array(0),
    topics: [], colour: {}, bounds: [0, 0, 1, 1], total: 0, density: null, boxKey: "",
    scale: 1, ox: 0, oy: 0, lit: {}, litCount: 0, today: {}, library: {}, grid: null, titles: {}, hover: -1
  };

  function say(text) { status.textContent = text; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  // --- view: world (layout units) <-> screen (CSS pixels) -------------------------------------------
  function size() {
    var dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return [w, h];
  }
  function fit() {
    var wh = size(), b = st.bounds, pad = 24;
    st.scale = Math.min((wh[0] - 2 * pad) / Math.max(b[2] - b[0], 1e-6), (wh[1] - 2 * pad) / Math.max(b[3] - b[1], 1e-6));
    st.base = st.scale;
    st.ox = pad - b[0] * st.scale + (wh[0] - 2 * pad - (b[2] - b[0]) * st.scale) / 2;
    st.oy = pad + b[3] * st.scale + (wh[1] - 2 * pad - (b[3] - b[1]) * st.scale) / 2;
  }
  function sx(x) { return st.ox + x * st.scale; }
  function sy(y) { return st.oy - y * st.scale; }
  function wx(px) { return (px - st.ox) / st.scale; }
  function wy(py) { return (st.oy - py) / st.scale; }
  function zoom() { return st.scale / (st.base || 1); }

  // --- colours: one hue per broad topic, largest first ----------------------------------------------
  function colours() {
    var broad = st.topics.filter(function (t) { return t.level === "broad"; });
    broad.sort(function (a, b) { return b.size - a.size; });
    legend.textContent = "";
    broad.forEach(function (t, i) {
      var hue = Math.round((i * 137.508) % 360);
      st.colour[t.id] = "hsl(" + hue + ",62%," + (i % 2 ? "42%" : "52%") + ")";
      var li = document.createElement("li"), sw = document.createElement("span"), a = document.createElement("a");
      sw.className = "swatch"; sw.style.background = st.colour[t.id];
      a.href = "/topic/" + t.id; a.textContent = t.label + " (" + t.size + ")";
      li.appendChild(sw); li.appendChild(a); legend.appendChild(li);
    });
  }

  // --- hover index: a grid of point numbers in world cells ------------------------------------------
  function buildGrid() {
    var b = st.bounds, n = st.ids.length, cells = Math.max(16, Math.round(Math.sqrt(n / 4)));
    var w = (b[2] - b[0]) / cells || 1, h = (b[3] - b[1]) / cells || 1, grid = {};
    for (var i = 0; i < n; i++) {
      var key = Math.floor((st.x[i] - b[0]) / w) + "," + Math.floor((st.y[i] - b[1]) / h);
      (grid[key] || (grid[key] = [])).push(i);
    }
    st.grid = { cells: grid, w: w, h: h };
  }
  function nearestPoint(px, py) {
    if (!st.grid) return -1;
    var b = st.bounds, x = wx(px), y = wy(py), g = st.grid, best = -1, bestD = 64;
    var cx = Math.floor((x - b[0]) / g.w), cy = Math.floor((y - b[1]) / g.h);
    var reach = Math.max(1, Math.ceil(8 / st.scale / Math.min(g.w, g.h)));
    for (var i = cx - reach; i <= cx + reach; i++) for (var j = cy - reach; j <= cy + reach; j++) {
      var cell = g.cells[i + "," + j];
      if (!cell) continue;
      for (var k = 0; k < cell.length; k++) {
        var p = cell[k], dx = sx(st.x[p]) - px, dy = sy(st.y[p]) - py, d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = p; }
      }
    }
    return best;
  }

  // --- drawing ---------------------------------------------------------------------------------------
  var pending = false;
  function draw() { if (!pending) { pending = true; requestAnimationFrame(paint); } }
  function paint() {
    pending = false;
    var wh = size(), w = wh[0], h = wh[1];
    ctx.clearRect(0, 0, w, h);
    if (st.density && (zoom() < 4 || !st.ids.length)) paintDensity();
    var n = st.ids.length, i, X, Y;
    var r = Math.min(7, Math.max(1.2, Math.min(4, 90 / Math.sqrt(st.total || n || 1)) * Math.sqrt(zoom())));
    var overlay = st.litCount || Object.keys(st.today).length || Object.keys(st.library).length;
    ctx.globalAlpha = overlay ? 0.25 : 0.8;
    for (i = 0; i < n; i++) {
      X = sx(st.x[i]); Y = sy(st.y[i]);
      if (X < -4 || Y < -4 || X > w + 4 || Y > h + 4) continue;
      ctx.fillStyle = st.colour[st.broad[i]] || "#888";
      ctx.fillRect(X - r / 2, Y - r / 2, r, r);
    }
    ctx.globalAlpha = 1;
    if (overlay) {
      for (i = 0; i < n; i++) {
        var id = st.ids[i], mark = st.lit[id] ? "#111" : st.library[id] ? "#d4a000" : st.today[id] ? "#d63384" : null;
        if (!mark) continue;
        X = sx(st.x[i]); Y = sy(st.y[i]);
        ctx.fillStyle = st.colour[st.broad[i]] || "#888";
        ctx.beginPath(); ctx.arc(X, Y, r + 2.5, 0, 6.283); ctx.fill();
        ctx.strokeStyle = mark; ctx.lineWidth = 1.5; ctx.stroke();
      }
    }
    if (st.hover >= 0) {
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.arc(sx(st.x[st.hover]), sy(st.y[st.hover]), r + 4, 0, 6.283); ctx.stroke();
    }
    paintLabels(w, h);
  }
  function paintDensity() {
    var d = st.density, s = d.size, b = d.bounds, cw = (b[2] - b[0]) / s, ch = (b[3] - b[1]) / s, max = 1, i;
    for (i = 0; i < d.counts.length; i++) if (d.counts[i] > max) max = d.counts[i];
    for (i = 0; i < d.counts.length; i++) {
      if (!d.counts[i]) continue;
      var gx = i % s, gy = Math.floor(i / s);
      ctx.globalAlpha = 0.25 + 0.75 * Math.log(1 + d.counts[i]) / Math.log(1 + max);
      ctx.fillStyle = st.colour[d.broad[i]] || "#888";
      var x0 = sx(b[0] + gx * cw), y0 = sy(b[1] + (gy + 1) * ch);
      ctx.fillRect(x0, y0, cw * st.scale + 0.5, ch * st.scale + 0.5);
    }
    ctx.globalAlpha = 1;
  }
  function paintLabels(w, h) {
    var z = zoom(), taken = [];
    var shown = st.topics.filter(function (t) { return z < 2.5 ? t.level === "broad" : t.level === "fine"; });
    shown.sort(function (a, b) { return b.size - a.size; });
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    shown.forEach(function (t) {
      var X = sx(t.x), Y = sy(t.y);
      if (X < 0 || Y < 0 || X > w || Y > h) return;
      var big = t.level === "broad";
      ctx.font = (big ? "600 14px" : "12px") + " system-ui, sans-serif";
      var tw = ctx.measureText(t.label).width + 8, box = [X - tw / 2, Y - 9, X + tw / 2, Y + 9];
      for (var i = 0; i < taken.length; i++) {
        var o = taken[i];
        if (box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]) return;
      }
      taken.push(box);
      ctx.fillStyle = "rgba(255,255,255,.82)"; ctx.fillRect(box[0], box[1], tw, 18);
      ctx.fillStyle = "#1d1d1f"; ctx.fillText(t.label, X, Y);
    });
  }

  // --- interaction -----------------------------------------------------------------------------------
  var drag = null;
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var rect = canvas.getBoundingClientRect(), px = e.clientX - rect.left, py = e.clientY - rect.top;
    var f = Math.exp(-e.deltaY * 0.0015), x = wx(px), y = wy(py);
    st.scale = Math.min(st.base * 400, Math.max(st.base * 0.5, st.scale * f));
    st.ox = px - x * st.scale; st.oy = py + y * st.scale;
    draw(); viewChanged();
  }, { passive: false });
  canvas.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, ox: st.ox, oy: st.oy, moved: false };
    canvas.setPointerCapture(e.pointerId); canvas.classList.add("dragging");
  });
  canvas.addEventListener("pointermove", function (e) {
    var rect = canvas.getBoundingClientRect();
    if (drag) {
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      st.ox = drag.ox + dx; st.oy = drag.oy + dy; draw();
      return;
    }
    var p = nearestPoint(e.clientX - rect.left, e.clientY - rect.top);
    if (p !== st.hover) { st.hover = p; draw(); showTip(p, e.clientX - rect.left, e.clientY - rect.top); }
  });
  canvas.addEventListener("pointerup", function (e) {
    var rect = canvas.getBoundingClientRect(), wasDrag = drag && drag.moved;
    drag = null; canvas.classList.remove("dragging");
    if (wasDrag) { viewChanged(); return; }
    var p = nearestPoint(e.clientX - rect.left, e.clientY - rect.top);
    if (p >= 0) window.location.href = "/paper/" + st.ids[p];
  });
  canvas.addEventListener("pointerleave", function () { st.hover = -1; tip.hidden = true; draw(); });
  window.addEventListener("resize", function () { draw(); });

  function showTip(p, px, py) {
    if (p < 0) { tip.hidden = true; return; }
    var id = st.ids[p];
    tip.textContent = st.titles[id] || id;
    tip.style.left = Math.min(px + 12, canvas.clientWidth - 240) + "px"; tip.style.top = (py + 12) + "px";
    tip.hidden = false;
    if (!st.titles[id]) {
      getJSON("/api/papers/" + id).then(function (paper) {
        st.titles[id] = paper.title || id;
        if (st.hover === p) tip.textContent = st.titles[id];
      }).catch(function () {});
    }
  }

  // --- the search box and overlays -------------------------------------------------------------------
  document.getElementById("map-search").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("map-q").value.trim();
    st.lit = {}; st.litCount = 0;
    if (!q) { draw(); say(""); return; }
    say("Searching…");
    getJSON("/api/search?limit=100&q=" + encodeURIComponent(q)).then(function (r) {
      var onMap = 0;
      r.hits.forEach(function (h) { st.lit[h.paper.paperscopeId] = true; });
      st.litCount = r.hits.length;
      for (var i = 0; i < st.ids.length; i++) if (st.lit[st.ids[i]]) onMap++;
      say(onMap + " of the " + r.hits.length + " best matches lit (outlined in black)" +
          (r.hits.length < r.total ? " of " + r.total : ""));
      draw();
    }).catch(function (err) { say("Search failed: " + err.message); });
  });
  function overlay(box, url, pick, key, what) {
    if (!box) return;
    box.addEventListener("change", function () {
      st[key] = {};
      if (!box.checked) { draw(); return; }
      getJSON(url).then(function (r) {
        pick(r).forEach(function (id) { st[key][id] = true; });
        say(Object.keys(st[key]).length + " " + what); draw();
      }).catch(function (err) { say(what + " could not be loaded: " + err.message); });
    });
  }
  overlay(document.getElementById("map-today"), "/api/daily_papers",
          function (r) { return r.map(function (it) { return it.paper.paperscopeId; }); }, "today",
          "of today's papers outlined in pink");
  overlay(document.getElementById("map-library"), "/api/library",
          function (r) { return r.papers.map(function (p) { return p.paperscopeId; }); }, "library",
          "papers of your library outlined in gold");

  // --- loading ----------------------------------------------------------------------------------------
  function addPoints(pts) {
    var n = st.ids.length, m = pts.id.length, i;
    var x = new Float32Array(n + m), y = new Float32Array(n + m), b = new Int32Array(n + m), f = new Int32Array(n + m);
    x.set(st.x); y.set(st.y); b.set(st.broad); f.set(st.fine);
    for (i = 0; i < m; i++) { x[n + i] = pts.x[i]; y[n + i] = pts.y[i]; b[n + i] = pts.broad[i]; f[n + i] = pts.topic[i]; }
    st.ids = st.ids.concat(pts.id); st.x = x; st.y = y; st.broad = b; st.fine = f;
  }
  function loadAll(offset) {
    return getJSON("/api/map?limit=" + PAGE + "&offset=" + offset).then(function (r) {
      addPoints(r.points);
      say("Loaded " + st.ids.length + " of " + r.total + " papers");
      if (st.ids.length < r.total && r.points.id.length) return loadAll(offset + PAGE);
    });
  }
  var boxTimer = null;
  function viewChanged() {
    if (!st.density) return;
    clearTimeout(boxTimer);
    boxTimer = setTimeout(function () {
      if (zoom() < 4) { st.ids = []; st.grid = null; draw(); return; }
      var wh = size(), box = [wx(0), wy(wh[1]), wx(wh[0]), wy(0)].map(function (v) { return v.toFixed(3); }).join(",");
      if (box === st.boxKey) return;
      st.boxKey = box;
      getJSON("/api/map?limit=" + BOX_POINTS + "&bbox=" + box).then(function (r) {
        st.ids = []; st.x = new Float32Array(0); st.y = new Float32Array(0);
        st.broad = new Int32Array(0); st.fine = new Int32Array(0);
        addPoints(r.points); buildGrid(); draw();
        say(r.points.id.length + " of the " + r.total + " papers in view shown");
      });
    }, 150);
  }

  getJSON("/api/topics").then(function (r) {
    st.topics = r.topics.filter(function (t) { return t.active !== false; });
    colours();
    return getJSON("/api/map?limit=1");
  }).then(function (first) {
    st.bounds = first.bounds; st.total = first.total; fit();
    if (first.total <= ALL_POINTS) {
      return loadAll(0).then(function () {
        buildGrid(); draw();
        say(st.ids.length + " papers; " + st.topics.filter(function (t) { return t.level === "broad"; }).length +
            " broad topics (colours) and " + st.topics.filter(function (t) { return t.level === "fine"; }).length +
            " fine ones (names as you zoom)");
      });
    }
    return getJSON("/api/map/density?size=512").then(function (d) {
      st.density = d; draw();
      say(first.total + " papers drawn as density; zoom in to see single papers");
    });
  }).catch(function (err) { say("The map could not be loaded: " + err.message); });
})();
