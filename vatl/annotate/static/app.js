// vatl annotate: the page. Plain JavaScript, no build step; every request carries the URL's token.
// The server keeps the session; this page only shows its query, sends one answer at a time, and polls
// /api/status while the session retrains. A label is K rows of [x, y, v] in image pixels
// (v: 0 not visible / not labeled, 1 occluded, 2 visible).
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const POLL_MS = 400;
const HIT_PX = 11;          // how near (screen pixels) a press must be to grab a joint
const JOINT_PX = 5.5;       // joint radius on screen

const $ = (id) => document.getElementById(id);
const page = {
  meta: null,               // /api/meta
  query: null,              // /api/query
  index: 0,                 // the sample of the query shown
  label: null,              // the editor's label of that sample (K × [x, y, v])
  edits: [],                // undo stack of the editor (labels before each edit)
  selected: -1, hover: -1,
  view: { scale: 1, ox: 0, oy: 0 },
  drag: null,               // {kind: "joint"|"pan", joint, x0, y0, ...}
  drawn: undefined,         // the sample whose frame was last drawn
  images: new Map(),        // sample -> Promise<HTMLImageElement>
  version: -1, busy: false, finished: false, view_name: "annotate",
  sending: false,
};

// ------------------------------------------------------------------------------------------- requests
async function api(path, options = {}) {
  const headers = { "X-Vatl-Token": TOKEN, ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) {
    const reason = data && data.error ? data.error : `${response.status} ${response.statusText}`;
    const error = new Error(reason);
    error.status = response.status;
    error.problems = data && data.problems;
    throw error;
  }
  return data;
}

function imageUrl(sample) {
  return `api/samples/${sample}/image?token=${encodeURIComponent(TOKEN)}`;
}

function loadImage(sample) {
  if (!page.images.has(sample)) {
    page.images.set(sample, new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`the image of sample ${sample} could not be loaded`));
      img.src = imageUrl(sample);
    }));
  }
  return page.images.get(sample);
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.classList.toggle("hidden", !message);
}

// ------------------------------------------------------------------------------------------- helpers
const current = () => (page.query ? page.query.samples[page.index] : null);
const answerOf = (sample) => (page.query ? page.query.answers[String(sample)] : undefined);
const copyLabel = (label) => label.map((row) => row.slice());
const sameLabel = (a, b) => a.length === b.length && a.every((row, j) => row.every((v, k) => Math.abs(v - b[j][k]) < 1e-6));

function side(name) {
  if (name.startsWith("left")) return "left";
  if (name.startsWith("right")) return "right";
  return "center";
}
const SIDE_COLOURS = { left: "#3b82f6", right: "#f97316", center: "#10b981" };

function toScreen(x, y) { return [x * page.view.scale + page.view.ox, y * page.view.scale + page.view.oy]; }
function toImage(sx, sy) { return [(sx - page.view.ox) / page.view.scale, (sy - page.view.oy) / page.view.scale]; }

