// The taskq dashboard: one page over the JSON API, routed by the URL's hash
// (#/, #/jobs?queue=&state=, #/jobs/<id>, #/workers, #/schedules), refreshed
// on a timer; countdowns to a waiting job's run tick every second between refreshes.
//
// Every string that comes from the API enters the page through el() as text,
// never as markup. API paths are resolved against the page's own path minus
// "dashboard", so the page works at a server's root and under an API
// Gateway stage or base path alike.
"use strict";

const TOKEN_KEY = "taskq-token"; // shared with the /docs page
const INTERVAL_KEY = "taskq-dashboard-interval";
const STATES = ["queued", "scheduled", "retrying", "started", "cancel_requested", "finished", "failed", "canceled"];
const STATE_LABELS = {
  queued: "Queued", scheduled: "Scheduled", retrying: "Retrying", started: "Started", cancel_requested: "Stopping",
  finished: "Finished", failed: "Failed", canceled: "Canceled",
};
// States of jobs that wait for a time (run_at) before they enter their queue.
const WAITING = ["scheduled", "retrying"];
const PAGE_SIZE = 50;
// A search by task scans this many of the newest jobs of the chosen state.
const SEARCH_SCAN = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const apiBase = (() => {
  const m = location.pathname.match(/^(.*\/)dashboard\/?$/);
  return new URL(m ? m[1] : "./", location.href);
})();

const $ = (sel) => document.querySelector(sel);

// ---------------------------------------------------------------- DOM helpers

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.setAttribute("class", v);
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
}

// Replaces the children of `box`, keeping keyboard focus on the element with
// the same data-key, so a refresh never throws a keyboard user back to the top.
function swap(box, ...children) {
  const active = document.activeElement;
  const key = active && box.contains(active) ? active.getAttribute("data-key") : null;
  box.replaceChildren();
  append(box, children);
  if (key) {
    const again = box.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

// ---------------------------------------------------------------- formatting

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.toLocaleDateString([], { year: "numeric", month: "2-digit", day: "2-digit" })} ${time}`;
}

function timeEl(iso) {
  if (!iso) return el("span", { class: "muted", "aria-label": "not yet" }, "—");
  return el("time", { datetime: iso, title: iso }, fmtTime(iso));
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 0) ms = 0;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function since(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Date.now() - t;
}

// "runs in 12 s" until `iso`, "due now" once it has passed.
function countdownText(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const ms = t - Date.now();
  if (ms <= 0) return "due now";
  const s = Math.ceil(ms / 1000);
  if (s < 100) return `runs in ${s} s`;
  return `runs in ${fmtDuration(s * 1000)}`;
}

// A countdown that ticks every second (see the ticker below).
function countdownEl(iso) {
  if (!iso) return el("span", { class: "muted" }, "—");
  return el("span", { class: "countdown", "data-run-at": iso }, countdownText(iso));
}

setInterval(() => {
  for (const e of document.querySelectorAll(".countdown[data-run-at]")) {
    const text = countdownText(e.getAttribute("data-run-at"));
    if (e.textContent !== text) e.textContent = text;
  }
}, 1000);

function between(a, b) {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isNaN(ta) || Number.isNaN(tb) ? null : tb - ta;
}

// How long a job ran (or has been running).
function jobDuration(job) {
  if (!job.started_at) return null;
  if (job.ended_at) return between(job.started_at, job.ended_at);
  return job.status === "started" || job.status === "cancel_requested" ? since(job.started_at) : null;
}

function shortId(id) {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

function json(value) {
  return JSON.stringify(value, null, 2);
}

function badge(status) {
  return el("span", { class: `badge ${status}` }, STATE_LABELS[status] || status);
}

function progressBar(job, label, big) {
  const p = job.progress;
  if (!p && job.status !== "finished") {
    return big
      ? el("p", { class: "muted" }, "No progress reported.")
      : el("span", { class: "muted", "aria-label": "no progress reported" }, "—");
  }
  const pct = p ? Math.max(0, Math.min(100, Number(p.percent) || 0)) : 100;
  const text = p ? `${pct}% (${p.done} of ${p.total})${p.message ? `: ${p.message}` : ""}` : "100%";
  return el("div", { class: `progress${big ? " big" : ""}` },
    el("div", {
      class: `bar ${job.status}`, role: "progressbar", "aria-label": label,
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, "aria-valuetext": text,
    }, fill(pct)),
    el("span", { class: "pct", "aria-hidden": "true" }, `${pct}%`));
}

// The bar's filled part. Its width is set through the CSSOM: the page's
// Content-Security-Policy refuses inline style attributes.
function fill(pct) {
  const span = el("span");
  span.style.width = `${pct}%`;
  return span;
}

function jobLink(id, extra) {
  return el("a", { href: `#/jobs/${encodeURIComponent(id)}`, class: "mono", title: id, "aria-label": `Job ${id}${extra || ""}` },
    shortId(id));
}

