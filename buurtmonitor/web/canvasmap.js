// Buurtmonitor: a choropleth drawn on a 2D canvas, for maps with thousands of areas (all
// buurten of the Netherlands). Mounted by buurtmonitor.ui.canvas_map (Streamlit custom
// component v2, no iframe).
//
// data (built by buurtmonitor.maps.canvas.spec):
//   url      GeoJSON FeatureCollection (features: id = area code, properties.n = name),
//            lon/lat; fetched once per URL and kept for the page's lifetime; or, for a
//            small geometry, geojson (the FeatureCollection itself) with geo_key
//   per area, in the order of the GeoJSON features (or of codes[], when given):
//            cls[] (colour index into colours[], -1 = no value), txt[] (formatted value, or
//            the reason there is none), n[] (formatted n or ""), v[] (value or null; only
//            with a reference); small[]: indices of the areas with a small n
//   colours[], legend{...}, labels{...}, selected, bounds [minx, miny, maxx, maxy],
//   view_key (zoom and pan survive reruns with the same key), banner, alt, height
//
// Everything the user or the data provide is put on the page as text (textContent), never
// as HTML. A click on an area sets the trigger value "clicked" (its code).
//
// Without a mouse: the map is one tab stop; N or Page Down / P or Page Up go to the next /
// previous area in view (by name), which is outlined, its value shown beside it and read out by
// a live region (role="status"); Enter or Space chooses it (as a click does), Escape leaves it;
// +/− zoom, the arrow keys pan, 0 shows the whole map. A new selection is announced too.

const GEO = (window.__bmCanvasGeo = window.__bmCanvasGeo || new Map()); // url -> Promise<geo>
const VIEWS = (window.__bmCanvasViews = window.__bmCanvasViews || new Map()); // view_key -> view
const STATE = new WeakMap(); // parentElement -> instance
const TIMES = (window.__bmCanvasTimes = window.__bmCanvasTimes || {}); // first time of each step (bench)
const T = (k) => { if (!(k in TIMES)) TIMES[k] = Math.round(performance.now()); };

const MISSING_FILL = "#d9d9d9";
const MISSING_HATCH = "#8a8a8a";
const SMALL_N_COLOUR = "#d55e00";
const SELECTED_COLOUR = "#000000";
const HOVER_COLOUR = "#222222";
const GRID = 96;
const KEYS_HELP = "Toetsen: N of Page Down gaat naar het volgende gebied in beeld, P of Page Up naar het vorige; "
  + "Enter of spatie kiest het gebied, Escape stopt. Plus en min zoomen, de pijltjes verschuiven de kaart, 0 toont de hele kaart.";

// world coordinates: integers, 1e-5 degree of longitude (Web Mercator, y grows downwards)
const Q = 1e5;
const wx = (lon) => Math.round(lon * Q);
function wy(lat) {
  const r = (Math.max(Math.min(lat, 85), -85) * Math.PI) / 180;
  return Math.round(((-Math.log(Math.tan(Math.PI / 4 + r / 2)) * 180) / Math.PI) * Q);
}

