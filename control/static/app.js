// Mission Control dashboard: plain JS, no build step.
// Reads arrive over /api/events (EventSource); commands are fetch() calls with the
// bearer token, which is entered once and kept in localStorage.
"use strict";

const TOKEN_KEY = "neverblink.token";
const COMMANDS = {
  pause: { title: "Pause entries?", text: "Runners stop opening new positions at their next tick. Open orders and positions stay." },
  resume: { title: "Resume trading?", text: "Runners may open positions again. This also clears a kill." },
  reload: { title: "Reload strategy code?", text: "Runners re-read the strategies folder, validate it and switch at a tick boundary.", module: true },
  flatten: { title: "Flatten everything?", text: "Runners cancel pending orders and close positions at the venue. Strategies keep trading unless paused." },
  kill: { title: "Kill the bot?", text: "Flatten, then no entries until an explicit resume." },
};

const view = { status: null, statusAt: 0, state: null, stateAt: 0, skew: 0, venue: null, privateReads: false, config: null };

// Window times are on the venue's clock, which may run faster than the wall clock (the
// demo's paper venue runs 10x): carry the server's last venue reading forward at its rate.
function venueNow() {
  const wall = Date.now() / 1000;
  if (!view.venue) return wall + view.skew;
  return view.venue.time + (wall - view.venue.at) * view.venue.rate;
}
let source = null;