function jobsHref(queue, state, q) {
  const p = new URLSearchParams();
  if (queue) p.set("queue", queue);
  if (state) p.set("state", state);
  if (q) p.set("q", q);
  return `#/jobs?${p}`;
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(what, status, detail) {
    super(status ? `${what}: ${status} ${detail}` : `${what}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

// The API answered 401: the page waits for a token.
class NeedToken extends Error {}

async function api(method, path, query) {
  const url = new URL(path, apiBase);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const what = `${method} ${url.pathname.slice(apiBase.pathname.length - 1)}`;
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, { method, headers, cache: "no-store" });
  } catch (e) {
    throw new ApiError(what, 0, `the API did not answer (${e.message})`);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (res.status === 401) {
    tokenNeeded(Boolean(token));
    throw new NeedToken("the API needs a token");
  }
  if (!res.ok) throw new ApiError(what, res.status, detailOf(body, text, res.statusText));
  return { status: res.status, body };
}

function detailOf(body, text, statusText) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  }
  return text ? text.slice(0, 300) : statusText || "no answer body";
}

// ---------------------------------------------------------------- messages

const errorsBox = $("#errors");
const noticeBox = $("#notice");
// Errors of the last refresh (replaced by the next) and of actions (kept until dismissed).
let refreshErrors = [];
let actionErrors = [];

function renderErrors() {
  const item = (msg, dismiss) => el("div", { class: "error" },
    el("span", {}, msg),
    dismiss && el("button", { type: "button", class: "small secondary", onclick: dismiss, "aria-label": `Dismiss: ${msg}` }, "Dismiss"));
  swap(errorsBox,
    refreshErrors.map((m) => item(m)),
    actionErrors.map((m, i) => item(m, () => { actionErrors.splice(i, 1); renderErrors(); })));
}

function setRefreshErrors(list) {
  const next = list.map((e) => e.message || String(e));
  if (next.join("\n") === refreshErrors.join("\n")) return;
  refreshErrors = next;
  renderErrors();
}

function actionFailed(e) {
  if (e instanceof NeedToken) return;
  actionErrors.push(e.message || String(e));
  renderErrors();
}

let noticeTimer = null;
function notify(msg) {
  swap(noticeBox, el("div", { class: "notice" }, msg));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => noticeBox.replaceChildren(), 10000);
}

// ---------------------------------------------------------------- the token

const tokenDialog = $("#token-dialog");
const tokenInput = $("#token-input");
const tokenButton = $("#token-button");
let waitingForToken = false;

function tokenNeeded(refused) {
  waitingForToken = true;
  tokenButton.hidden = false;
  $("#token-refused").hidden = !refused;
  if (!tokenDialog.open) {
    tokenInput.value = "";
    tokenDialog.showModal();
  }
}

tokenDialog.addEventListener("close", () => {
  if (tokenDialog.returnValue === "ok" && tokenInput.value.trim()) {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    waitingForToken = false;
    tokenInput.value = "";
    refreshNow();
  } else {
    updateLiveStatus();
  }
});
$("#token-cancel").addEventListener("click", () => tokenDialog.close("cancel"));
tokenButton.addEventListener("click", () => {
  $("#token-refused").hidden = true;
  tokenInput.value = "";
  tokenDialog.showModal();
});
if (sessionStorage.getItem(TOKEN_KEY)) tokenButton.hidden = false;

$("#token-again").addEventListener("click", () => tokenNeeded(false));

// ---------------------------------------------------------------- confirmation

const confirmDialog = $("#confirm-dialog");

function confirmAction(title, text, ok, keep) {
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = ok;
  confirmDialog.querySelector("button[value=cancel]").textContent = keep;
  confirmDialog.returnValue = "";
  confirmDialog.showModal();
  return new Promise((resolve) => {
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "ok"), { once: true });
  });
}

// ---------------------------------------------------------------- live refresh

const intervalSelect = $("#interval");
const liveStatus = $("#live-status");
let intervalMs = Number(localStorage.getItem(INTERVAL_KEY) ?? 2000);
if (![...intervalSelect.options].some((o) => Number(o.value) === intervalMs)) intervalMs = 2000;
intervalSelect.value = String(intervalMs);
let timer = null;
let lastUpdated = null;
// Whether the last refresh met an API error (shown above the view).
let lastFailed = false;
let refreshing = null;

function updateLiveStatus() {
  let text;
  if (waitingForToken) text = "waiting for the API token";
  else if (document.hidden) text = "paused while the tab is hidden";
  else if (intervalMs === 0) text = lastUpdated ? `paused · updated ${fmtTime(lastUpdated.toISOString())}` : "paused";
  else if (!lastUpdated) text = "loading…";
  else text = `${lastFailed ? "update failed" : "updated"} ${fmtTime(lastUpdated.toISOString())}`;
  liveStatus.textContent = text;
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (intervalMs > 0 && !document.hidden && !waitingForToken) timer = setTimeout(tick, intervalMs);
  updateLiveStatus();
}

async function tick() {
  await refresh();
  schedule();
}

function refreshNow() {
  clearTimeout(timer);
  tick();
}

intervalSelect.addEventListener("change", () => {
  intervalMs = Number(intervalSelect.value);
  localStorage.setItem(INTERVAL_KEY, String(intervalMs));
  schedule();
});
$("#refresh-now").addEventListener("click", refreshNow);
document.addEventListener("visibilitychange", () => (document.hidden ? schedule() : refreshNow()));

// One refresh at a time; a refresh asked for meanwhile runs after it.
async function refresh() {
  if (refreshing) {
    await refreshing;
  }
  const view = current;
  refreshing = (async () => {
    const errors = [];
    try {
      await view.update((e) => errors.push(e));
    } catch (e) {
      errors.push(e);
    }
    if (view !== current) return;
    const needToken = errors.some((e) => e instanceof NeedToken);
    $("#token-wait").hidden = !needToken;
    const failed = errors.filter((e) => !(e instanceof NeedToken));
    lastFailed = failed.length > 0;
    if (!needToken) lastUpdated = new Date();
    setRefreshErrors(failed);
    if (failed.length) {
      for (const p of view.live.querySelectorAll(".loading")) p.textContent = "Not loaded: see the error above.";
    }
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

// ---------------------------------------------------------------- views

// A view is { title, frame: Node, live: Node, update(fail) }: the frame is built
// once per visit (forms keep what the user typed), `live` is redrawn by update.

function overviewView() {
  const queuesBox = el("div", {}, el("p", { class: "muted loading" }, "Loading queues…"));
  const chartBox = el("div", { class: "chart" }, el("p", { class: "muted loading" }, "Loading…"));
  const workersBox = el("div", {}, el("p", { class: "muted loading" }, "Loading…"));
  const live = el("div", {},
    el("section", { class: "panel", "aria-labelledby": "queues-h" }, el("h2", { id: "queues-h" }, "Queues"), queuesBox),
    el("div", { class: "grid" },
      el("section", { class: "panel", "aria-labelledby": "chart-h" },
        el("h2", { id: "chart-h" }, "Throughput, last hour"), chartBox),
      el("section", { class: "panel", "aria-labelledby": "wsum-h" },
        el("h2", { id: "wsum-h" }, "Workers"), workersBox)));
  return {
    title: "Overview",
    frame: el("div", {}, el("h1", { tabindex: -1 }, "Overview")),
    live,
    async update(fail) {
      const [queues, stats, workers] = await Promise.allSettled([
        api("GET", "queues"), api("GET", "stats", { minutes: 60 }), api("GET", "workers"),
      ]);
      if (queues.status === "fulfilled") swap(queuesBox, queuesTable(queues.value.body.queues));
      else fail(queues.reason);
      if (stats.status === "fulfilled") swap(chartBox, throughputChart(stats.value.body.minutes));
      else fail(stats.reason);
      if (workers.status === "fulfilled") swap(workersBox, workerSummary(workers.value.body.workers));
      else fail(workers.reason);
    },
  };
}

function queuesTable(queues) {
  if (!queues.length) return el("p", { class: "muted" }, "No queues configured.");
  return el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Queues table", "data-key": "queues-table" },
    el("table", {},
      el("caption", { class: "visually-hidden" }, "Jobs per queue and state; each count opens the list of those jobs"),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "Queue"),
        STATES.map((s) => el("th", { scope: "col", class: "num" }, STATE_LABELS[s])),
        el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")))),
      el("tbody", {}, queues.map((q) => {
        const waiting = q.count ?? q.states.queued ?? 0;
        return el("tr", {},
          el("th", { scope: "row" }, el("a", { href: jobsHref(q.name, "queued"), "data-key": `q-${q.name}` }, q.name)),
          STATES.map((s) => {
            const n = q.states[s] ?? 0;
            return el("td", { class: "num" }, el("a", {
              href: jobsHref(q.name, s), class: `count-link${n ? "" : " zero"}`, "data-key": `q-${q.name}-${s}`,
              "aria-label": `${n} ${STATE_LABELS[s].toLowerCase()} in ${q.name}`,
            }, String(n)));
          }),
          el("td", {}, el("button", {
            type: "button", class: "small danger", "data-key": `purge-${q.name}`,
            "aria-label": `Purge queue ${q.name}`, disabled: waiting === 0,
            title: waiting === 0 ? "Nothing is waiting in this queue" : `Cancel the ${waiting} waiting jobs`,
            onclick: () => purge(q.name, waiting),
          }, "Purge")));
      }))));
}

async function purge(queue, waiting) {
  const ok = await confirmAction(
    `Purge queue ${queue}?`,
    `The ${waiting} job${waiting === 1 ? "" : "s"} waiting in ${queue} will be canceled and never run. Running jobs are not touched.`,
    `Purge ${queue}`, "Keep them");
  if (!ok) return;
  try {
    const { body } = await api("DELETE", `queues/${encodeURIComponent(queue)}/purge`);
    notify(`Purged ${body.purged} job${body.purged === 1 ? "" : "s"} from ${body.queue}.`);
  } catch (e) {
    actionFailed(e);
  }
  refreshNow();
}

function throughputChart(minutes) {
  const W = 600;
  const H = 150;
  const left = 30;
  const bottom = 18;
  const top = 8;
  const n = Math.max(minutes.length, 1);
  const slot = (W - left) / n;
  const max = Math.max(1, ...minutes.map((m) => m.finished + m.failed));
  const scale = (H - bottom - top) / max;
  const totalFinished = minutes.reduce((a, m) => a + m.finished, 0);
  const totalFailed = minutes.reduce((a, m) => a + m.failed, 0);
  const busiest = minutes.reduce((b, m) => (m.finished + m.failed > (b ? b.finished + b.failed : 0) ? m : b), null);
  const label = (m) => {
    const t = Date.parse(m.minute);
    return Number.isNaN(t) ? m.minute : new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  };
  const summary = `${totalFinished} finished and ${totalFailed} failed in the last ${minutes.length} minutes` +
    (busiest ? `; busiest minute ${label(busiest)} with ${busiest.finished + busiest.failed} jobs` : "");
  const bars = minutes.map((m, i) => {
    const x = left + i * slot + slot * 0.15;
    const w = Math.max(1, slot * 0.7);
    const hf = m.finished * scale;
    const hx = m.failed * scale;
    return svg("g", {},
      svg("title", {}, `${label(m)}: ${m.finished} finished, ${m.failed} failed`),
      hf > 0 && svg("rect", { class: "finished", x, y: H - bottom - hf, width: w, height: hf }),
      hx > 0 && svg("rect", { class: "failed", x, y: H - bottom - hf - hx, width: w, height: hx }),
      // An invisible full-height target so every minute has a tooltip.
      svg("rect", { x: left + i * slot, y: top, width: slot, height: H - bottom - top, fill: "transparent" }));
  });
  const axisLabels = minutes.length
    ? [
      svg("text", { x: left, y: H - 4 }, label(minutes[0])),
      svg("text", { x: left + (W - left) / 2, y: H - 4, "text-anchor": "middle" }, label(minutes[Math.floor(minutes.length / 2)])),
      svg("text", { x: W, y: H - 4, "text-anchor": "end" }, "now"),
    ]
    : [];
  return [
    svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "chart-title chart-desc" },
      svg("title", { id: "chart-title" }, "Jobs finished and failed per minute over the last hour"),
      svg("desc", { id: "chart-desc" }, summary),
      svg("line", { class: "axis", x1: left, y1: H - bottom, x2: W, y2: H - bottom }),
      svg("line", { class: "axis", x1: left, y1: top, x2: W, y2: top, "stroke-dasharray": "2 3" }),
      svg("text", { x: left - 4, y: top + 4, "text-anchor": "end" }, String(max)),
      svg("text", { x: left - 4, y: H - bottom, "text-anchor": "end" }, "0"),
      bars, axisLabels),
    el("div", { class: "legend" },
      el("span", { class: "finished" }, el("i", { "aria-hidden": "true" }), `Finished: ${totalFinished}`),
      el("span", { class: "failed" }, el("i", { "aria-hidden": "true" }), `Failed: ${totalFailed}`),
      el("span", {}, `per minute, peak ${busiest ? busiest.finished + busiest.failed : 0}`)),
  ];
}

function workerSummary(workers) {
  const busy = workers.filter((w) => w.state === "busy").length;
  const running = workers.reduce((a, w) => a + w.current_jobs.length, 0);
  if (!workers.length) {
    return el("p", {}, "No live workers: queued jobs wait until one starts.");
  }
  return [
    el("p", {}, `${workers.length} live worker${workers.length === 1 ? "" : "s"}, ${busy} busy, running ${running} job${running === 1 ? "" : "s"}.`),
    el("ul", {}, workers.map((w) => el("li", {},
      el("span", { class: "mono" }, w.name), " ", badge(w.state), " ",
      el("span", { class: "muted" }, `${w.current_jobs.length}/${w.concurrency} · ${w.processed} done · ${w.failed} failed`)))),
    el("p", {}, el("a", { href: "#/workers" }, "All worker details")),
  ];
}

// Remembers the cursors of the pages before this one, per queue and state.
const pageTrail = { key: "", cursors: [] };

function jobsView(route) {
  const queueSelect = el("select", { id: "jobs-queue", name: "queue" },
    route.queue ? el("option", { value: route.queue }, route.queue) : null);
  const stateSelect = el("select", { id: "jobs-state", name: "state" },
    STATES.map((s) => el("option", { value: s, selected: s === route.state }, STATE_LABELS[s])));
  const search = el("input", {
    id: "jobs-search", type: "search", name: "q", value: route.q, placeholder: "job id, or part of a task name",
    autocomplete: "off", spellcheck: "false",
  });
  const go = () => navigate(jobsHref(queueSelect.value, stateSelect.value, ""));
  queueSelect.addEventListener("change", go);
  stateSelect.addEventListener("change", go);
  const form = el("form", {
    class: "toolbar", role: "search", "aria-label": "Choose jobs",
    onsubmit: (ev) => {
      ev.preventDefault();
      const q = search.value.trim();
      if (UUID.test(q)) navigate(`#/jobs/${encodeURIComponent(q.toLowerCase())}`);
      else navigate(jobsHref(queueSelect.value, stateSelect.value, q));
    },
  },
  el("div", { class: "field" }, el("label", { for: "jobs-queue" }, "Queue"), queueSelect),
  el("div", { class: "field" }, el("label", { for: "jobs-state" }, "State"), stateSelect),
  el("div", { class: "field" }, el("label", { for: "jobs-search" }, "Search by job id or task"), search),
  el("button", { type: "submit" }, "Search"),
  route.q && el("button", { type: "button", class: "secondary", onclick: () => navigate(jobsHref(queueSelect.value, stateSelect.value, "")) }, "Clear search"));

  const trailKey = `${route.queue}|${route.state}|${route.q}`;
  if (pageTrail.key !== trailKey || !route.cursor) {
    pageTrail.key = trailKey;
    pageTrail.cursors = [];
  }
  const live = el("div", {}, el("p", { class: "muted loading" }, "Loading jobs…"));
  let queuesKnown = false;
  return {
    title: "Jobs",
    frame: el("div", {}, el("h1", { tabindex: -1 }, "Jobs"), form),
    live,
    async update(fail) {
      const [queues, page] = await Promise.allSettled([
        queuesKnown ? null : api("GET", "queues"),
        route.queue ? api("GET", "jobs", {
          queue: route.queue, state: route.state, cursor: route.q ? "" : route.cursor,
          limit: route.q ? SEARCH_SCAN : PAGE_SIZE,
        }) : null,
      ]);
      if (queues.status === "fulfilled" && queues.value) {
        queuesKnown = true;
        const names = queues.value.body.queues.map((q) => q.name);
        if (!route.queue && names.length) {
          navigate(jobsHref(names[0], route.state, route.q), true);
          return;
        }
        queueSelect.replaceChildren(...names.map((n) => el("option", { value: n, selected: n === route.queue }, n)));
        if (route.queue && !names.includes(route.queue)) queueSelect.prepend(el("option", { value: route.queue, selected: true }, route.queue));
      } else if (queues.status === "rejected") {
        fail(queues.reason);
      }
      if (page.status === "rejected") {
        fail(page.reason);
        return;
      }
      if (!page.value) return;
      swap(live, jobsTable(route, page.value.body));
    },
  };
}