function canvasPoint(event) {
  const rect = $("main-canvas").getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

function jointAt(sx, sy) {
  let best = -1, bestD = HIT_PX;
  page.label.forEach(([x, y, v], j) => {
    if (v <= 0) return;
    const [px, py] = toScreen(x, y);
    const d = Math.hypot(px - sx, py - sy);
    if (d < bestD || (d <= HIT_PX && j === page.selected)) { best = j; bestD = d; }
  });
  return best;
}

// ------------------------------------------------------------------------------------------- the view
function fitView() {
  const s = current();
  if (!s) return;
  const canvas = $("main-canvas");
  const [x, y, w, h] = s.box;
  const margin = 0.35;
  const bw = Math.max(w, 8) * (1 + 2 * margin), bh = Math.max(h, 8) * (1 + 2 * margin);
  const scale = Math.min(canvas.width / bw, canvas.height / bh);
  page.view = { scale, ox: canvas.width / 2 - (x + w / 2) * scale, oy: canvas.height / 2 - (y + h / 2) * scale };
}

function zoom(factor, sx, sy) {
  const canvas = $("main-canvas");
  if (sx === undefined) { sx = canvas.width / 2; sy = canvas.height / 2; }
  const [ix, iy] = toImage(sx, sy);
  page.view.scale = Math.min(40, Math.max(0.05, page.view.scale * factor));
  page.view.ox = sx - ix * page.view.scale;
  page.view.oy = sy - iy * page.view.scale;
  draw();
}

function drawSkeleton(ctx, label, project, radius, highlight) {
  const names = page.meta.keypoints;
  ctx.lineWidth = Math.max(1.5, radius * 0.45);
  for (const [a, b] of page.meta.skeleton) {
    if (label[a][2] <= 0 || label[b][2] <= 0) continue;
    const [ax, ay] = project(label[a][0], label[a][1]);
    const [bx, by] = project(label[b][0], label[b][1]);
    ctx.strokeStyle = SIDE_COLOURS[side(names[a]) === side(names[b]) ? side(names[a]) : "center"];
    ctx.setLineDash(label[a][2] === 1 || label[b][2] === 1 ? [5, 4] : []);
    ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
  }
  ctx.setLineDash([]);
  label.forEach(([x, y, v], j) => {
    if (v <= 0) return;
    const [px, py] = project(x, y);
    const r = j === highlight ? radius * 1.6 : radius;
    ctx.beginPath(); ctx.arc(px, py, r, 0, 2 * Math.PI);
    ctx.fillStyle = v === 2 ? SIDE_COLOURS[side(names[j])] : "rgba(0,0,0,0.35)";
    ctx.fill();
    ctx.lineWidth = j === highlight ? 3 : 1.5;
    ctx.strokeStyle = v === 2 ? "#fff" : SIDE_COLOURS[side(names[j])];
    ctx.stroke();
  });
}

async function draw() {
  const s = current();
  const canvas = $("main-canvas");
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#111"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!s || !page.label) return;
  let img = null;
  try { img = await loadImage(s.sample); } catch (e) { showError(e.message); }
  if (current() !== s) return;  // another sample was chosen meanwhile
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#111"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (img) {
    ctx.setTransform(page.view.scale, 0, 0, page.view.scale, page.view.ox, page.view.oy);
    ctx.imageSmoothingEnabled = page.view.scale < 3;
    ctx.drawImage(img, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }
  const [bx, by, bw, bh] = s.box;
  const [x0, y0] = toScreen(bx, by), [x1, y1] = toScreen(bx + bw, by + bh);
  ctx.strokeStyle = "rgba(255,255,255,0.55)"; ctx.lineWidth = 1; ctx.setLineDash([6, 4]);
  ctx.strokeRect(x0, y0, x1 - x0, y1 - y0); ctx.setLineDash([]);
  drawSkeleton(ctx, page.label, toScreen, JOINT_PX, page.selected >= 0 ? page.selected : page.hover);
  if (img) page.drawn = s.sample;
}

async function drawNeighbour(which) {
  const s = current();
  const n = s ? s[which] : null;
  const canvas = $(`${which}-canvas`);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#111"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  $(`${which}-caption`).textContent = n
    ? `${which === "prev" ? "previous" : "next"} frame (${n.frame}) · sample ${n.sample}`
    : `no ${which === "prev" ? "previous" : "next"} frame of this track`;
  if (!n) return;
  let img;
  try { img = await loadImage(n.sample); } catch (e) { return; }
  if (current() !== s) return;
  const [x, y, w, h] = n.box;
  const bw = Math.max(w, 8) * 1.5, bh = Math.max(h, 8) * 1.5;
  const scale = Math.min(canvas.width / bw, canvas.height / bh);
  const ox = canvas.width / 2 - (x + w / 2) * scale, oy = canvas.height / 2 - (y + h / 2) * scale;
  ctx.setTransform(scale, 0, 0, scale, ox, oy);
  ctx.drawImage(img, 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const shown = n.prediction.map(([px, py]) => [px, py, 2]);
  drawSkeleton(ctx, shown, (px, py) => [px * scale + ox, py * scale + oy], 3, -1);
}

function renderJointList() {
  const list = $("joint-list");
  list.textContent = "";
  const s = current();
  if (!s || !page.label) return;
  page.meta.keypoints.forEach((name, j) => {
    const v = page.label[j][2];
    const li = document.createElement("li");
    li.dataset.joint = String(j);
    li.className = `v${v} side-${side(name)}${j === page.selected ? " selected" : ""}`;
    const dot = document.createElement("span"); dot.className = "dot";
    const label = document.createElement("span"); label.textContent = name;
    const state = document.createElement("span"); state.className = "state";
    state.textContent = v === 2 ? "visible" : v === 1 ? "occluded" : "not visible";
    const conf = document.createElement("span"); conf.className = "conf";
    conf.textContent = s.prediction[j][2].toFixed(2);
    conf.title = "the model's confidence";
    li.append(dot, label, state, conf);
    li.addEventListener("click", () => { page.selected = j; render(); });
    list.append(li);
  });
}

function renderHeader() {
  const q = page.query;
  const s = current();
  if (!q || !s) {
    $("k-of-q").textContent = "–"; $("sample-info").textContent = ""; $("answer-state").textContent = "";
    $("answered").textContent = "";
    return;
  }
  $("k-of-q").textContent = `${page.index + 1} of ${q.total}`;
  $("sample-info").textContent = `cycle ${q.cycle} · sample ${s.sample} · track ${s.track} · frame ${s.frame}`;
  const a = answerOf(s.sample);
  const kind = a === undefined ? "" : (typeof a === "string" ? a : "label");
  const state = $("answer-state");
  state.className = `answer-state ${kind}`;
  state.textContent = a === undefined ? "not answered" : { label: "corrected", accept: "accepted", skip: "skipped", reject: "rejected" }[kind];
  const answered = Object.keys(q.answers).length;
  $("answered").textContent = `${answered} of ${q.total} answered · labeled ${q.labeled} of ${q.num_people} (${q.labeled_percent.toFixed(1)} %)`;
  $("submit").classList.toggle("ready", answered === q.total);
}

function render() {
  renderHeader();
  renderJointList();
  draw();
}

function showSample(index, { keepEdits = false } = {}) {
  const q = page.query;
  if (!q || !q.samples.length) return;
  page.index = (index + q.samples.length) % q.samples.length;
  const s = current();
  const saved = answerOf(s.sample);
  if (!keepEdits) {
    page.label = Array.isArray(saved) ? copyLabel(saved) : copyLabel(s.initial);
    page.edits = [];
  }
  page.selected = -1; page.hover = -1;
  fitView();
  render();
  drawNeighbour("prev"); drawNeighbour("next");
  for (const other of [q.samples[page.index + 1], s.prev, s.next]) if (other) loadImage(other.sample).catch(() => {});
}

// ------------------------------------------------------------------------------------------- editing
function edit(change) {
  page.edits.push(copyLabel(page.label));
  change(page.label);
  render();
}

function setVisibility(v) {
  const j = page.selected >= 0 ? page.selected : page.hover;
  if (j < 0 || !page.label) { showError("select a joint first (click it or its name, or Tab)"); return; }
  edit((label) => { label[j][2] = v; });
}

function toggleOccluded() {
  const j = page.selected >= 0 ? page.selected : page.hover;
  if (j < 0 || !page.label) { showError("select a joint first (click it or its name, or Tab)"); return; }
  edit((label) => { label[j][2] = label[j][2] === 1 ? 2 : 1; });
}

async function undo() {
  if (page.edits.length) {
    page.label = page.edits.pop();
    render();
    return;
  }
  try {
    const taken = await api("api/undo", { method: "POST" });
    if (taken.sample === null) { showError("nothing to undo"); return; }
    delete page.query.answers[String(taken.sample)];
    const index = page.query.samples.findIndex((s) => s.sample === taken.sample);
    showSample(index);
    if (Array.isArray(taken.answer)) { page.label = copyLabel(taken.answer); render(); }
    showError("");
  } catch (e) { showError(e.message); }
}

async function sendAnswer(answer) {
  const s = current();
  if (!s || page.sending || page.busy) return;
  page.sending = true;
  try {
    await api(`api/answers/${s.sample}`, { method: "PUT", body: { answer } });
    page.query.answers[String(s.sample)] = answer;
    showError("");
    nextUnanswered();
  } catch (e) {
    showError(e.problems ? `${e.message}` : e.message);
  } finally {
    page.sending = false;
  }
}

function nextUnanswered() {
  const q = page.query;
  for (let step = 1; step <= q.samples.length; step++) {
    const i = (page.index + step) % q.samples.length;
    if (answerOf(q.samples[i].sample) === undefined) { showSample(i); return; }
  }
  renderHeader();  // all answered: stay, the submit button lights up
}

function acceptAsIs() {
  const s = current();
  if (!s) return;
  if (!sameLabel(page.label, s.initial) && !confirm("Drop your corrections and accept the prediction as it is?")) return;
  sendAnswer("accept");
}

async function submitQuery() {
  const q = page.query;
  if (!q || page.busy) return;
  const open = q.total - Object.keys(q.answers).length;
  if (open > 0 && !confirm(`${open} of ${q.total} samples are not answered; they return to the pool. Submit?`)) return;
  try {
    await api("api/submit", { method: "POST" });
    page.busy = true;
    showBusy({ phase: "starting", job: "update" });
  } catch (e) { showError(e.message); }
}

async function stopAndExport() {
  if (!confirm("End the run now and export the poses (labels where labeled, predictions elsewhere)? " +
               "The answers given to the current query are taken first.")) return;
  try {
    await api("api/stop", { method: "POST" });
    page.busy = true;
  } catch (e) { showError(e.message); }
}

// ------------------------------------------------------------------------------------------- mouse
function onMouseDown(event) {
  if (!page.label || page.busy) return;
  const [sx, sy] = canvasPoint(event);
  const j = jointAt(sx, sy);
  if (j >= 0) {
    page.selected = j;
    page.drag = { kind: "joint", joint: j, before: copyLabel(page.label), moved: false };
  } else {
    page.drag = { kind: "pan", x0: sx, y0: sy, ox: page.view.ox, oy: page.view.oy };
  }
  $("main-canvas").classList.add("dragging");
  render();
}

function onMouseMove(event) {
  if (!page.label) return;
  const [sx, sy] = canvasPoint(event);
  const d = page.drag;
  if (d && d.kind === "joint") {
    const [ix, iy] = toImage(sx, sy);
    page.label[d.joint][0] = Math.round(ix * 100) / 100;
    page.label[d.joint][1] = Math.round(iy * 100) / 100;
    d.moved = true;
    draw();
  } else if (d && d.kind === "pan") {
    page.view.ox = d.ox + (sx - d.x0);
    page.view.oy = d.oy + (sy - d.y0);
    draw();
  } else {
    const j = jointAt(sx, sy);
    if (j !== page.hover) { page.hover = j; draw(); }
    const tip = $("tooltip");
    if (j >= 0) {
      const [px, py] = toScreen(page.label[j][0], page.label[j][1]);
      tip.textContent = `${page.meta.keypoints[j]} · ${["not visible", "occluded", "visible"][page.label[j][2]]}`;
      tip.style.left = `${px + 10}px`; tip.style.top = `${py - 24}px`;
      tip.classList.remove("hidden");
    } else {
      tip.classList.add("hidden");
    }
  }
}

function onMouseUp() {
  const d = page.drag;
  page.drag = null;
  $("main-canvas").classList.remove("dragging");
  if (d && d.kind === "joint" && d.moved) { page.edits.push(d.before); render(); }
}

function onDoubleClick(event) {
  if (!page.label || page.selected < 0) return;
  const [ix, iy] = toImage(...canvasPoint(event));
  const j = page.selected;
  edit((label) => { label[j] = [Math.round(ix * 100) / 100, Math.round(iy * 100) / 100, label[j][2] > 0 ? label[j][2] : 2]; });
}

function onWheel(event) {
  event.preventDefault();
  const [sx, sy] = canvasPoint(event);
  zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, sx, sy);
}

// ------------------------------------------------------------------------------------------- keys
function onKey(event) {
  if (event.target instanceof HTMLInputElement) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey || event.altKey) && key.toLowerCase() !== "z") return;  // the browser's own
  if (key.toLowerCase() === "g" && !event.ctrlKey) { switchView(page.view_name === "annotate" ? "run" : "annotate"); return; }
  if (page.view_name !== "annotate" || !page.query || page.busy) return;
  const k = page.meta.keypoints.length;
  const actions = {
    a: acceptAsIs, s: () => sendAnswer("skip"), r: () => sendAnswer("reject"), z: undo,
    o: toggleOccluded, x: () => setVisibility(0), v: () => setVisibility(2),
    "+": () => zoom(1.25), "=": () => zoom(1.25), "-": () => zoom(0.8), 0: () => { fitView(); draw(); },
    arrowleft: () => showSample(page.index - 1), arrowright: () => showSample(page.index + 1),
  };
  let action = null;
  if (key === "Enter" && event.shiftKey) action = submitQuery;
  else if (key === "Enter") action = () => sendAnswer(copyLabel(page.label));
  else if (key === "Tab") action = () => { page.selected = ((page.selected + (event.shiftKey ? -1 : 1)) % k + k) % k; render(); };
  else if (key === "Escape") action = () => { page.selected = -1; render(); };
  else action = actions[key.toLowerCase()];
  if (action) { event.preventDefault(); action(); }
}