// ---------------------------------------------------------------------------- geometry
function parseGeo(gj) {
  const feats = gj.features || [];
  const n = feats.length;
  const ids = new Array(n);
  const names = new Array(n);
  const rings = new Array(n); // per feature: array of Int32Array [x0, y0, x1, y1, ...]
  const svg = new Array(n); // per feature: its rings as SVG path data (Path2D parses it natively)
  const bbox = new Float64Array(4 * n);
  const byId = new Map();
  let X0 = Infinity, Y0 = Infinity, X1 = -Infinity, Y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const f = feats[i];
    const id = String(f.id != null ? f.id : (f.properties || {}).id);
    ids[i] = id;
    names[i] = String((f.properties || {}).n || id);
    byId.set(id, i);
    const g = f.geometry || {};
    const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    const out = [];
    let d = "";
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const poly of polys) {
      for (const ring of poly) {
        if (ring.length < 3) continue;
        const a = new Int32Array(ring.length * 2);
        const parts = new Array(ring.length);
        for (let j = 0; j < ring.length; j++) {
          const x = wx(ring[j][0]), y = wy(ring[j][1]);
          a[2 * j] = x; a[2 * j + 1] = y;
          parts[j] = x + " " + y;
          if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
        d += "M" + parts.join("L") + "Z";
        out.push(a);
      }
    }
    rings[i] = out;
    svg[i] = d;
    bbox[4 * i] = x0; bbox[4 * i + 1] = y0; bbox[4 * i + 2] = x1; bbox[4 * i + 3] = y1;
    if (out.length) {
      if (x0 < X0) X0 = x0; if (y0 < Y0) Y0 = y0; if (x1 > X1) X1 = x1; if (y1 > Y1) Y1 = y1;
    }
  }
  // a grid over the extent: which features may lie under a point (for hover and click)
  const cw = (X1 - X0) / GRID || 1, ch = (Y1 - Y0) / GRID || 1;
  const cells = Array.from({ length: GRID * GRID }, () => []);
  for (let i = 0; i < n; i++) {
    if (!rings[i].length) continue;
    const a = Math.max(0, Math.floor((bbox[4 * i] - X0) / cw)), b = Math.min(GRID - 1, Math.floor((bbox[4 * i + 2] - X0) / cw));
    const c = Math.max(0, Math.floor((bbox[4 * i + 1] - Y0) / ch)), d = Math.min(GRID - 1, Math.floor((bbox[4 * i + 3] - Y0) / ch));
    for (let gx = a; gx <= b; gx++) for (let gy = c; gy <= d; gy++) cells[gy * GRID + gx].push(i);
  }
  return { n, ids, names, rings, svg, bbox, byId, extent: [X0, Y0, X1, Y1], grid: { cells, cw, ch } };
}

function loadGeo(url, inline, key) {
  if (inline) { // a small geometry travels with the data
    if (!GEO.has(key)) GEO.set(key, Promise.resolve(parseGeo(inline)));
    return GEO.get(key);
  }
  if (!GEO.has(url)) {
    const p = fetch(url, { credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        T("response");
        return r.json();
      })
      .then((gj) => { T("json"); const g = parseGeo(gj); T("parsed"); return g; });
    p.catch(() => GEO.delete(url)); // a later render may try again
    GEO.set(url, p);
  }
  return GEO.get(url);
}

function parseLines(obj) {
  let d = "";
  for (const a of obj.lines || []) {
    const parts = new Array(a.length / 2);
    for (let j = 0; j < a.length; j += 2) parts[j / 2] = wx(a[j]) + " " + wy(a[j + 1]);
    d += "M" + parts.join("L");
  }
  return new Path2D(d);
}

function loadLines(parent, key) {
  const k = parent.url || key;
  if (!GEO.has(k)) {
    const p = parent.url
      ? fetch(parent.url, { credentials: "same-origin" })
          .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.json(); })
          .then(parseLines)
      : Promise.resolve(parseLines(parent));
    p.catch(() => GEO.delete(k));
    GEO.set(k, p);
  }
  return GEO.get(k);
}