function jobsTable(route, page) {
  let jobs = page.jobs;
  const needle = route.q.toLowerCase();
  if (needle) jobs = jobs.filter((j) => j.job_id.includes(needle) || j.task.toLowerCase().includes(needle));
  const what = `${STATE_LABELS[route.state].toLowerCase()} jobs in ${route.queue}`;
  const waiting = WAITING.includes(route.state);
  const caption = needle
    ? `${jobs.length} of the ${waiting ? "soonest" : "newest"} ${page.jobs.length} ${what} match “${route.q}”`
    : `${what[0].toUpperCase()}${what.slice(1)}, ${waiting ? "soonest due first" : "newest first"}`;
  const failedActions = route.state === "failed" && el("div", { class: "actions" },
    el("button", {
      type: "button", class: "small", "data-key": `requeue-all-${route.queue}`, disabled: !page.jobs.length && !route.cursor,
      "aria-label": `Requeue all failed jobs in ${route.queue}`,
      onclick: () => requeueAllFailed(route.queue),
    }, "Requeue all failed"),
    el("span", { class: "muted" }, "Failed jobs are the dead letters: each can be requeued alone, or all of this queue at once."));
  const table = !jobs.length
    ? el("p", { class: "muted", id: "jobs-empty" }, needle ? `No ${what} match “${route.q}”.` : `No ${what}.`)
    : waiting ? waitingTable(jobs, caption) : jobs.length
    ? el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Jobs table", "data-key": "jobs-table" },
      el("table", { id: "jobs-table" },
        el("caption", {}, caption),
        el("thead", {}, el("tr", {},
          ["Job", "Task", "Status", "Progress", "Enqueued", "Started", "Ended"].map((h) => el("th", { scope: "col" }, h)),
          el("th", { scope: "col", class: "num" }, "Duration"),
          el("th", { scope: "col", class: "num" }, "Attempts"),
          route.state === "failed" && el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")))),
        el("tbody", {}, jobs.map((j) => el("tr", { "data-job": j.job_id },
          el("td", {}, el("a", {
            href: `#/jobs/${encodeURIComponent(j.job_id)}`, class: "mono", title: j.job_id, "data-key": `job-${j.job_id}`,
            "aria-label": `Job ${j.job_id}, ${j.task}`,
          }, shortId(j.job_id))),
          el("td", {}, j.task),
          el("td", {}, badge(j.status)),
          el("td", {}, progressBar(j, `Progress of job ${shortId(j.job_id)}`)),
          el("td", {}, timeEl(j.enqueued_at)),
          el("td", {}, timeEl(j.started_at)),
          el("td", {}, timeEl(j.ended_at)),
          el("td", { class: "num" }, fmtDuration(jobDuration(j))),
          el("td", { class: "num" }, String(j.attempts)),
          route.state === "failed" && el("td", {}, el("button", {
            type: "button", class: "small secondary", "data-key": `requeue-${j.job_id}`,
            "aria-label": `Requeue job ${j.job_id}`,
            onclick: (ev) => jobAction(ev.currentTarget, "POST", `tasks/${encodeURIComponent(j.job_id)}/requeue`,
              () => `Job ${shortId(j.job_id)} requeued on ${j.queue}.`),
          }, "Requeue")))))))
    : null;
  const pager = !needle && el("nav", { class: "pager", "aria-label": "Pages" },
    el("button", {
      type: "button", class: "secondary small", "data-key": "newer", disabled: !route.cursor,
      onclick: () => {
        const prev = pageTrail.cursors.pop() || "";
        navigate(jobsHref(route.queue, route.state, "") + (prev ? `&cursor=${encodeURIComponent(prev)}` : ""));
      },
    }, "← Newer"),
    el("button", {
      type: "button", class: "secondary small", "data-key": "older", disabled: !page.next_cursor,
      onclick: () => {
        pageTrail.cursors.push(route.cursor);
        navigate(`${jobsHref(route.queue, route.state, "")}&cursor=${encodeURIComponent(page.next_cursor)}`);
      },
    }, "Older →"));
  return el("section", { class: "panel" }, failedActions, table, pager);
}

// Scheduled and retrying jobs: when each runs, with buttons to cancel it or run it now.
function waitingTable(jobs, caption) {
  return el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Jobs table", "data-key": "jobs-table" },
    el("table", { id: "jobs-table" },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {},
        ["Job", "Task", "Status", "Run at", "Runs in", "Enqueued"].map((h) => el("th", { scope: "col" }, h)),
        el("th", { scope: "col", class: "num" }, "Attempts"),
        el("th", { scope: "col" }, "Last error"),
        el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")))),
      el("tbody", {}, jobs.map((j) => el("tr", { "data-job": j.job_id },
        el("td", {}, el("a", {
          href: `#/jobs/${encodeURIComponent(j.job_id)}`, class: "mono", title: j.job_id, "data-key": `job-${j.job_id}`,
          "aria-label": `Job ${j.job_id}, ${j.task}`,
        }, shortId(j.job_id))),
        el("td", {}, j.task, j.schedule ? el("span", { class: "muted" }, ` (${j.schedule})`) : null),
        el("td", {}, badge(j.status)),
        el("td", {}, timeEl(j.run_at)),
        el("td", {}, countdownEl(j.run_at)),
        el("td", {}, timeEl(j.enqueued_at)),
        el("td", { class: "num" }, attemptsText(j)),
        el("td", { class: "wrap" }, j.error ? `${j.error.type}: ${j.error.message}` : el("span", { class: "muted" }, "—")),
        el("td", {}, el("span", { class: "row-actions" },
          el("button", {
            type: "button", class: "small", "data-key": `run-now-${j.job_id}`, "aria-label": `Run job ${j.job_id} now`,
            onclick: (ev) => jobAction(ev.currentTarget, "POST", `tasks/${encodeURIComponent(j.job_id)}/reschedule`,
              () => `Job ${shortId(j.job_id)} is on ${j.queue} now.`),
          }, "Run now"),
          el("button", {
            type: "button", class: "small danger", "data-key": `cancel-${j.job_id}`, "aria-label": `Cancel job ${j.job_id}`,
            onclick: (ev) => jobAction(ev.currentTarget, "DELETE", `tasks/${encodeURIComponent(j.job_id)}`,
              () => `Job ${shortId(j.job_id)} canceled: it will not run.`),
          }, "Cancel"))))))));
}

