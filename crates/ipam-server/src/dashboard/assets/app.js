// The ipamd dashboard. It follows /api/stream (server-sent events: hello, operations,
// events, tables) and draws what arrives; item results come from /api/operations/{id}.
//
// Everything shown is set with textContent or as an SVG attribute, never as markup:
// descriptions, names and messages are user input.
'use strict';

const MAX_OPS = 50; // rows in the operations table
const MAX_EVENTS = 50; // rows in the event tail
const RATE_SAMPLES = 120; // seconds of events/s in the header chart
const SVG = 'http://www.w3.org/2000/svg';

const state = {
  ops: new Map(), // id -> operation row (as the server sent it)
  results: new Map(), // id -> item counts of a finished operation
  events: [], // oldest first
  tables: null, // what the tables card shows (the past, with the time slider)
  liveTables: null, // the newest from the stream
  head: 0,
  selected: null,
  rate: [],
};

const $ = (id) => document.getElementById(id);

/** An element with a class and text or child nodes (strings become text nodes). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children.filter((c) => c !== null && c !== undefined).map((c) => (typeof c === 'number' ? String(c) : c)));
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const number = (n) => Number(n).toLocaleString('en-US');
const pad = (n, w = 2) => String(n).padStart(w, '0');
function clock(ms, withMillis) {
  if (!ms) return '';
  const d = new Date(ms);
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMillis ? `${hms}.${pad(d.getMilliseconds(), 3)}` : hms;
}
const words = (name) => name.toLowerCase().replaceAll('_', ' ');

// --- drawing, at most once a frame ---------------------------------------------------

const dirty = new Set();
let frame = 0;
function redraw(...parts) {
  parts.forEach((p) => dirty.add(p));
  if (!frame) {
    frame = requestAnimationFrame(() => {
      frame = 0;
      const todo = [...dirty];
      dirty.clear();
      for (const part of todo) DRAW[part]();
    });
  }
}

const DRAW = {
  ops: drawOperations,
  events: drawEvents,
  tables: drawTables,
  head: drawHead,
};

// --- operations ----------------------------------------------------------------------

const opRows = new Map(); // id -> <tr>

function opRow(id) {
  let tr = opRows.get(id);
  if (tr) return tr;
  tr = el('tr');
  tr.dataset.opId = id;
  tr.tabIndex = 0;
  const bar = el('div', 'bar', el('div', 'fill'));
  tr.append(
    el('td', 'num', `#${id}`),
    el('td', 'kind'),
    el('td', null, el('span', 'badge')),
    el('td', 'progress-col', el('div', 'progress', bar, el('span', 'pct'))),
    el('td', 'num items'),
    el('td', 'results'),
    el('td', 'time'),
    el('td', 'by'),
    el('td', 'message'),
  );
  tr.addEventListener('click', () => select(id));
  tr.addEventListener('keydown', (e) => e.key === 'Enter' && select(id));
  opRows.set(id, tr);
  return tr;
}

function fillOpRow(tr, op) {
  const [, kind, stateCell, progress, items, results, time, by, message] = tr.children;
  tr.dataset.state = op.state;
  tr.dataset.percent = op.percent;
  tr.classList.toggle('selected', state.selected === op.id);
  kind.textContent = words(op.kind);
  const badge = stateCell.firstChild;
  badge.textContent = op.state.toLowerCase();
  badge.className = `badge ${op.state.toLowerCase()}`;
  const fill = progress.querySelector('.fill');
  fill.style.width = `${op.percent}%`;
  fill.className = `fill ${op.state.toLowerCase()}`;
  progress.querySelector('.pct').textContent = `${op.percent}%`;
  items.textContent = op.items_total ? `${number(op.items_done)} / ${number(op.items_total)}` : '';
  drawResults(results, state.results.get(op.id));
  time.textContent = clock(op.created_unix_ms);
  by.textContent = op.principal ?? '';
  message.textContent = op.status_message;
  message.title = op.status_message;
}

function drawResults(cell, counts) {
  cell.replaceChildren();
  if (!counts) return;
  for (const key of ['succeeded', 'skipped', 'failed', 'not_run']) cell.dataset[key] = counts[key];
  const parts = [
    ['succeeded', '✓', 'ok'],
    ['skipped', 'skipped', 'skip'],
    ['failed', '✗', 'bad'],
    ['not_run', 'not run', 'skip'],
  ];
  for (const [key, label, cls] of parts) {
    if (counts[key] || key === 'succeeded') cell.append(el('span', `count ${cls}`, `${label} ${number(counts[key])}`));
  }
}

function drawOperations() {
  const ids = [...state.ops.keys()].sort((a, b) => b - a);
  for (const id of ids.slice(MAX_OPS)) {
    state.ops.delete(id);
    state.results.delete(id);
  }
  for (const [id, tr] of opRows) {
    if (!state.ops.has(id)) {
      tr.remove();
      opRows.delete(id);
    }
  }
  const body = $('ops');
  let previous = null;
  for (const id of ids.slice(0, MAX_OPS)) {
    const tr = opRow(id);
    fillOpRow(tr, state.ops.get(id));
    const expected = previous ? previous.nextSibling : body.firstChild;
    if (expected !== tr) body.insertBefore(tr, expected);
    previous = tr;
  }
  $('ops-empty').hidden = ids.length > 0;
  const running = ids.filter((id) => !state.ops.get(id).done).length;
  $('ops-note').textContent = ids.length ? `${running} running or queued · newest ${Math.min(ids.length, MAX_OPS)}` : '';
}

function mergeOperations(rows) {
  for (const op of rows) {
    const before = state.ops.get(op.id);
    state.ops.set(op.id, op);
    if (op.done && (!before || !before.done)) finished(op);
  }
  redraw('ops');
}

// Item results of finished multi-item operations, a few requests at a time.
const resultQueue = [];
let resultRequests = 0;

function finished(op) {
  if (op.items_total > 1 && !state.results.has(op.id)) {
    resultQueue.push(op.id);
    pumpResults();
  }
  if (state.selected === op.id) loadDetail(op.id);
}

function pumpResults() {
  while (resultRequests < 2 && resultQueue.length) {
    const id = resultQueue.shift();
    if (!state.ops.has(id)) continue;
    resultRequests += 1;
    fetchJson(`/api/operations/${id}?limit=0`)
      .then((detail) => {
        state.results.set(id, detail.counts);
        redraw('ops');
      })
      .catch(() => {})
      .finally(() => {
        resultRequests -= 1;
        pumpResults();
      });
  }
}

async function fetchJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// --- one operation's items -------------------------------------------------------------

function select(id) {
  state.selected = id;
  redraw('ops');
  loadDetail(id);
}

async function loadDetail(id) {
  const panel = $('detail');
  panel.hidden = false;
  $('detail-id').textContent = `#${id}`;
  let detail;
  try {
    detail = await fetchJson(`/api/operations/${id}?limit=200`);
  } catch (e) {
    $('detail-summary').textContent = `Cannot load operation ${id}: ${e.message}`;
    return;
  }
  if (state.selected !== id) return;
  const c = detail.counts;
  if (detail.done) state.results.set(id, c);
  $('detail-kind').textContent = words(detail.kind);
  const parts = [
    `${detail.state.toLowerCase()}`,
    `${number(detail.items_total)} item(s): ${number(c.succeeded)} succeeded, ${number(c.skipped)} skipped, ${number(c.failed)} failed, ${number(c.not_run)} not run, ${number(c.pending)} pending`,
  ];
  if (detail.first_event_seq) parts.push(`events ${detail.first_event_seq}–${detail.last_event_seq}`);
  if (detail.error) parts.push(`error: ${detail.error}`);
  $('detail-summary').textContent = parts.join(' · ');
  const body = $('detail-items');
  body.replaceChildren(
    ...detail.items.map((item) => {
      const tr = el(
        'tr',
        null,
        el('td', 'num', item.index),
        el('td', null, el('span', `badge ${item.status.toLowerCase()}`, words(item.status))),
        el('td', null, words(item.action)),
        el('td', 'object', item.object),
        el('td', 'num', item.record_id || ''),
        el('td', 'message', item.error || item.message),
      );
      return tr;
    }),
  );
  loadCommitted(id);
  const shown = detail.items.length;
  $('detail-more').textContent = shown < detail.items_total ? `Showing the first ${number(shown)} of ${number(detail.items_total)} items.` : '';
}

$('detail-close').addEventListener('click', () => {
  state.selected = null;
  $('detail').hidden = true;
  redraw('ops');
});

// --- the event log's tail --------------------------------------------------------------

function mergeEvents(rows) {
  state.events.push(...rows);
  if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
  if (rows.length) state.head = Math.max(state.head, rows[rows.length - 1].seq);
  redraw('events', 'head');
}

function drawEvents() {
  const rows = state.events
    .slice()
    .reverse()
    .map(eventRow);
  $('events').replaceChildren(...rows);
  $('events-empty').hidden = rows.length > 0;
}

// --- an address's story ---------------------------------------------------------------

function eventRow(e) {
  const tr = el(
    'tr',
    null,
    el('td', 'num', e.seq),
    el('td', 'time', clock(e.commit_unix_us / 1000, true)),
    el('td', 'num', e.operation_id ? `#${e.operation_id}` : ''),
    el('td', 'by', e.principal ?? ''),
    el('td', 'summary', el('span', 'event-name', e.name), ' ', el('span', 'text', e.summary)),
  );
  tr.dataset.seq = e.seq;
  tr.dataset.op = e.operation_id;
  if (e.operation_id) {
    tr.classList.add('link');
    tr.addEventListener('click', () => select(e.operation_id));
  }
  return tr;
}

$('story-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const q = $('story-q').value.trim();
  if (!q) return;
  const response = await fetch(`/api/address-history?q=${encodeURIComponent(q)}`);
  const body = await response.json();
  if (!response.ok) {
    $('story').replaceChildren();
    $('story-note').textContent = body.error ?? `HTTP ${response.status}`;
    return;
  }
  $('story-subject').textContent = `${body.subject}, oldest first`;
  $('story').replaceChildren(...body.events.map(eventRow));
  $('story-note').textContent = body.events.length
    ? body.more
      ? `The first ${body.events.length} events; ipamctl address history lists them all.`
      : ''
    : `No event is about ${body.subject}.`;
  $('story-card').dataset.events = body.events.length;
});

// --- tables and blocks -----------------------------------------------------------------

function drawTables() {
  const t = state.tables;
  if (!t) return;
  $('tables-position').textContent = `${browse.at ? 'as of' : 'at'} event ${number(t.position)}`;
  $('counts').replaceChildren(
    ...t.tables.map((c) => {
      const box = el('div', c.rows ? 'count-box' : 'count-box zero', el('strong', null, number(c.rows)), el('span', null, c.label));
      box.dataset.table = c.table;
      box.dataset.rows = c.rows;
      return box;
    }),
  );
  drawBlocks(t.blocks);
  $('blocks-more').hidden = !t.more_blocks;
  drawDhcpServers(t.dhcp_servers ?? []);
}

// Every text goes in as text (el sets textContent): names and Kea's messages are data.
function drawDhcpServers(servers) {
  const rows = servers.map((s) => {
    const push = s.push === '' ? 'row only'
      : s.push === 'pushed' ? `pushed (event ${number(s.pushed_seq)})`
      : s.push === 'failed' ? `failed: ${s.failure}`
      : 'not pushed yet';
    const problem = s.problem && s.problem !== s.failure ? [s.problem] : [];
    const notes = [...s.drift.map((d) => `drift: ${d}`), ...problem];
    const tr = el('tr', null,
      el('td', null, String(s.id)),
      el('td', 'name', s.name),
      el('td', 'control', s.control || '–'),
      el('td', 'push', push),
      el('td', 'leases', s.leases == null ? '–' : number(s.leases)),
      el('td', 'notes', notes.join('; ') || '–'));
    tr.dataset.server = s.id;
    tr.dataset.push = s.push;
    return tr;
  });
  $('dhcp-servers').replaceChildren(...rows);
  $('dhcp-empty').hidden = rows.length > 0;
}

function drawBlocks(blocks) {
  const chart = $('blocks-chart');
  const width = Math.max(chart.parentElement.clientWidth - 2, 320);
  const rowHeight = 40;
  const label = 150;
  const right = 150;
  const barWidth = width - label - right;
  chart.setAttribute('width', width);
  chart.setAttribute('height', blocks.length * rowHeight);
  chart.setAttribute('viewBox', `0 0 ${width} ${blocks.length * rowHeight}`);
  $('blocks-empty').hidden = blocks.length > 0;
  const scale = (percent) => (percent > 0 ? Math.max((barWidth * percent) / 100, 2) : 0);
  chart.replaceChildren(
    ...blocks.map((b, i) => {
      const y = i * rowHeight;
      const g = svg('g', { transform: `translate(0 ${y})`, 'data-block': b.id });
      const tip = `${b.network} (space ${b.space})${b.description ? ` – ${b.description}` : ''}\n` +
        `${number(b.assigned)} of ${number(b.total)} ${b.unit}(es) assigned, ${number(b.utilized)} utilized\n` +
        `${b.child_blocks} child block(s), ${b.ranges} range(s)`;
      g.append(
        svg('title', {}, tip),
        svg('text', { x: 0, y: 15, class: 'label' }, b.network),
        svg('text', { x: 0, y: 31, class: 'sub' }, truncate(b.description || `space ${b.space}`, 24)),
        svg('rect', { x: label, y: 6, width: barWidth, height: 22, rx: 4, class: 'track' }),
        svg('rect', { x: label, y: 6, width: scale(b.percent_assigned), height: 22, rx: 4, class: 'assigned' }),
        svg('rect', { x: label, y: 13, width: scale(b.percent_utilized), height: 8, rx: 2, class: 'utilized' }),
        svg('text', { x: label + barWidth + 10, y: 15, class: 'value' }, `${b.percent_assigned.toFixed(1)}% assigned`),
        svg('text', { x: label + barWidth + 10, y: 31, class: 'sub' }, `${b.percent_utilized.toFixed(1)}% utilized`),
      );
      return g;
    }),
  );
}

const truncate = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// --- the header: log head and events per second ----------------------------------------

let lastSample = null;
setInterval(() => {
  const now = performance.now();
  if (lastSample && document.body.dataset.connected === 'true') {
    const perSecond = ((state.head - lastSample.head) * 1000) / (now - lastSample.at);
    state.rate.push(Math.max(perSecond, 0));
    if (state.rate.length > RATE_SAMPLES) state.rate.shift();
    redraw('head');
  }
  lastSample = { at: now, head: state.head };
}, 1000);

function drawHead() {
  $('head').textContent = number(state.head);
  const last = state.rate.length ? state.rate[state.rate.length - 1] : null;
  $('rate').textContent = last === null ? '–' : number(Math.round(last));
  const chart = $('rate-chart');
  const w = Number(chart.getAttribute('width'));
  const h = Number(chart.getAttribute('height'));
  const max = Math.max(...state.rate, 1);
  const step = w / (RATE_SAMPLES - 1);
  const offset = (RATE_SAMPLES - state.rate.length) * step;
  const points = state.rate.map((v, i) => `${(offset + i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
  chart.replaceChildren(
    svg('line', { x1: 0, y1: h - 1, x2: w, y2: h - 1, class: 'base' }),
    svg('polyline', { points: points.join(' '), class: 'line' }),
  );
}

// --- the stream ------------------------------------------------------------------------

function connected(yes, text) {
  document.body.dataset.connected = String(yes);
  const pill = $('connection');
  pill.textContent = text;
  pill.className = yes ? 'pill live' : 'pill down';
}

function follow() {
  const source = new EventSource('/api/stream');
  const on = (name, handle) =>
    source.addEventListener(name, (message) => {
      try {
        handle(JSON.parse(message.data));
      } catch (e) {
        console.error(`dashboard: bad ${name} message`, e);
      }
    });
  on('hello', (hello) => {
    state.ops.clear();
    state.events = [];
    mergeOperations(hello.operations);
    mergeEvents(hello.events);
    state.liveTables = hello.tables;
    if (!browse.at) state.tables = hello.tables;
    state.head = Math.max(state.head, hello.tables.position);
    redraw('ops', 'events', 'tables', 'head', 'slider');
    browseRefresh();
    connected(true, `live · v${hello.version}`);
  });
  on('operations', mergeOperations);
  on('events', mergeEvents);
  on('tables', (tables) => {
    state.head = Math.max(state.head, tables.position);
    redraw('head', 'slider');
    // While the time slider shows the past, the tables card shows it too.
    state.liveTables = tables;
    if (browse.at) return;
    state.tables = tables;
    redraw('tables');
    browseLiveChange();
  });
  on('signed_out', (why) => {
    source.close();
    signIn(why);
  });
  // EventSource reconnects by itself; the server starts the page over with a hello.
  // A stream refused at reconnection (401 or 403) would retry forever: ask why once.
  source.addEventListener('error', async () => {
    connected(false, 'reconnecting…');
    const me = await fetchJson('/session').catch(() => null);
    if (me && !me.signed_in) {
      source.close();
      signIn(me.error);
    }
  });
}

// --- signing in ------------------------------------------------------------------------

/** Shows the sign-in form (with why), hides the rest. */
function signIn(why) {
  $('login').hidden = false;
  $('main').hidden = true;
  $('sign-out').hidden = true;
  $('login-error').textContent = why || '';
  connected(false, 'signed out');
}

async function start() {
  const me = await fetchJson('/session');
  if (!me.signed_in) {
    signIn(me.error);
    return;
  }
  $('login').hidden = true;
  $('main').hidden = false;
  $('viewer').textContent = me.method === 'none' ? '' : `signed in as ${me.principal}`;
  $('sign-out').hidden = me.method === 'none';
  follow();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  const response = await fetch('/login', { method: 'POST', body: token, headers: { 'content-type': 'text/plain' } });
  $('token').value = '';
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $('login-error').textContent = body.error || response.statusText;
    return;
  }
  start();
});

$('sign-out').addEventListener('click', async () => {
  await fetch('/logout', { method: 'POST' });
  location.reload();
});

window.addEventListener('resize', () => {
  redraw('tables');
  drawBrowse();
});
start();