// ------------------------------------------------------------------------------------------- status
function phaseText(st) {
  if (st.phase === "retraining") {
    return st.epochs ? `cycle ${st.cycle}: retraining, epoch ${st.epoch} of ${st.epochs}` : "retraining";
  }
  return {
    starting: st.job === "stop" ? "stopping the run…" : "taking the answers…",
    estimating: `cycle ${st.cycle}: estimating every person with the model…`,
    selecting: `cycle ${st.cycle}: selecting the next query…`,
    saved: `cycle ${st.cycle} saved; estimating with the new model…`,
    idle: "",
  }[st.phase] || st.phase;
}

function showBusy(st) {
  const busy = !!st.busy || st.phase === "starting";
  $("busy-overlay").classList.toggle("hidden", !busy);
  const text = phaseText(st);
  $("busy-text").textContent = text || "working…";
  const fraction = st.phase === "retraining" && st.epochs ? st.epoch / st.epochs : (st.phase === "selecting" ? 1 : 0);
  $("busy-bar").style.width = `${Math.round(100 * fraction)}%`;
  $("run-progress").textContent = busy ? text : "idle";
  $("run-progress-bar").style.width = `${Math.round(100 * (busy ? fraction : 0))}%`;
  const status = $("status");
  status.textContent = busy ? text : (page.finished ? "run finished" : "ready");
  status.classList.toggle("busy", busy);
}