// -- small helpers ------------------------------------------------------------------
const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("data-") || key === "title") el.setAttribute(key, value);
    else el[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function tag(text, kind) { return h("span", { class: `tag ${kind || ""}` }, text); }
function short(text, n = 8) { return text ? String(text).slice(0, n) : "–"; }
function clock(ts) { return ts ? new Date(ts * 1000).toLocaleTimeString([], { hour12: false }) : "–"; }
function token() { return localStorage.getItem(TOKEN_KEY) || ""; }

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function money(text) {
  if (text === null || text === undefined) return "–";
  const n = Number(text);
  return Number.isFinite(n) ? (n >= 0 ? "+" : "") + n.toFixed(2) : String(text);
}

function setBody(table, rows, columns, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren(...(rows.length ? rows : [h("tr", { class: "empty" }, h("td", { colSpan: columns }, emptyText))]));
}

function pill(el, text, kind) { el.textContent = text; el.className = `pill ${kind || ""}`; }

// -- API --------------------------------------------------------------------------
async function api(method, path, body) {
  const headers = { "X-Neverblink-Actor": "dashboard" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) {
    const detail = data && data.detail !== undefined ? data.detail : response.statusText;
    const error = new Error(`${data && data.error ? data.error : response.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showResult(text, kind) {
  const el = $("result");
  el.textContent = text;
  el.className = `result ${kind}`;
}

async function command(name, module) {
  const path = name === "reload" ? "/api/reload" : `/api/${name}`;
  const body = name === "reload" ? (module ? { module } : {}) : undefined;
  try {
    const result = await api("POST", path, body);
    const warnings = (result.warnings || []).map((w) => ` · warning: ${w}`).join("");
    showResult(`${result.message}${warnings}`, result.plane === "file" || warnings ? "warn" : "ok");
  } catch (error) {
    showResult(error.message, "bad");
    if (error.status === 401 || error.status === 403) askToken(error.message);
  }
}

// -- dialogs ----------------------------------------------------------------------
function confirmCommand(name) {
  const spec = COMMANDS[name];
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = spec.title;
  $("confirm-text").textContent = spec.text;
  $("confirm-module-row").hidden = !spec.module;
  $("confirm-module").value = "";
  $("confirm-ok").textContent = name.charAt(0).toUpperCase() + name.slice(1);
  dialog.onclose = () => {
    if (dialog.returnValue === "confirm") command(name, $("confirm-module").value.trim());
  };
  dialog.returnValue = "";
  dialog.showModal();
}

function askToken(message) {
  const dialog = $("token-dialog");
  $("token-error").hidden = !message;
  $("token-error").textContent = message || "";
  $("token-input").value = token();
  dialog.onclose = () => {
    if (dialog.returnValue === "save" && $("token-input").value.trim()) {
      localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    } else if (dialog.returnValue === "forget") {
      localStorage.removeItem(TOKEN_KEY);
    } else {
      return;
    }
    renderTokenButton();
    if (view.privateReads) connect();
  };
  dialog.returnValue = "";
  dialog.showModal();
}

function renderTokenButton() {
  $("btn-token").textContent = token() ? "Token ✓" : "Set token";
}

// -- renderers --------------------------------------------------------------------
function renderStatus(status) {
  view.status = status;
  view.statusAt = Date.now();
  $("bot").textContent = status.bot;
  pill($("plane"), status.plane, status.plane === "redis" ? "ok" : "warn");
  const notes = [status.note, ...(status.notes || [])].filter(Boolean);
  $("notice").hidden = !notes.length;
  $("notice").textContent = notes.join(" · ");
  renderControl(status.control || {});
  renderRunners(status.runners || []);
  renderAudit(status.audit || []);
}

function renderControl(control) {
  $("control-version").textContent = `v${control.version ?? "–"}`;
  if (control.killed) pill($("entries"), "KILLED", "bad");
  else if (control.paused) pill($("entries"), "PAUSED", "warn");
  else pill($("entries"), "ENTRIES ALLOWED", "ok");
}

function runnerRow(r) {
  const state = [];
  if (!r.alive) state.push(tag("gone", "bad"));
  else state.push(tag(r.paused ? "paused" : "trading", r.paused ? "warn" : "ok"));
  if (r.degraded) state.push(tag("degraded", "bad"));
  if (r.operational_error) state.push(tag("halted", "bad"));
  if (r.venue_unresponsive_since != null) state.push(tag("venue unresponsive", "bad"));
  if (r.venue_restriction) state.push(tag(`venue ${r.venue_restriction}`, "warn"));
  if (r.on_probation) state.push(tag("probation", "info"));
  const guard = r.data_guard || {};
  if (guard.state && guard.state !== "ok") state.push(tag("rebuilding", "bad"));
  if (guard.repairs) {
    const last = guard.last_repair || {};
    const repaired = tag(`rebuilt ${guard.repairs}x`, "warn");
    repaired.title = `${last.reason || ""}: ${last.fills_restored ?? 0} fills, ${last.orders_adopted ?? 0} orders adopted`;
    state.push(repaired);
  }
  const books = r.books || {};
  if (books.market_stream === "down") state.push(tag("book stream down", "warn"));
  if (books.stale) {
    const stale = tag(`${books.stale} stale books`, "warn");
    stale.title = `no new entries on them (${books.entries_refused ?? 0} refused so far)`;
    state.push(stale);
  }
  if (books.market_stream) {
    const sources = tag(`books ${books.stream ?? 0} stream · ${books.rest ?? 0} rest`, "info");
    sources.title = `${books.rest_polls ?? 0} REST /books requests, ${books.resyncs ?? 0} stream resyncs`;
    state.push(sources);
  }
  const problems = runnerProblems(r);
  const errors = problems.length
    ? h("span", { class: "problem", "data-field": "problems" }, problems.join(" · "))
    : h("span", { class: "muted" }, "–");
  return h("tr", { "data-replica": r.replica, "data-paused": String(Boolean(r.paused)), class: r.alive ? "" : "stale" },
    h("td", { class: "mono" }, r.replica),
    h("td", { "data-field": "state" }, state),
    h("td", { class: "num", "data-field": "tick" }, r.tick ?? "–"),
    h("td", { class: "num", "data-field": "age", "data-age": r.heartbeat_age_s ?? "" }, duration(r.heartbeat_age_s)),
    h("td", { class: "mono", title: r.generation || "" }, short(r.generation, 10)),
    h("td", { class: "mono" }, r.git_sha ? `${short(r.git_sha, 7)}${r.git_dirty ? "*" : ""}` : "–"),
    h("td", { class: "num" }, (r.markets || []).length),
    h("td", { class: "num" }, r.orders_created ?? "–"),
    h("td", { title: problems.join("\n") }, errors));
}

// Why a runner places no orders or ignores control.json, in words an operator can act on.
function runnerProblems(r) {
  const problems = [];
  if (r.operational_error) problems.push(`halted since ${clock(r.operational_error_since)}: ${r.operational_error}`);
  if (r.venue_unresponsive_since != null) {
    problems.push(`venue unresponsive since ${clock(r.venue_unresponsive_since)}: ${r.venue_error || ""}`);
  }
  if (r.venue_restriction) {
    problems.push(`venue ${r.venue_restriction} since ${clock(r.venue_restriction_since)}: ${r.venue_restriction_reason || ""}`);
  }
  if (r.control_error) problems.push(`control.json: ${r.control_error}`);
  return problems;
}

function renderRunners(runners) {
  setBody($("runners"), runners.map(runnerRow), 9, "no runner has reported yet");
  const alive = runners.filter((r) => r.alive).length;
  $("kpi-runners").textContent = `${alive} / ${runners.length}`;
  const generations = [...new Set(runners.filter((r) => r.alive && r.generation).map((r) => r.generation))];
  $("kpi-generation").textContent = generations.length ? generations.map((g) => short(g, 10)).join(" + ") : "–";
  $("runners-note").textContent = generations.length > 1 ? "replicas run different generations" : "";
}

function renderAudit(entries) {
  const rows = [...entries].reverse().slice(0, 8).map((e) => h("tr", {},
    h("td", { class: "mono" }, clock(e.ts)), h("td", {}, e.who), h("td", {}, e.command),
    h("td", { class: "num" }, e.new_version), h("td", {}, e.plane)));
  setBody($("audit"), rows, 5, "nothing yet");
}

function outcomeTag(outcome) {
  const kinds = { ok: ["ok", "ok"], live: ["live · probation", "info"], failed: ["failed", "bad"], rolled_back: ["rolled back", "bad"] };
  const [text, kind] = kinds[outcome] || [outcome, ""];
  return tag(text, kind);
}

function renderTimeline(report) {
  const items = (report.generations || []).map((g) => {
    const replicas = Object.entries(g.replicas || {}).sort().map(([replica, r]) => {
      const steps = (r.history || [r]).map((x) => `${x.kind.replace("_", " ")}${x.tick !== null && x.tick !== undefined ? ` @${x.tick}` : ""}`);
      const kind = r.kind === "rolled_back" || r.kind === "rejected" ? "bad" : r.kind === "promoted" ? "ok" : "info";
      return h("span", { class: `tag ${kind}`, "data-replica": replica, "data-kind": r.kind }, `${replica}: ${steps.join(" → ")}`);
    });
    return h("li", { "data-generation": g.generation, "data-outcome": g.outcome, "data-git": g.git_sha || "" },
      h("div", { class: "when" }, clock(g.first_ts)),
      h("div", { class: "what" },
        h("span", { class: "gen" }, short(g.generation, 12)), outcomeTag(g.outcome),
        h("span", { class: "mono muted" }, g.git_sha ? `git ${short(g.git_sha, 7)}${g.git_dirty ? " (dirty)" : ""}` : "no git"),
        h("span", { class: "mods" }, (g.modules || []).join(", "))),
      h("div", { class: "replicas" }, replicas),
      g.error ? h("div", { class: "err" }, g.error) : null);
  });
  $("timeline").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "no reload yet")]));
}

function renderState(state) {
  view.state = state;
  view.stateAt = Date.now();
  view.skew = state.server_time ? state.server_time - Date.now() / 1000 : 0;
  view.venue = state.venue_time ? { time: state.venue_time, rate: state.venue_rate || 1, at: Date.now() / 1000 } : null;
  const pnl = state.pnl;
  $("kpi-pnl").textContent = pnl ? money(pnl.realized) : "–";
  $("kpi-pnl").className = `kpi-value mono ${pnl && Number(pnl.realized) < 0 ? "neg" : "pos"}`;
  $("kpi-open").textContent = pnl ? money(pnl.open_cash) : "–";
  const unconfirmed = state.unconfirmed_fills ? ` (${state.unconfirmed_fills} unconfirmed)` : "";
  $("kpi-fills").textContent = pnl ? `${pnl.fills}${unconfirmed}` : "–";
  $("kpi-pending").textContent = state.pending_orders ? state.pending_orders.length : "–";
  if (!state.windows) {
    setBody($("windows"), [], 9, state.note || "unknown while Redis is down");
    return;
  }
  const rows = state.windows.map((w) => {
    const orders = (w.pending_orders || []).map((o) =>
      tag(`${o.strategy} ${o.side} ${o.outcome} ${o.size}@${o.price}${Number(o.filled) ? ` (${o.filled} filled)` : ""}`, "info"));
    const upcoming = w.status === "open" && w.start_ts > venueNow();  // discovered early
    return h("tr", { "data-market": w.market },
      h("td", { class: "mono" }, w.market),
      h("td", {}, upcoming ? tag("upcoming", "info") : tag(w.status, w.status === "open" ? "ok" : "warn")),
      upcoming
        ? h("td", { class: "num", "data-start": w.start_ts }, `starts in ${duration(w.start_ts - venueNow())}`)
        : h("td", { class: "num", "data-end": w.end_ts }, duration(w.end_ts - venueNow())),
      strikeCell(w),
      h("td", { class: "num" }, w.position.up_shares),
      h("td", { class: "num" }, w.position.down_shares),
      h("td", { class: "num" }, money(w.position.cash)),
      h("td", { class: "num" }, w.position.fill_count),
      h("td", { class: "wrap" }, orders.length ? orders : h("span", { class: "muted" }, "–")));
  });
  setBody($("windows"), rows, 9, "no open window");
}

function strikeCell(w) {
  if (w.start_price) {
    return h("td", { class: "num mono", title: `from the ${w.strike_source || "venue"}` }, w.start_price);
  }
  if (w.strike_missing) {
    return h("td", { class: "num" }, h("span", { class: "muted", title: w.strike_missing }, "not captured"));
  }
  return h("td", { class: "num muted" }, "–");
}

function tickClocks() {
  const now = venueNow();
  for (const cell of document.querySelectorAll("#windows [data-end]")) {
    cell.textContent = duration(Number(cell.dataset.end) - now);
  }
  for (const cell of document.querySelectorAll("#windows [data-start]")) {
    cell.textContent = `starts in ${duration(Number(cell.dataset.start) - now)}`;
  }
  const elapsed = (Date.now() - view.statusAt) / 1000;
  for (const cell of document.querySelectorAll("#runners [data-age]")) {
    if (cell.dataset.age !== "") cell.textContent = duration(Number(cell.dataset.age) + elapsed);
  }
}

// -- config -------------------------------------------------------------------------
async function loadConfig() {
  try {
    renderConfig(await api("GET", "/api/config"));
  } catch (error) {
    setBody($("config"), [], 5, error.message);
  }
}

function renderConfig(report) {
  view.config = report;
  $("config-version").textContent = `control v${report.version} · ${report.plane}`;
  const rows = [];
  for (const [name, s] of Object.entries(report.strategies || {})) {
    for (const key of Object.keys(s.effective)) {
      const overridden = Object.prototype.hasOwnProperty.call(s.overrides, key);
      rows.push(h("tr", { "data-param": `${name}.${key}` },
        h("td", {}, name), h("td", { class: "mono" }, key),
        h("td", { class: "num" }, JSON.stringify(s.defaults[key])),
        h("td", { class: "num" }, overridden ? JSON.stringify(s.overrides[key]) : "–"),
        h("td", { class: "num" }, overridden ? h("b", {}, JSON.stringify(s.effective[key])) : JSON.stringify(s.effective[key]))));
    }
  }
  setBody($("config"), rows, 5, "no strategy with PARAMS");
  const select = $("cfg-strategy");
  const chosen = select.value;
  select.replaceChildren(...Object.keys(report.strategies || {}).map((n) => h("option", { value: n }, n)));
  if (chosen && report.strategies[chosen]) select.value = chosen;
  fillKeys();
}

function fillKeys() {
  const strategy = view.config && view.config.strategies[$("cfg-strategy").value];
  const select = $("cfg-key");
  const chosen = select.value;
  select.replaceChildren(...Object.keys(strategy ? strategy.defaults : {}).map((k) => h("option", { value: k }, k)));
  if (chosen && strategy && chosen in strategy.defaults) select.value = chosen;
}

async function submitConfig(event) {
  event.preventDefault();
  const body = { strategy: $("cfg-strategy").value, key: $("cfg-key").value, value: $("cfg-value").value };
  try {
    const result = await api("PATCH", "/api/config", body);
    showResult(result.message, result.plane === "file" ? "warn" : "ok");
    $("cfg-value").value = "";
    loadConfig();
  } catch (error) {
    showResult(error.message, "bad");
    if (error.status === 401 || error.status === 403) askToken(error.message);
  }
}

// -- live stream --------------------------------------------------------------------
function connect() {
  if (source) source.close();
  const query = view.privateReads && token() ? `?token=${encodeURIComponent(token())}` : "";
  source = new EventSource(`/api/events${query}`);
  source.onopen = () => pill($("stream"), "live", "ok");
  source.onerror = () => pill($("stream"), "reconnecting", "warn");
  const on = (name, fn) => source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  on("status", renderStatus);
  on("state", renderState);
  on("timeline", renderTimeline);
  on("control", (control) => { renderControl(control); loadConfig(); });
}

async function start() {
  renderTokenButton();
  $("btn-token").addEventListener("click", () => askToken(""));
  for (const button of document.querySelectorAll("[data-command]")) {
    button.addEventListener("click", () => confirmCommand(button.dataset.command));
  }
  $("cfg-strategy").addEventListener("change", fillKeys);
  $("config-form").addEventListener("submit", submitConfig);
  try {
    const health = await api("GET", "/healthz");
    view.privateReads = Boolean(health.private_reads);
  } catch (_) { /* the stream reports the problem */ }
  connect();
  loadConfig();
  setInterval(tickClocks, 1000);
}

document.addEventListener("DOMContentLoaded", start);