// "2 of 4 (2 left)" for a job with a retry policy, else the attempts so far.
function attemptsText(j) {
  if (j.retry && typeof j.attempts_left === "number") {
    return `${j.attempts} of ${j.attempts + j.attempts_left} (${j.attempts_left} left)`;
  }
  return String(j.attempts);
}

async function requeueAllFailed(queue) {
  const ok = await confirmAction(
    `Requeue all failed jobs in ${queue}?`,
    `Every job that has failed in ${queue} goes back on the queue and runs again. Jobs that fail again stay failed.`,
    "Requeue them", "Leave them");
  if (!ok) return;
  try {
    const { body } = await api("POST", `queues/${encodeURIComponent(queue)}/requeue`);
    notify(`Requeued ${body.requeued} failed job${body.requeued === 1 ? "" : "s"} in ${body.queue}.`);
  } catch (e) {
    actionFailed(e);
  }
  refreshNow();
}

function jobView(route) {
  const live = el("div", {}, el("p", { class: "muted loading" }, "Loading the job…"));
  const heading = el("h1", { tabindex: -1 }, "Job ", el("span", { class: "mono" }, route.id));
  return {
    title: `Job ${shortId(route.id)}`,
    frame: el("div", {}, heading),
    live,
    async update() {
      let job;
      try {
        job = (await api("GET", `tasks/${encodeURIComponent(route.id)}`)).body;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
          swap(live, el("section", { class: "panel" },
            el("h2", {}, "No such job"),
            el("p", {}, "No job has this id, or it has expired (finished and canceled jobs are kept for RESULT_TTL, failed ones for FAILURE_TTL)."),
            el("p", {}, el("a", { href: "#/jobs" }, "Back to the jobs"))));
          return;
        }
        throw e;
      }
      swap(live, jobDetails(job));
    },
  };
}

