// oncoseg review page: three views with the contour over the image, the note beside it.
// Volumes come from /api/cases/{id}/view and /api/jobs/{id}/view as uint8 arrays in LPS
// voxel order (i -> patient's left, j -> posterior, k -> superior), index (i*nj + j)*nk + k.
"use strict";

const $ = (id) => document.getElementById(id);
const VIEW_PX = 320; // longest side of a view on screen
const state = { caseId: null, image: null, current: null, previous: null, uploadDirty: false,
                maxUpload: null }; // the service's upload cap in bytes (from /healthz)

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const token = $("token").value.trim();
  if (token) headers["Authorization"] = "Bearer " + token;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
    const err = new Error(`${res.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    err.status = res.status;
    err.retryAfter = Number(res.headers.get("Retry-After") || 0);
    throw err;
  }
  return res;
}

function unpack(view) {
  const bin = atob(view.data);
  const data = new Uint8Array(bin.length);
  for (let n = 0; n < bin.length; n++) data[n] = bin.charCodeAt(n);
  return { shape: view.shape, spacing: view.spacing, data };
}

// A 2D slice of a volume as {w, h, sx, sy, at(col, row)}, in radiological display order.
function slicer(vol, view, index) {
  const [ni, nj, nk] = vol.shape, [si, sj, sk] = vol.spacing, d = vol.data;
  if (view === "axial") return { w: ni, h: nj, sx: si, sy: sj, at: (c, r) => d[(c * nj + r) * nk + index] };
  if (view === "coronal") return { w: ni, h: nk, sx: si, sy: sk, at: (c, r) => d[(c * nj + index) * nk + (nk - 1 - r)] };
  return { w: nj, h: nk, sx: sj, sy: sk, at: (c, r) => d[(index * nj + c) * nk + (nk - 1 - r)] };
}

function sliceIndex(view) {
  return Number($(view === "axial" ? "slice" : "slice-" + view).value);
}

function contourPath(sl, cx, cy) {
  // edges between a mask voxel and a background voxel: the outline at pixel precision
  const path = new Path2D();
  const inside = (c, r) => c >= 0 && r >= 0 && c < sl.w && r < sl.h && sl.at(c, r) > 0;
  for (let r = 0; r < sl.h; r++) {
    for (let c = 0; c < sl.w; c++) {
      if (!inside(c, r)) continue;
      const x = c * cx, y = r * cy;
      if (!inside(c - 1, r)) { path.moveTo(x, y); path.lineTo(x, y + cy); }
      if (!inside(c + 1, r)) { path.moveTo(x + cx, y); path.lineTo(x + cx, y + cy); }
      if (!inside(c, r - 1)) { path.moveTo(x, y); path.lineTo(x + cx, y); }
      if (!inside(c, r + 1)) { path.moveTo(x, y + cy); path.lineTo(x + cx, y + cy); }
    }
  }
  return path;
}

function drawView(view) {
  const canvas = $(view), ctx = canvas.getContext("2d");
  if (!state.image) { ctx.clearRect(0, 0, canvas.width, canvas.height); return; }
  const sl = slicer(state.image, view, sliceIndex(view));
  const scale = VIEW_PX / Math.max(sl.w * sl.sx, sl.h * sl.sy);
  canvas.width = Math.max(1, Math.round(sl.w * sl.sx * scale));
  canvas.height = Math.max(1, Math.round(sl.h * sl.sy * scale));
  const pixels = new ImageData(sl.w, sl.h);
  for (let r = 0; r < sl.h; r++) {
    for (let c = 0; c < sl.w; c++) {
      const v = sl.at(c, r), o = 4 * (r * sl.w + c);
      pixels.data[o] = pixels.data[o + 1] = pixels.data[o + 2] = v;
      pixels.data[o + 3] = 255;
    }
  }
  const off = document.createElement("canvas");
  off.width = sl.w; off.height = sl.h;
  off.getContext("2d").putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  const cx = canvas.width / sl.w, cy = canvas.height / sl.h;
  const layers = [[state.previous, getComputedStyle(document.body).getPropertyValue("--old")],
                  [state.current, getComputedStyle(document.body).getPropertyValue("--new")]];
  for (const [result, color] of layers) {
    if (!result) continue;
    ctx.strokeStyle = color.trim();
    ctx.lineWidth = 2;
    ctx.stroke(contourPath(slicer(result.mask, view, sliceIndex(view)), cx, cy));
  }
  drawClauseRegion(ctx, view, cx, cy);
}

function drawAll() { ["axial", "coronal", "sagittal"].forEach(drawView); }

function setSliders(center) {
  const [ni, nj, nk] = state.image.shape;
  const sliders = [["slice", nk, center[2]], ["slice-coronal", nj, center[1]], ["slice-sagittal", ni, center[0]]];
  for (const [id, n, value] of sliders) {
    $(id).max = n - 1;
    $(id).value = Math.min(n - 1, Math.max(0, Math.round(value)));
  }
}

function maskCenter(mask) {
  const [ni, nj, nk] = mask.shape, sum = [0, 0, 0];
  let count = 0;
  for (let i = 0; i < ni; i++) for (let j = 0; j < nj; j++) for (let k = 0; k < nk; k++) {
    if (mask.data[(i * nj + j) * nk + k] > 0) { sum[0] += i; sum[1] += j; sum[2] += k; count++; }
  }
  return count ? sum.map((s) => s / count) : null;
}

function showVolume() {
  const el = $("volume"), cur = state.current, prev = state.previous;
  if (!cur) { el.textContent = "no contour yet"; el.dataset.ml = ""; return; }
  el.dataset.ml = String(cur.volume);
  el.dataset.previousMl = prev ? String(prev.volume) : "";
  let text = `Volume ${cur.volume.toFixed(1)} ml`;
  if (prev) {
    const change = cur.volume - prev.volume;
    text += ` (previous ${prev.volume.toFixed(1)} ml, change ${change >= 0 ? "+" : "\u2212"}${Math.abs(change).toFixed(1)} ml)`;
  }
  el.textContent = text;
}

async function loadCase(caseId) {
  state.caseId = caseId;
  state.current = state.previous = null;
  state.image = unpack(await (await api(`/api/cases/${caseId}/view`)).json());
  const [ni, nj, nk] = state.image.shape;
  setSliders([ni / 2, nj / 2, nk / 2]);
  showVolume();
  drawAll();
}

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);

// files (and the note) over the service's cap are refused here, before any byte is sent
function checkUploadSize(files) {
  if (!state.maxUpload) return;
  let total = new Blob([$("note").value]).size;
  for (const f of files) total += f.size;
  if (total > state.maxUpload) {
    throw new Error(`file too large (${mb(total)} MB > ${mb(state.maxUpload)} MB cap)`);
  }
}

async function uploadCase() {
  const files = $("image").files;
  if (!files.length) throw new Error("choose an image file (or pick a stored case) first");
  checkUploadSize(files);
  const form = new FormData();
  for (const f of files) form.append("image", f, f.name);
  form.append("note", $("note").value);
  setStatus("uploading...");
  const info = await (await api("/api/cases", { method: "POST", body: form })).json();
  state.uploadDirty = false;
  await refreshCases(info.case_id);
  await loadCase(info.case_id);
}

async function waitForJob(jobId) {
  for (;;) {
    const job = await (await api(`/api/jobs/${jobId}`)).json();
    if (job.status === "done") return job;
    if (job.status === "failed") throw new Error("segmentation failed: " + job.error);
    setStatus(`job ${job.status}...`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function segment() {
  $("segment").disabled = true;
  try {
    if (state.uploadDirty || !state.caseId) await uploadCase();
    setStatus("queued...");
    const body = JSON.stringify({ note: $("note").value, explain: $("want-explain").checked });
    const res = await api(`/api/cases/${state.caseId}/segment`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body });
    const job = await waitForJob((await res.json()).job_id);
    const mask = unpack(await (await api(`/api/jobs/${job.job_id}/view`)).json());
    state.previous = state.current;
    state.current = { jobId: job.job_id, mask, volume: job.result.volume_ml, files: job.result.files };
    if (!state.previous) { const c = maskCenter(mask); if (c) setSliders(c); }
    showVolume();
    $("warning").textContent = job.result.warning ? "warning: " + job.result.warning : "";
    await showExplanation(job);
    $("segment").textContent = "Re-contour";
    $("accept").disabled = false;
    drawAll();
    setStatus(`done in ${(job.finished - job.started).toFixed(2)} s`);
  } catch (err) {
    setStatus(err.status === 503 ? `busy: try again in ${err.retryAfter} s` : String(err.message), true);
  } finally {
    $("segment").disabled = false;
  }
}

async function accept() {
  if (!state.current) return;
  const links = $("downloads");
  links.textContent = "";
  for (const [name, url] of Object.entries(state.current.files)) {
    if (name.startsWith("explain")) continue; // the attribution is shown, not exported
    const blob = await (await api(url)).blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.textContent = name;
    links.appendChild(a);
    a.click();
  }
  setStatus("accepted: " + Object.keys(state.current.files).join(", "));
}

let previewTimer = null;
function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    try {
      const res = await api("/api/deid", { method: "POST", headers: { "Content-Type": "application/json" },
                                           body: JSON.stringify({ note: $("note").value }) });
      $("preview").textContent = (await res.json()).text;
    } catch (err) { $("preview").textContent = String(err.message); }
  }, 250);
}

async function refreshCases(selected) {
  const cases = await (await api("/api/cases")).json();
  const select = $("case");
  select.textContent = "";
  select.appendChild(new Option("(none)", ""));
  for (const c of cases) {
    const when = new Date(c.created * 1000).toLocaleString();
    select.appendChild(new Option(`${when} \u00b7 ${c.kind} \u00b7 ${c.case_id.slice(0, 8)}`, c.case_id));
  }
  select.value = selected || "";
}

async function pickCase() {
  const caseId = $("case").value;
  if (!caseId) return;
  try {
    const info = await (await api(`/api/cases/${caseId}`)).json();
    $("note").value = info.note;
    schedulePreview();
    await loadCase(caseId);
    state.uploadDirty = false;
    setStatus(`case ${caseId.slice(0, 8)}: ${info.jobs.length} earlier job(s)`);
  } catch (err) { setStatus(String(err.message), true); }
}

function clickToSlices(view, event) {
  if (!state.image) return;
  const canvas = $(view), rect = canvas.getBoundingClientRect();
  const sl = slicer(state.image, view, 0);
  const c = Math.floor((event.clientX - rect.left) / rect.width * sl.w);
  const r = Math.floor((event.clientY - rect.top) / rect.height * sl.h);
  const [ni, nj, nk] = state.image.shape;
  const center = [Number($("slice-sagittal").value), Number($("slice-coronal").value), Number($("slice").value)];
  if (view === "axial") { center[0] = c; center[1] = r; }
  if (view === "coronal") { center[0] = c; center[2] = nk - 1 - r; }
  if (view === "sagittal") { center[1] = c; center[2] = nk - 1 - r; }
  setSliders([Math.min(center[0], ni - 1), Math.min(center[1], nj - 1), center[2]]);
  drawAll();
}

async function init() {
  $("token").value = sessionStorage.getItem("oncoseg-token") || "";
  $("token").addEventListener("change", () => { sessionStorage.setItem("oncoseg-token", $("token").value); refreshCases(state.caseId).catch(() => {}); });
  $("note").addEventListener("input", schedulePreview);
  $("image").addEventListener("change", () => {
    state.uploadDirty = true;
    try { checkUploadSize($("image").files); } catch (err) { setStatus(String(err.message), true); }
  });
  $("segment").addEventListener("click", segment);
  $("accept").addEventListener("click", () => accept().catch((e) => setStatus(String(e.message), true)));
  $("case").addEventListener("change", pickCase);
  for (const id of ["slice", "slice-coronal", "slice-sagittal"]) $(id).addEventListener("input", drawAll);
  for (const view of ["axial", "coronal", "sagittal"]) $(view).addEventListener("click", (e) => clickToSlices(view, e));
  try {
    const health = await (await fetch("/healthz")).json();
    const m = health.model;
    state.maxUpload = health.max_upload_bytes || null;
    // how probabilities become the contour: the run's infer.threshold, or the argmax
    const labels = !("threshold" in m) ? null
      : m.threshold === null ? "labels by argmax" : "foreground where P > " + m.threshold;
    const parts = [m.run ? "model " + m.run : "model", m.fusion ? "fusion " + m.fusion : null,
                   m.uses_text ? "reads the note" : "image only", labels];
    $("model").textContent = parts.filter(Boolean).join(" \u00b7 ");
    $("explain-option").style.display = m.uses_text ? "" : "none"; // nothing to explain
    await refreshCases(null);
  } catch (err) { setStatus(String(err.message), true); }
  drawAll();
}

// ---- why this contour: the note's clauses shaded by the ml each moved (job.result.explain,
// present when the job was sent with "explain": true, the #want-explain box), a clause's
// changed voxels (bit i of explain_view.json) outlined on the slices on hover/click
const CLAUSE_COLOURS = ["#ff3b30", "#34c759", "#0a84ff", "#ffcc00", "#af52de", "#ff9500", "#5ac8fa"];
const clauseColour = (i) => CLAUSE_COLOURS[i % CLAUSE_COLOURS.length];

function explainBox() {
  let box = $("explain");
  if (!box) {
    box = document.createElement("div");
    box.id = "explain";
    box.style.cssText = "background:#111;border:1px solid #444;border-radius:4px;padding:6px;line-height:1.9";
    $("volume").after(box);
  }
  return box;
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha.toFixed(2)})`;
}