function inRings(rings, x, y) {
  let inside = false; // even-odd over all rings: holes and enclaves work
  for (const a of rings) {
    const m = a.length / 2;
    for (let i = 0, j = m - 1; i < m; j = i++) {
      const xi = a[2 * i], yi = a[2 * i + 1], xj = a[2 * j], yj = a[2 * j + 1];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function pick(geo, x, y) {
  const [X0, Y0] = geo.extent, { cells, cw, ch } = geo.grid;
  const gx = Math.floor((x - X0) / cw), gy = Math.floor((y - Y0) / ch);
  if (gx < 0 || gy < 0 || gx >= GRID || gy >= GRID) return -1;
  for (const i of cells[gy * GRID + gx]) {
    const b = geo.bbox;
    if (x < b[4 * i] || x > b[4 * i + 2] || y < b[4 * i + 1] || y > b[4 * i + 3]) continue;
    if (inRings(geo.rings[i], x, y)) return i;
  }
  return -1;
}

function pathOf(geo, indices) {
  // one string, parsed by the browser: far faster than a moveTo/lineTo call per vertex
  const d = new Array(indices.length);
  for (let k = 0; k < indices.length; k++) d[k] = geo.svg[indices[k]];
  return new Path2D(d.join(""));
}

// ---------------------------------------------------------------------------- DOM helpers
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = String(text);
  return e;
}

function hatchPattern(ctx, dpr) {
  const s = Math.round(7 * dpr);
  const c = document.createElement("canvas");
  c.width = c.height = s;
  const g = c.getContext("2d");
  g.fillStyle = MISSING_FILL;
  g.fillRect(0, 0, s, s);
  g.strokeStyle = MISSING_HATCH;
  g.lineWidth = Math.max(1, dpr);
  g.beginPath();
  g.moveTo(-1, s + 1); g.lineTo(s + 1, -1);
  g.moveTo(-1, 1); g.lineTo(1, -1);
  g.moveTo(s - 1, s + 1); g.lineTo(s + 1, s - 1);
  g.stroke();
  return ctx.createPattern(c, "repeat");
}

function swatch(kind, colour) {
  const s = el("span", `bm-sw bm-sw-${kind}`);
  if (colour) s.style.setProperty("--c", colour);
  return s;
}

// ---------------------------------------------------------------------------- the instance
function build(parent) {
  const root = el("div", "bm-root");
  const wrap = el("div", "bm-wrap");
  const canvas = el("canvas", "bm-canvas");
  canvas.tabIndex = 0;
  // an interactive map with its own keys (see the top of this file), not a picture
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-roledescription", "kaart");
  const keys = el("div", "bm-sr", KEYS_HELP);
  keys.id = "bm-keys";
  canvas.setAttribute("aria-describedby", "bm-keys");
  const live = el("div", "bm-sr"); // what the keyboard points at, and what is selected
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");
  const status = el("div", "bm-status", "Kaart laden …");
  const tip = el("div", "bm-tip");
  tip.hidden = true;
  const legend = el("div", "bm-legend");
  const banner = el("div", "bm-banner");
  banner.hidden = true;
  const tools = el("div", "bm-tools");
  const bIn = el("button", "bm-btn", "+"), bOut = el("button", "bm-btn", "−"), bFit = el("button", "bm-btn bm-fit", "Hele kaart");
  bIn.title = "Inzoomen"; bOut.title = "Uitzoomen"; bFit.title = "Terug naar de hele kaart";
  bIn.setAttribute("aria-label", "Inzoomen"); bOut.setAttribute("aria-label", "Uitzoomen");
  const focus = el("span", "bm-focus"); // "Naar <gemeente>", "Naar selectie": filled per render
  tools.append(bIn, bOut, bFit, focus);
  const hint = el("div", "bm-hint", "Scrollen, knijpen of +/− zoomt (dubbelklik: inzoomen), slepen verschuift, klikken kiest een gebied. "
    + "Toetsenbord: N/P (of Page Down/Up) volgend/vorig gebied, Enter kiest.");
  hint.setAttribute("aria-hidden", "true"); // the same as KEYS_HELP, which the map itself refers to
  wrap.append(canvas, status, tip, legend, banner, tools, hint, keys, live);
  root.append(wrap);
  parent.appendChild(root);
  return { root, wrap, canvas, status, tip, legend, banner, bIn, bOut, bFit, focus, live, ctx: canvas.getContext("2d") };
}

class CanvasMap {
  constructor(parent) {
    this.ui = build(parent);
    this.geo = null;
    this.data = null;
    this.view = null; // {s, tx, ty}: screen = world * s + t (CSS px)
    this.hover = -1;
    this.kb = -1; // the area the keyboard points at (index of a feature), -1: none
    this.announced = null; // the selection last announced
    this.paths = null;
    this.frame = 0;
    this.w = 0; this.h = 0; this.dpr = 1;
    this.listen();
  }

  listen() {
    const { canvas, bIn, bOut, bFit } = this.ui;
    const on = (t, ev, fn, opt) => { t.addEventListener(ev, fn, opt); this.off.push(() => t.removeEventListener(ev, fn, opt)); };
    this.off = [];
    let drag = null;
    on(canvas, "wheel", (e) => {
      if (!this.view) return;
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      this.zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-e.deltaY * 0.0015));
    }, { passive: false });
    // pointers: one = drag (or click), two = pinch zoom (touch screens)
    const pts = new Map();
    let pinch = null;
    let clickTimer = 0;
    const local = (e) => { const r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; };
    const pinchState = () => {
      const [a, b] = [...pts.values()];
      return { d: Math.hypot(a.x - b.x, a.y - b.y) || 1, m: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
    };
    on(canvas, "pointerdown", (e) => {
      if (!this.view || (e.pointerType === "mouse" && e.button !== 0)) return;
      pts.set(e.pointerId, local(e));
      canvas.setPointerCapture(e.pointerId);
      if (pts.size === 2) {
        drag = null;
        pinch = { ...pinchState(), s: this.view.s, tx: this.view.tx, ty: this.view.ty };
      } else if (pts.size === 1) {
        drag = { x: e.clientX, y: e.clientY, tx: this.view.tx, ty: this.view.ty, moved: false, id: e.pointerId };
      }
    });
    on(canvas, "pointermove", (e) => {
      const p = local(e);
      if (pts.has(e.pointerId)) pts.set(e.pointerId, p);
      if (pinch && pts.size === 2) {
        const now = pinchState(), v = this.view;
        v.s = Math.min(Math.max(pinch.s * (now.d / pinch.d), this.minScale || 0), 50);
        const k = v.s / pinch.s;
        v.tx = now.m.x - (pinch.m.x - pinch.tx) * k;
        v.ty = now.m.y - (pinch.m.y - pinch.ty) * k;
        this.hideTip();
        this.request();
        return;
      }
      if (drag && drag.id === e.pointerId) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) {
          this.view.tx = drag.tx + dx; this.view.ty = drag.ty + dy;
          this.hideTip();
          this.request();
          return;
        }
      }
      this.hoverAt(p.x, p.y);
    });
    const release = (e, cancelled) => {
      if (!pts.has(e.pointerId)) return;
      pts.delete(e.pointerId);
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
      if (pinch) { // the end of a pinch is never a click
        if (pts.size < 2) pinch = null;
        drag = null;
        this.saveView();
        return;
      }
      if (!drag || drag.id !== e.pointerId) return;
      const moved = drag.moved;
      drag = null;
      this.saveView();
      if (!moved && !cancelled) {
        const p = local(e);
        const i = this.pickAt(p.x, p.y);
        // wait a moment: the first click of a double-click (zoom) selects nothing
        clearTimeout(clickTimer);
        if (i >= 0 && this.setTrigger) {
          clickTimer = setTimeout(() => this.choose(i), 260);
        }
      }
    };
    on(canvas, "pointerup", (e) => release(e, false));
    on(canvas, "pointercancel", (e) => release(e, true));
    this.off.push(() => clearTimeout(clickTimer));
    on(canvas, "pointerleave", () => { if (!drag) { this.hover = -1; this.kb = -1; this.hideTip(); this.request(); } });
    on(canvas, "blur", () => { if (this.kb >= 0) this.keyLeave(); });
    on(canvas, "dblclick", (e) => {
      clearTimeout(clickTimer);
      const r = canvas.getBoundingClientRect();
      this.zoomAt(e.clientX - r.left, e.clientY - r.top, e.shiftKey ? 0.5 : 2);
    });
    on(canvas, "keydown", (e) => {
      if (!this.view) return;
      const step = 60, k = e.key;
      if (k === "n" || k === "N" || k === "PageDown") { e.preventDefault(); this.keyStep(1); return; }
      if (k === "p" || k === "P" || k === "PageUp") { e.preventDefault(); this.keyStep(-1); return; }
      if ((k === "Enter" || k === " ") && this.kb >= 0) { e.preventDefault(); this.choose(this.kb); return; }
      if (k === "Escape" && this.kb >= 0) { e.preventDefault(); this.keyLeave(); return; }
      if (k === "+" || k === "=") this.zoomAt(this.w / 2, this.h / 2, 1.5);
      else if (k === "-" || k === "_") this.zoomAt(this.w / 2, this.h / 2, 1 / 1.5);
      else if (k === "ArrowLeft") this.view.tx += step;
      else if (k === "ArrowRight") this.view.tx -= step;
      else if (k === "ArrowUp") this.view.ty += step;
      else if (k === "ArrowDown") this.view.ty -= step;
      else if (k === "0" || k === "Home") this.fit();
      else return;
      e.preventDefault();
      this.saveView();
      this.request();
    });
    on(bIn, "click", () => this.zoomAt(this.w / 2, this.h / 2, 1.6));
    on(bOut, "click", () => this.zoomAt(this.w / 2, this.h / 2, 1 / 1.6));
    on(bFit, "click", () => { this.fit(); this.request(); });
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(this.ui.wrap);
  }

  destroy() {
    for (const f of this.off) f();
    this.ro.disconnect();
    cancelAnimationFrame(this.frame);
    this.ui.root.remove();
  }

  // -------------------------------------------------------------- data
  async update(data, setTrigger) {
    this.setTrigger = setTrigger;
    const geoKey = data.url || `inline:${data.geo_key}`;
    const first = !this.geo || this.geoKey !== geoKey; // (also after a failed load)
    this.geoKey = geoKey;
    this.data = data;
    const { canvas, wrap, status } = this.ui;
    wrap.style.height = `${data.height || 620}px`;
    canvas.setAttribute("aria-label", data.alt || "Kaart");
    this.renderLegend();
    this.renderBanner();
    if (first) {
      status.hidden = false;
      status.textContent = "Kaart laden …";
      status.classList.remove("bm-error");
      try {
        this.geo = await loadGeo(data.url, data.geojson, geoKey);
      } catch (err) {
        status.textContent = `De grenzen konden niet worden geladen (${err.message}). De cijfers staan in de tab Tabel.`;
        status.classList.add("bm-error");
        this.geo = null; this.paths = null; // never the old map under new figures
        return;
      }
      if (this.data !== data) return; // a newer render came in while loading
      status.hidden = true;
    }
    if (!data.codes && data.cls.length !== this.geo.n) { // never colour areas with another area's value
      status.hidden = false;
      status.textContent = "De grenzen en de cijfers horen niet bij elkaar; laad de pagina opnieuw. De cijfers staan in de tab Tabel.";
      status.classList.add("bm-error");
      this.paths = null;
      return;
    }
    status.hidden = true; // (a message of an earlier render no longer applies)
    status.classList.remove("bm-error");
    T("geo");
    this.prepare();
    this.renderFocus();
    T("prepared");
    this.resize(true);
    this.announceSelection();
    // the outlines of the level above (gemeentegrenzen, wijkgrenzen) follow when loaded
    const parent = data.parent;
    this.parentPath = null;
    if (parent) {
      loadLines(parent, `lines:${data.geo_key}`).then((path) => {
        if (this.data === data) { this.parentPath = path; this.request(); }
      }).catch(() => {});
    }
  }

  prepare() {
    const { geo, data } = this;
    const n = geo.n;
    const cls = new Int16Array(n).fill(-2); // -2: not in the data (no value)
    const row = new Int32Array(n).fill(-1);
    if (data.codes) { // rows matched by code
      data.codes.forEach((c, r) => {
        const i = geo.byId.get(c);
        if (i !== undefined) { cls[i] = data.cls[r]; row[i] = r; }
      });
    } else { // rows in the order of the GeoJSON features (how buurtmonitor.maps.canvas sends them)
      for (let i = 0; i < n; i++) { cls[i] = data.cls[i]; row[i] = i; }
    }
    const isSmall = new Uint8Array(data.cls.length);
    for (const r of data.small || []) isSmall[r] = 1;
    this.isSmall = isSmall;
    const groups = data.colours.map(() => []);
    const missing = [], small = [];
    const all = [];
    for (let i = 0; i < n; i++) {
      if (!geo.rings[i].length) continue;
      all.push(i);
      if (cls[i] >= 0 && cls[i] < groups.length) groups[cls[i]].push(i);
      else missing.push(i);
      if (row[i] >= 0 && isSmall[row[i]]) small.push(i);
    }
    const sel = data.selected != null ? geo.byId.get(data.selected) : undefined;
    this.row = row;
    this.paths = {
      groups: groups.map((g) => pathOf(geo, g)),
      missing: missing.length ? pathOf(geo, missing) : null,
      small: small.length ? pathOf(geo, small) : null,
      all: pathOf(geo, all),
      selected: sel !== undefined ? pathOf(geo, [sel]) : null,
    };
    this.hover = -1;
    if (this.kb >= n) this.kb = -1;
  }

  // -------------------------------------------------------------- view
  fit(box) {
    const b = this.data.bounds;
    let x0, y0, x1, y1;
    if (box) [x0, y0, x1, y1] = box;
    else if (b && b.length === 4) { x0 = wx(b[0]); x1 = wx(b[2]); y0 = wy(b[3]); y1 = wy(b[1]); }
    else [x0, y0, x1, y1] = this.geo.extent;
    const pad = box ? 40 : 16;
    const s = Math.min((this.w - 2 * pad) / Math.max(x1 - x0, 1e-9), (this.h - 2 * pad) / Math.max(y1 - y0, 1e-9));
    this.view = { s, tx: this.w / 2 - ((x0 + x1) / 2) * s, ty: this.h / 2 - ((y0 + y1) / 2) * s };
    this.saveView();
  }

  // the world box of the features whose code starts with prefix (or equals code), or null
  boxOf(test) {
    const { geo } = this;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < geo.n; i++) {
      if (!geo.rings[i].length || !test(geo.ids[i])) continue;
      const b = geo.bbox;
      x0 = Math.min(x0, b[4 * i]); y0 = Math.min(y0, b[4 * i + 1]);
      x1 = Math.max(x1, b[4 * i + 2]); y1 = Math.max(y1, b[4 * i + 3]);
    }
    return x0 <= x1 ? [x0, y0, x1, y1] : null;
  }

  renderFocus() {
    // buttons that zoom to the gemeente of the sidebar and to the selected area
    const { focus } = this.ui, data = this.data;
    focus.replaceChildren();
    if (!this.geo) return;
    const targets = [];
    for (const f of data.focus || []) {
      const box = this.boxOf((id) => id.startsWith(f.prefix));
      if (box) targets.push([`Naar ${f.label}`, box]);
    }
    if (data.selected) {
      const box = this.boxOf((id) => id === data.selected);
      if (box) targets.push(["Naar selectie", box]);
    }
    for (const [label, box] of targets) {
      const b = el("button", "bm-btn bm-fit", label);
      b.title = `Zoom naar: ${label.slice(5)}`;
      b.addEventListener("click", () => { this.fit(box); this.request(); });
      focus.append(b);
    }
  }

  saveView() {
    if (this.view && this.data && this.data.view_key)
      VIEWS.set(this.data.view_key, { ...this.view, w: this.w, h: this.h });
  }

  zoomAt(x, y, f) {
    if (!this.view) return;
    const v = this.view;
    const s = Math.min(Math.max(v.s * f, this.minScale || 0), 50); // at most 50 px per metre or so
    const k = s / v.s;
    v.tx = x - (x - v.tx) * k; v.ty = y - (y - v.ty) * k; v.s = s;
    this.saveView();
    this.request();
  }

  resize(fromData) {
    if (!this.geo || !this.paths) return;
    const { canvas, wrap } = this.ui;
    const w = wrap.clientWidth, h = wrap.clientHeight;
    if (!w || !h) return;
    const dpr = window.devicePixelRatio || 1;
    const changed = w !== this.w || h !== this.h || dpr !== this.dpr;
    if (changed) {
      this.w = w; this.h = h; this.dpr = dpr;
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
      canvas.style.width = `${w}px`; canvas.style.height = `${h}px`;
      this.pattern = null;
    }
    if (!this.view || fromData) {
      const kept = this.data.view_key && VIEWS.get(this.data.view_key);
      if (kept && kept.w === w && kept.h === h) this.view = { s: kept.s, tx: kept.tx, ty: kept.ty };
      else if (!this.view || !kept) this.fit();
    } else if (changed) {
      this.fit();
    }
    const [x0, y0, x1, y1] = this.geo.extent;
    this.minScale = 0.25 * Math.min(w / Math.max(x1 - x0, 1e-9), h / Math.max(y1 - y0, 1e-9));
    this.draw();
  }

  request() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  // -------------------------------------------------------------- drawing
  draw() {
    const { ctx, canvas } = this.ui;
    const { paths, view, data } = this;
    if (!paths || !view) return;
    const dpr = this.dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const m = [dpr * view.s, 0, 0, dpr * view.s, dpr * view.tx, dpr * view.ty];
    ctx.setTransform(...m);
    const px = 1 / view.s; // one CSS pixel in world units
    ctx.globalAlpha = 0.92;
    paths.groups.forEach((p, c) => { ctx.fillStyle = data.colours[c]; ctx.fill(p, "evenodd"); });
    if (paths.missing) {
      if (!this.pattern) this.pattern = hatchPattern(ctx, dpr);
      // the hatching stays the same size on screen at every zoom
      this.pattern.setTransform(new DOMMatrix(m).inverse());
      ctx.fillStyle = this.pattern;
      ctx.fill(paths.missing, "evenodd");
    }
    ctx.globalAlpha = 1;
    // area borders: hairlines when the whole country is in view, clearer when zoomed in
    const areaPx = (view.s * (this.geo.extent[2] - this.geo.extent[0])) / Math.sqrt(Math.max(this.geo.n, 1));
    ctx.lineJoin = "round";
    ctx.strokeStyle = "rgba(255,255,255,0.75)";
    ctx.lineWidth = (areaPx > 40 ? 1 : areaPx > 12 ? 0.5 : 0.25) * px;
    ctx.stroke(paths.all);
    if (this.parentPath) {
      ctx.strokeStyle = "#3a3a3a";
      ctx.lineWidth = (areaPx > 40 ? 1.6 : 1.0) * px;
      ctx.stroke(this.parentPath);
    }
    if (paths.small) { // thin at the national zoom, where thousands of outlines would hide the colours
      ctx.strokeStyle = SMALL_N_COLOUR;
      ctx.lineWidth = (areaPx > 40 ? 1.8 : areaPx > 12 ? 1.0 : 0.45) * px;
      ctx.stroke(paths.small);
    }
    if (paths.selected) {
      ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 5.5 * px; ctx.stroke(paths.selected);
      ctx.strokeStyle = SELECTED_COLOUR; ctx.lineWidth = 3 * px; ctx.stroke(paths.selected);
    }
    if (this.hover >= 0) {
      ctx.strokeStyle = HOVER_COLOUR; ctx.lineWidth = 2 * px;
      ctx.stroke(pathOf(this.geo, [this.hover]));
    }
    T("drawn");
    if (!canvas.dataset.painted) {
      canvas.dataset.painted = String(Math.round(performance.now()));
      window.__bmCanvasPainted = window.__bmCanvasPainted || performance.now();
    }
  }

  // -------------------------------------------------------------- keyboard, screen readers
  // the areas in view (their box meets the screen), by name: what N and P step through
  keyList() {
    const { geo, view } = this, b = geo.bbox, out = [];
    const x0 = -view.tx / view.s, y0 = -view.ty / view.s, x1 = (this.w - view.tx) / view.s, y1 = (this.h - view.ty) / view.s;
    for (let i = 0; i < geo.n; i++) {
      if (!geo.rings[i].length) continue;
      if (b[4 * i + 2] < x0 || b[4 * i] > x1 || b[4 * i + 3] < y0 || b[4 * i + 1] > y1) continue;
      out.push(i);
    }
    return out.sort((a, c) => geo.names[a].localeCompare(geo.names[c], "nl") || (geo.ids[a] < geo.ids[c] ? -1 : 1));
  }

  keyStep(dir) {
    if (!this.geo || !this.paths) return;
    const list = this.keyList();
    if (!list.length) { this.say("Geen gebied in beeld. Druk op 0 voor de hele kaart."); return; }
    const at = list.indexOf(this.kb);
    const k = at < 0 ? (dir > 0 ? 0 : list.length - 1) : (at + dir + list.length) % list.length;
    this.kb = list[k];
    this.hover = this.kb;
    const [sx, sy] = this.screenCentre(this.kb);
    this.showTip(this.kb, sx, sy);
    this.say(`${this.describe(this.kb)} Gebied ${k + 1} van ${list.length} in beeld.`);
    this.request();
  }

  keyLeave() {
    this.kb = -1; this.hover = -1;
    this.hideTip();
    this.request();
  }

  choose(i) {
    if (!this.setTrigger || i < 0) return;
    this.setTrigger("clicked", this.geo.ids[i]);
  }

  screenCentre(i) {
    const b = this.geo.bbox, v = this.view;
    const x = ((b[4 * i] + b[4 * i + 2]) / 2) * v.s + v.tx, y = ((b[4 * i + 1] + b[4 * i + 3]) / 2) * v.s + v.ty;
    return [Math.min(Math.max(x, 4), this.w - 4), Math.min(Math.max(y, 4), this.h - 4)];
  }

  // one area in words, as the tooltip says it: name (code): indicator value; n
  describe(i) {
    const { data, geo } = this, L = data.labels || {}, r = this.row[i];
    let s = `${geo.names[i]} (${geo.ids[i]}): ${L.indicator}: `;
    if (r >= 0 && data.cls[r] >= 0) {
      s += data.txt[r];
      if (L.ref_label && data.v[r] != null) {
        const d = data.v[r] - L.ref_value;
        s += `, ${d > 0 ? "hoger dan" : d < 0 ? "lager dan" : "gelijk aan"} ${L.ref_label} (${L.ref_text})`;
      }
    } else {
      s += `geen waarde (${r >= 0 ? data.txt[r] : L.not_in_table})`;
    }
    if (r >= 0 && data.n[r]) s += `; n = ${data.n[r]} (${L.n_label})${this.isSmall[r] ? ", klein aantal, onzeker" : ""}`;
    return s + ".";
  }

  say(text) {
    // a change of the text is what a screen reader reads; the same text twice is read twice
    const { live } = this.ui;
    live.textContent = live.textContent === text ? `${text}\u00a0` : text;
  }

  announceSelection() {
    const sel = this.data.selected;
    if (sel === this.announced) return;
    this.announced = sel;
    const i = sel != null ? this.geo.byId.get(sel) : undefined;
    if (i === undefined) return;
    this.kb = i; // the keyboard goes on from the chosen area
    this.say(`Geselecteerd: ${this.describe(i)}`);
  }

  // -------------------------------------------------------------- hover, legend
  pickAt(x, y) {
    if (!this.geo || !this.view || !this.paths) return -1;
    return pick(this.geo, (x - this.view.tx) / this.view.s, (y - this.view.ty) / this.view.s);
  }

  hoverAt(x, y) {
    const i = this.pickAt(x, y);
    if (i !== this.hover) { this.hover = i; this.request(); }
    if (i < 0) { this.hideTip(); this.ui.canvas.style.cursor = "grab"; return; }
    this.ui.canvas.style.cursor = "pointer";
    this.showTip(i, x, y);
  }

  hideTip() { this.ui.tip.hidden = true; }

  showTip(i, x, y) {
    const { tip } = this.ui, { data, geo } = this, L = data.labels || {};
    const r = this.row[i];
    tip.replaceChildren();
    const head = el("div", "bm-tip-head");
    head.append(el("b", null, geo.names[i]), document.createTextNode(` (${geo.ids[i]})`));
    tip.append(head);
    const line = el("div");
    if (r >= 0 && data.cls[r] >= 0) {
      line.append(document.createTextNode(`${L.indicator}: `), el("b", null, data.txt[r]));
      tip.append(line);
      if (L.ref_label && data.v[r] != null) {
        const d = data.v[r] - L.ref_value;
        const word = d > 0 ? "hoger dan" : d < 0 ? "lager dan" : "gelijk aan";
        tip.append(el("div", "bm-tip-sub", `${word} ${L.ref_label} (${L.ref_text})`));
      }
    } else {
      line.append(document.createTextNode(`${L.indicator}: `), el("b", null, "geen waarde"));
      tip.append(line, el("div", null, `Reden: ${r >= 0 ? data.txt[r] : L.not_in_table}`));
    }
    if (r >= 0 && data.n[r]) {
      tip.append(el("div", null, `n = ${data.n[r]} (${L.n_label})${this.isSmall[r] ? " – klein aantal, onzeker" : ""}`));
    }
    if (L.definition) tip.append(el("div", "bm-tip-def", L.definition));
    tip.hidden = false;
    const tw = tip.offsetWidth, th = tip.offsetHeight;
    let left = x + 14, top = y + 14;
    if (left + tw > this.w - 4) left = Math.max(4, x - tw - 14);
    if (top + th > this.h - 4) top = Math.max(4, y - th - 14);
    tip.style.left = `${left}px`; tip.style.top = `${top}px`;
  }

  renderLegend() {
    const { legend } = this.ui, lg = this.data.legend || {};
    legend.replaceChildren();
    if (lg.title) legend.append(el("div", "bm-lg-title", lg.title));
    if (lg.subtitle) legend.append(el("div", "bm-lg-sub", lg.subtitle));
    if (lg.gradient && lg.gradient.length) {
      const bar = el("div", "bm-lg-gradient");
      bar.style.setProperty("--g", `linear-gradient(to right, ${lg.gradient.join(", ")})`);
      const ticks = el("div", "bm-lg-ticks");
      for (const t of lg.ticks || []) {
        const s = el("span", null, t.label);
        s.style.left = `${(100 * t.at).toFixed(1)}%`;
        ticks.append(s);
      }
      legend.append(bar, ticks);
    }
    for (const item of lg.items || []) {
      const row = el("div", "bm-lg-row");
      row.append(swatch(item.kind || "fill", item.colour), el("span", null, item.label));
      legend.append(row);
    }
  }

  renderBanner() {
    const { banner } = this.ui;
    banner.hidden = !this.data.banner;
    banner.textContent = this.data.banner || "";
  }
}

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  T("mounted");
  let inst = STATE.get(parentElement);
  if (!inst) {
    inst = new CanvasMap(parentElement);
    STATE.set(parentElement, inst);
  }
  if (data) inst.update(data, setTriggerValue);
  return () => {
    inst.destroy();
    STATE.delete(parentElement);
  };
}