function jobDetails(job) {
  const waiting = WAITING.includes(job.status);
  const canCancel = job.status === "queued" || job.status === "started" || waiting;
  const canRequeue = job.status === "failed" || job.status === "canceled";
  const actions = el("div", { class: "actions" },
    el("span", {}, "Status: ", badge(job.status)),
    waiting && el("span", {}, countdownEl(job.run_at)),
    waiting && el("button", {
      type: "button", "data-key": "run-now",
      onclick: (ev) => jobAction(ev.currentTarget, "POST", `tasks/${encodeURIComponent(job.job_id)}/reschedule`,
        () => `Job is on ${job.queue} now.`),
    }, "Run now"),
    canCancel && el("button", {
      type: "button", class: "danger", "data-key": "cancel",
      onclick: (ev) => jobAction(ev.currentTarget, "DELETE", `tasks/${encodeURIComponent(job.job_id)}`, (r) =>
        (r.status === 202 ? "Cancel requested: the worker is stopping the job." : "Job canceled: it will not run.")),
    }, "Cancel job"),
    canRequeue && el("button", {
      type: "button", "data-key": "requeue",
      onclick: (ev) => jobAction(ev.currentTarget, "POST", `tasks/${encodeURIComponent(job.job_id)}/requeue`,
        () => `Job requeued on ${job.queue}.`),
    }, "Requeue job"),
    job.status === "cancel_requested" && el("span", { class: "muted" }, "Stopping: the worker was asked to cancel it."));

  const field = (name, value) => [el("dt", {}, name), el("dd", {}, value)];
  const block = (title, value, id) => el("section", { "aria-labelledby": id },
    el("h2", { id }, title), el("pre", { class: "json", tabindex: 0, "data-key": id }, json(value)));

  return el("div", {},
    el("p", {}, el("a", { href: jobsHref(job.queue, job.status === "cancel_requested" ? "started" : job.status) },
      `← ${STATE_LABELS[job.status] || job.status} jobs in ${job.queue}`)),
    el("section", { class: "panel", "aria-labelledby": "job-summary-h" },
      el("h2", { id: "job-summary-h" }, job.task),
      actions,
      progressBar(job, "Job progress", true),
      job.progress && job.progress.message && el("p", { class: "progress-message" }, job.progress.message),
      el("dl", { class: "fields" },
        field("Task", job.task),
        field("Queue", el("a", { href: jobsHref(job.queue, "queued") }, job.queue)),
        field("Attempts", attemptsText(job)),
        waiting && field("Runs at", [timeEl(job.run_at), " ", countdownEl(job.run_at)]),
        job.retry && field("Retry policy",
          `up to ${job.retry.max} more attempt${job.retry.max === 1 ? "" : "s"}, backoff ${job.retry.backoff} s doubling up to ${job.retry.backoff_max} s`),
        job.schedule && field("Schedule", [el("a", { href: "#/schedules" }, job.schedule),
          job.tick ? [" · tick ", timeEl(job.tick)] : null]),
        field("Timeout", fmtDuration(job.timeout * 1000)),
        field("Duration", fmtDuration(jobDuration(job))),
        field("Worker", job.worker ? el("span", { class: "mono" }, job.worker) : "—"))),
    el("div", { class: "grid" },
      el("section", { class: "panel", "aria-labelledby": "timeline-h" },
        el("h2", { id: "timeline-h" }, "Timeline"), timeline(job)),
      el("section", { class: "panel" },
        job.error && el("section", { "aria-labelledby": "error-h" },
          el("h2", { id: "error-h" }, "Error"),
          el("p", {}, badge("failed"), " ", el("strong", {}, job.error.type)),
          el("pre", { class: "json", tabindex: 0, "data-key": "error" }, job.error.message)),
        job.errors && job.errors.length > 0 && el("section", { "aria-labelledby": "errors-h" },
          el("h2", { id: "errors-h" }, "Earlier attempts"),
          el("ol", { class: "plain attempts" }, job.errors.map((e) => el("li", {},
            el("strong", {}, `Attempt ${e.attempt}`), " ", timeEl(e.at), " ",
            el("span", { class: "mono" }, `${e.type}: ${e.message}`))))),
        block("Arguments", job.args, "args-h"),
        block("Meta", job.meta, "meta-h"),
        job.result !== null && job.result !== undefined && block("Result", job.result, "result-h"))));
}