function setHighlight(index, jump) {
  state.highlight = index;
  const ex = state.current && state.current.explainView;
  if (ex && index !== null && index < 8) {
    const bit = 1 << index, data = new Uint8Array(ex.data.length);
    for (let n = 0; n < data.length; n++) data[n] = ex.data[n] & bit ? 1 : 0;
    state.clauseRegion = { shape: ex.shape, spacing: ex.spacing, data };
    const c = jump ? maskCenter(state.clauseRegion) : null;
    if (c) setSliders(c);
  } else {
    state.clauseRegion = null;
  }
  for (const el of document.querySelectorAll("#explain .clause")) {
    el.style.outline = Number(el.dataset.clause) === index ? "2px solid white" : "none";
  }
  drawAll();
}

function drawClauseRegion(ctx, view, cx, cy) {
  if (!state.clauseRegion || state.highlight === null) return;
  ctx.setLineDash([4, 3]);
  ctx.strokeStyle = clauseColour(state.highlight);
  ctx.lineWidth = 2;
  ctx.stroke(contourPath(slicer(state.clauseRegion, view, sliceIndex(view)), cx, cy));
  ctx.setLineDash([]);
}

async function showExplanation(job) {
  const ex = job.result.explain, box = explainBox();
  state.highlight = null; state.clauseRegion = null;
  box.textContent = "";
  if (!ex || !ex.reads_note) { box.style.display = "none"; return; }
  box.style.display = "";
  const url = `/api/cases/${job.case_id}/results/${job.job_id}/explain_view.json`;
  state.current.explainView = unpack(await (await api(url)).json());
  const top = Math.max(0, ...ex.clauses.map((c) => c.changed_ml));
  const title = document.createElement("div");
  title.textContent = "Why this contour: each clause's effect (hover to see where)";
  title.style.cssText = "font-size:12px;color:#9aa0aa";
  box.appendChild(title);
  let pos = 0;
  for (const c of ex.clauses) {
    box.appendChild(document.createTextNode(ex.note.slice(pos, c.start)));
    const span = document.createElement("span");
    const share = top > 0 ? c.changed_ml / top : 0;
    span.className = "clause";
    span.dataset.clause = String(c.index);
    span.dataset.ml = String(c.changed_ml);
    span.textContent = ex.note.slice(c.start, c.end);
    span.title = `+${c.added_ml.toFixed(1)} / \u2212${c.removed_ml.toFixed(1)} ml`;
    span.style.cssText = `background:${rgba(clauseColour(c.index), 0.1 + 0.8 * share)};` +
      `border-bottom:2px solid ${clauseColour(c.index)};padding:1px 2px;border-radius:3px;cursor:pointer`;
    span.addEventListener("mouseenter", () => setHighlight(c.index, false));
    span.addEventListener("click", () => setHighlight(c.index, true));
    box.appendChild(span);
    pos = c.end;
  }
  box.appendChild(document.createTextNode(ex.note.slice(pos)));
  const best = ex.top_clause === null ? "no clause moved the contour"
    : `strongest: \u201c${ex.clauses[ex.top_clause].text}\u201d (${ex.clauses[ex.top_clause].changed_ml.toFixed(1)} ml)`;
  const foot = document.createElement("div");
  foot.id = "explain-top";
  foot.textContent = best;
  foot.style.cssText = "font-size:12px;color:#c9ccd3";
  box.appendChild(foot);
}

init();