async function poll() {
  try {
    const st = await api("api/status");
    page.busy = st.busy;
    page.finished = st.finished;
    showBusy(st);
    if (st.error) showError(`the last step failed: ${st.error} (your answers are saved; submit again to retry)`);
    if (!st.busy && st.version !== page.version) {
      page.version = st.version;
      if (st.has_query) await loadQuery();
      else if (st.finished) { page.query = null; render(); switchView("run"); }
      if (page.view_name === "run") await loadRun();
    } else if (page.view_name === "run" && (st.busy || !page.runLoaded)) {
      await loadRun();
    }
    $("accept").disabled = $("submit").disabled = page.busy || !page.query;
  } catch (e) {
    $("status").textContent = `server unreachable (${e.message}); retrying…`;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function loadQuery() {
  const previous = page.query;
  page.query = await api("api/query");
  page.images.clear();
  const samples = page.query.samples;
  const firstOpen = samples.findIndex((s) => answerOf(s.sample) === undefined);
  const sameQuery = previous && previous.cycle === page.query.cycle;
  showSample(sameQuery ? page.index : (firstOpen >= 0 ? firstOpen : 0));
}

// ------------------------------------------------------------------------------------------- run view
function svg(name, attrs, parent) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.append(el);
  return el;
}

function drawChart(run) {
  const chart = $("g-chart");
  chart.textContent = "";
  chart.setAttribute("width", Math.max(360, chart.parentElement.clientWidth - 30));
  const W = +chart.getAttribute("width"), H = +chart.getAttribute("height");
  const L = 48, R = 16, T = 12, B = 36;
  const xmax = Math.max(10, ...run.cycles.map((c) => c.labeled_percent_after || c.labeled_percent)) * 1.1;
  const X = (p) => L + (W - L - R) * Math.min(p, xmax) / xmax;
  const Y = (v) => T + (H - T - B) * (1 - v);
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    svg("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#eef0f3" }, chart);
    svg("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#667085" }, chart).textContent = v.toFixed(1);
  }
  for (let p = 0; p <= xmax; p += xmax > 50 ? 20 : 5) {
    svg("text", { x: X(p), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#667085" }, chart).textContent = `${p}`;
  }
  svg("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 12, fill: "#667085" }, chart).textContent = "labeled %";
  svg("line", { x1: L, x2: W - R, y1: Y(run.theta), y2: Y(run.theta), stroke: "#b45309", "stroke-dasharray": "4 4" }, chart);
  svg("text", { x: W - R, y: Y(run.theta) - 4, "text-anchor": "end", "font-size": 11, fill: "#b45309" }, chart).textContent = `θ = ${run.theta}`;
  const series = [
    { key: "G", at: (c) => c.labeled_percent, value: (c) => c.G, colour: "#2563eb", cls: "g-point" },
  ];
  if (run.has_ground_truth) series.push({ key: "ap60", at: (c) => c.labeled_percent, value: (c) => (c.ap60 === null ? null : c.ap60 / 100), colour: "#15803d", cls: "ap-point" });
  for (const s of series) {
    const points = run.cycles.filter((c) => s.value(c) !== null && s.value(c) !== undefined).map((c) => [X(s.at(c)), Y(s.value(c)), c]);
    if (points.length > 1) svg("polyline", { points: points.map(([x, y]) => `${x},${y}`).join(" "), fill: "none", stroke: s.colour, "stroke-width": 2 }, chart);
    for (const [x, y, c] of points) {
      const dot = svg("circle", { cx: x, cy: y, r: 4, fill: s.colour, class: s.cls }, chart);
      svg("title", {}, dot).textContent = `cycle ${c.cycle}: ${s.key} = ${s.value(c).toFixed(3)}`;
    }
  }
  $("ap-legend").classList.toggle("hidden", !run.has_ground_truth);
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));

function renderRun(run) {
  $("labeled").textContent = `${run.labeled_percent.toFixed(1)} %`;
  $("labeled-bar").style.width = `${Math.min(100, run.labeled_percent)}%`;
  $("labeled-detail").textContent = `${run.labeled} of ${run.num_people} people labeled · ${run.rejected} rejected · ` +
    `cycle ${run.next_cycle} of ${run.num_cycles}`;
  const stopping = $("stopping");
  stopping.textContent = run.stopping.text;
  stopping.className = `stopping ${run.stopping.met === true ? "met" : run.stopping.met === false ? "unmet" : ""}`;
  if (run.final) {
    const ap = run.final["AP@0.6"] !== undefined && run.final["AP@0.6"] !== null ? ` · AP@0.6 ${fmt(run.final["AP@0.6"], 2)}` : "";
    $("final").textContent = `finished: ${run.final.reason} (${fmt(run.final.labeled_percent)} % labeled${ap}); poses: ${run.export.join(", ") || "—"}`;
  } else {
    $("final").textContent = "the run goes on";
  }
  $("stop-export").disabled = !!run.final || run.status.busy;
  const body = $("cycle-table").querySelector("tbody");
  body.textContent = "";
  for (const c of run.cycles) {
    const tr = document.createElement("tr");
    const cells = [c.cycle, fmt(c.labeled_percent), c.num_queried, c.num_answered, c.num_skipped, c.num_rejected,
      fmt(c.G, 3), `${c.epochs}${c.epochs !== c.epochs_planned ? ` / ${c.epochs_planned}` : ""}`, c.num_retrained_R,
      fmt(c.ap60_raw, 2), fmt(c.ap60, 2), fmt(c.sc_all_value, 3), fmt(c.sc_min_value, 3)];
    cells.forEach((value, i) => {
      const td = document.createElement("td");
      td.textContent = String(value);
      if (i === 9 || i === 10) td.className = "gt";
      if (i === 11 && c.sc_all_met !== null) td.className = c.sc_all_met ? "met" : "unmet";
      if (i === 12 && c.sc_min_met !== null) td.className = c.sc_min_met ? "met" : "unmet";
      tr.append(td);
    });
    body.append(tr);
  }
  document.querySelectorAll(".gt").forEach((el) => el.classList.toggle("hidden", !run.has_ground_truth));
  drawChart(run);
}

async function loadRun() {
  try {
    renderRun(await api("api/run"));
    page.runLoaded = true;
  } catch (e) { showError(e.message); }
}

function switchView(name) {
  page.view_name = name;
  $("annotate-view").classList.toggle("hidden", name !== "annotate");
  $("run-view").classList.toggle("hidden", name !== "run");
  $("tab-annotate").classList.toggle("active", name === "annotate");
  $("tab-run").classList.toggle("active", name === "run");
  if (name === "run") loadRun();
  else render();
}

// ------------------------------------------------------------------------------------------- start
async function start() {
  try {
    page.meta = await api("api/meta");
  } catch (e) {
    showError(e.message);
    $("status").textContent = "not connected";
    return;
  }
  $("video-name").textContent = `· ${page.meta.video} · ${page.meta.criterion} · θ = ${page.meta.theta}`;
  const canvas = $("main-canvas");
  canvas.addEventListener("mousedown", onMouseDown);
  window.addEventListener("mousemove", onMouseMove);
  window.addEventListener("mouseup", onMouseUp);
  canvas.addEventListener("dblclick", onDoubleClick);
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("mouseleave", () => $("tooltip").classList.add("hidden"));
  document.addEventListener("keydown", onKey);
  $("accept").addEventListener("click", acceptAsIs);
  $("save").addEventListener("click", () => sendAnswer(copyLabel(page.label)));
  $("skip").addEventListener("click", () => sendAnswer("skip"));
  $("reject").addEventListener("click", () => sendAnswer("reject"));
  $("undo").addEventListener("click", undo);
  $("occluded").addEventListener("click", toggleOccluded);
  $("hidden").addEventListener("click", () => setVisibility(0));
  $("visible").addEventListener("click", () => setVisibility(2));
  $("prev-sample").addEventListener("click", () => showSample(page.index - 1));
  $("next-sample").addEventListener("click", () => showSample(page.index + 1));
  $("submit").addEventListener("click", submitQuery);
  $("stop-export").addEventListener("click", stopAndExport);
  $("tab-annotate").addEventListener("click", () => switchView("annotate"));
  $("tab-run").addEventListener("click", () => switchView("run"));
  poll();
}

// For scripting and tests: where joint j of the shown sample is on the main canvas (CSS pixels), and
// what the page shows. Read only.
window.vatl = {
  jointOnCanvas: (j) => (page.label ? toScreen(page.label[j][0], page.label[j][1]) : null),
  sample: () => (current() ? current().sample : null),
  drawn: () => (page.drawn === undefined ? null : page.drawn),   // the sample whose frame is on the canvas
  label: () => (page.label ? copyLabel(page.label) : null),
  cycle: () => (page.query ? page.query.cycle : null),
};

document.addEventListener("DOMContentLoaded", start);