function timeline(job) {
  const steps = [["created", "Created", job.created_at]];
  if (job.enqueued_at && job.enqueued_at !== job.created_at) steps.push(["queued", "Requeued", job.enqueued_at]);
  else steps[0] = ["queued", job.status === "scheduled" ? "Created" : "Created and queued", job.created_at];
  if (job.started_at) steps.push(["started", job.attempts > 1 ? `Started (attempt ${job.attempts})` : "Started", job.started_at]);
  if (job.status === "cancel_requested") steps.push(["cancel_requested", "Cancel requested", null]);
  if (job.ended_at) steps.push([job.status, STATE_LABELS[job.status] || job.status, job.ended_at]);
  else if (job.status === "queued") steps.push(["", "Waiting for a worker", null]);
  else if (job.status === "scheduled") steps.push(["scheduled", "Scheduled: runs at", job.run_at]);
  else if (job.status === "retrying") steps.push(["retrying", `Attempt ${job.attempts} failed; next attempt at`, job.run_at]);
  else if (job.status === "started") steps.push(["", "Running", null]);
  return el("ol", { class: "timeline" }, steps.map(([cls, what, when], i) => {
    const prev = i > 0 ? steps[i - 1][2] : null;
    const gap = when && prev ? between(prev, when) : null;
    return el("li", { class: cls },
      el("strong", {}, what), el("br"),
      el("span", { class: "when" }, when ? timeEl(when) : "", gap !== null ? ` (+${fmtDuration(gap)})` : ""));
  }));
}

async function jobAction(button, method, path, message) {
  button.disabled = true;
  try {
    const r = await api(method, path);
    notify(message(r));
  } catch (e) {
    actionFailed(e);
  }
  await refresh();
  schedule();
}

function workersView() {
  const live = el("div", {}, el("p", { class: "muted loading" }, "Loading workers…"));
  return {
    title: "Workers",
    frame: el("div", {}, el("h1", { tabindex: -1 }, "Workers")),
    live,
    async update(fail) {
      const workers = (await api("GET", "workers")).body.workers;
      const ids = [...new Set(workers.flatMap((w) => w.current_jobs))];
      const found = await Promise.allSettled(ids.map((id) => api("GET", `tasks/${encodeURIComponent(id)}`)));
      const jobs = new Map();
      found.forEach((r, i) => {
        if (r.status === "fulfilled") jobs.set(ids[i], r.value.body);
        else if (!(r.reason instanceof ApiError && r.reason.status === 404)) fail(r.reason);
      });
      swap(live, workersTable(workers, jobs));
    },
  };
}

function workersTable(workers, jobs) {
  if (!workers.length) {
    return el("section", { class: "panel" },
      el("p", {}, "No live workers. Jobs wait in their queues until a worker starts (the local stack runs one; on AWS it is the ECS service)."));
  }
  return el("div", { class: "table-wrap panel", tabindex: 0, role: "region", "aria-label": "Workers table", "data-key": "workers-table" },
    el("table", { id: "workers-table" },
      el("caption", { class: "visually-hidden" }, "Live workers"),
      el("thead", {}, el("tr", {},
        ["Worker", "Queues", "State", "Current jobs", "Heartbeat"].map((h) => el("th", { scope: "col" }, h)),
        ["Processed", "Failed", "Uptime"].map((h) => el("th", { scope: "col", class: "num" }, h)))),
      el("tbody", {}, workers.map((w) => el("tr", {},
        el("th", { scope: "row", class: "mono" }, w.name),
        el("td", {}, w.queues.join(", ")),
        el("td", {}, badge(w.state), el("span", { class: "muted" }, ` ${w.current_jobs.length} of ${w.concurrency}`)),
        el("td", { class: "wrap" }, w.current_jobs.length
          ? el("ul", { class: "plain" }, w.current_jobs.map((id) => {
            const j = jobs.get(id);
            return el("li", { class: "progress" },
              jobLink(id, j ? `, ${j.task}` : ""), j ? ` ${j.task} ` : " ",
              j ? progressBar(j, `Progress of job ${shortId(id)}`) : el("span", { class: "muted" }, "ended"));
          }))
          : el("span", { class: "muted" }, "none")),
        el("td", {}, `${fmtDuration(w.heartbeat_age_ms)} ago`),
        el("td", { class: "num" }, String(w.processed)),
        el("td", { class: "num" }, String(w.failed)),
        el("td", { class: "num" }, fmtDuration(since(w.started_at))))))));
}

function schedulesView() {
  const live = el("div", {}, el("p", { class: "muted loading" }, "Loading schedules…"));
  return {
    title: "Schedules",
    frame: el("div", {}, el("h1", { tabindex: -1 }, "Schedules"),
      el("p", { class: "muted" }, "Cron schedules make one job per tick on their queue. Create or replace them with PUT /schedules/{name} or the CLI (local schedules put).")),
    live,
    async update() {
      const { body } = await api("GET", "schedules");
      swap(live, schedulesTable(Array.isArray(body) ? body : (body && body.schedules) || []));
    },
  };
}

function schedulesTable(list) {
  if (!list.length) return el("section", { class: "panel" }, el("p", { id: "schedules-empty" }, "No schedules."));
  return el("section", { class: "panel" }, el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Schedules table", "data-key": "schedules-table" },
    el("table", { id: "schedules-table" },
      el("caption", { class: "visually-hidden" }, "Cron schedules, by name"),
      el("thead", {}, el("tr", {},
        ["Schedule", "Cron", "Time zone", "Task", "Queue", "State", "Next runs", "Last job"].map((h) => el("th", { scope: "col" }, h)),
        el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")))),
      el("tbody", {}, list.map((s) => el("tr", { "data-schedule": s.name },
        el("th", { scope: "row" }, s.name),
        el("td", { class: "mono" }, s.cron),
        el("td", {}, s.timezone),
        el("td", {}, s.task ?? s.task_name, el("span", { class: "muted" }, ` ${JSON.stringify(s.args ?? s.payload ?? {})}`)),
        el("td", {}, s.queue),
        el("td", {}, s.paused
          ? el("span", { class: "badge paused" }, "Paused")
          : el("span", { class: "badge active" }, "Active")),
        el("td", {}, s.paused || !(s.next_runs || []).length
          ? el("span", { class: "muted" }, s.paused ? "none while paused" : "—")
          : el("ul", { class: "plain" }, s.next_runs.slice(0, 3).map((t, i) =>
            el("li", {}, timeEl(t), i === 0 ? [" ", el("span", { class: "muted" }, countdownEl(t))] : null)))),
        el("td", {}, s.last_job_id
          ? [jobLink(s.last_job_id), " ", el("span", { class: "muted" }, timeEl(s.last_run_at))]
          : el("span", { class: "muted" }, "none yet")),
        el("td", {}, el("span", { class: "row-actions" },
          el("button", {
            type: "button", class: "small secondary", "data-key": `toggle-${s.name}`,
            "aria-label": `${s.paused ? "Resume" : "Pause"} schedule ${s.name}`,
            onclick: (ev) => scheduleAction(ev.currentTarget, "POST",
              `schedules/${encodeURIComponent(s.name)}/${s.paused ? "resume" : "pause"}`,
              `Schedule ${s.name} ${s.paused ? "resumed" : "paused"}.`),
          }, s.paused ? "Resume" : "Pause"),
          el("button", {
            type: "button", class: "small danger", "data-key": `delete-${s.name}`, "aria-label": `Delete schedule ${s.name}`,
            onclick: (ev) => deleteSchedule(ev.currentTarget, s.name),
          }, "Delete")))))))));
}

async function scheduleAction(button, method, path, message) {
  button.disabled = true;
  try {
    await api(method, path);
    notify(message);
  } catch (e) {
    actionFailed(e);
  }
  await refresh();
  schedule();
}

async function deleteSchedule(button, name) {
  const ok = await confirmAction(`Delete schedule ${name}?`,
    `Schedule ${name} will make no more jobs. The jobs it already made stay.`, `Delete ${name}`, "Keep it");
  if (ok) await scheduleAction(button, "DELETE", `schedules/${encodeURIComponent(name)}`, `Schedule ${name} deleted.`);
}

// ---------------------------------------------------------------- routing

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, qs] = hash.split("?");
  const params = new URLSearchParams(qs || "");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "jobs" && parts[1]) return { name: "job", id: decodeURIComponent(parts[1]) };
  if (parts[0] === "jobs") {
    const state = STATES.includes(params.get("state")) ? params.get("state") : "queued";
    return { name: "jobs", queue: params.get("queue") || "", state, q: params.get("q") || "", cursor: params.get("cursor") || "" };
  }
  if (parts[0] === "workers") return { name: "workers" };
  if (parts[0] === "schedules") return { name: "schedules" };
  return { name: "overview" };
}

function navigate(hash, replace) {
  if (replace) {
    history.replaceState(null, "", hash);
    show(false);
  } else {
    location.hash = hash;
  }
}

const viewBox = $("#view");
let current = null;

function show(moveFocus) {
  const route = parseRoute();
  const view = { overview: overviewView, jobs: jobsView, job: jobView, workers: workersView, schedules: schedulesView }[route.name](route);
  current = view;
  document.title = `${view.title} · taskq`;
  for (const a of document.querySelectorAll("[data-nav]")) {
    const on = a.dataset.nav === route.name || (a.dataset.nav === "jobs" && route.name === "job");
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  viewBox.replaceChildren(view.frame, view.live);
  if (moveFocus) (viewBox.querySelector("h1") || viewBox).focus({ preventScroll: true });
  refreshNow();
}

window.addEventListener("hashchange", () => {
  // A notice is about the page it was given on.
  noticeBox.replaceChildren();
  show(true);
});
show(false);
