// The dashboard's browsing panels (after app.js, whose helpers it uses): the address space
// as a tree, one level at a time, with utilization bars and alerts; a node's daily trend;
// the alerts; and the time slider, which shows these panels and the tables card as of an
// earlier event. All of it comes from /api/browse (?at=SEQ&block=ID|range=ID).
'use strict';

const browse = {
  at: 0, // 0: live
  node: null, // null: the roots; else { kind: 'block' | 'range', id }
  view: null,
  loading: null,
  timer: 0,
};

function browseUrl() {
  const q = new URLSearchParams();
  if (browse.at) q.set('at', browse.at);
  if (browse.node) q.set(browse.node.kind, browse.node.id);
  return `/api/browse?${q}`;
}

/** Loads the view for the current node and position (the latest request wins). */
async function browseRefresh() {
  const url = browseUrl();
  browse.loading = url;
  let view;
  try {
    view = await fetchJson(url);
  } catch (e) {
    if (browse.loading === url) $('tree-note').textContent = `Cannot load: ${e.message}`;
    return;
  }
  if (browse.loading !== url) return;
  browse.view = view;
  if (!view.live) {
    state.tables = view.tables;
    redraw('tables');
  }
  drawBrowse();
}

/** Live updates: at most one reload a second while the slider is at "now". */
function browseLiveChange() {
  if (browse.at || browse.timer) return;
  browse.timer = setTimeout(() => {
    browse.timer = 0;
    browseRefresh();
  }, 1000);
}

function goTo(node) {
  browse.node = node;
  browseRefresh();
}

function bar(u) {
  if (!u) return '';
  const wrap = el('div', 'bar');
  const assigned = el('i', 'assigned');
  assigned.style.width = `${Math.min(u.percent_assigned, 100)}%`;
  const utilized = el('i', 'utilized');
  utilized.style.width = `${Math.min(u.percent_utilized, 100)}%`;
  wrap.append(assigned, utilized);
  wrap.title = `${number(u.assigned)} of ${number(u.total)} ${u.unit}(es) assigned, ${number(u.utilized)} utilized`;
  return wrap;
}

function alertPill(level) {
  return level ? el('span', `pill alert ${level}`, `${level}-utilized`) : '';
}

function nodeRow(n) {
  const tr = el(
    'tr',
    n.kind === 'address' ? null : 'clickable',
    el('td', null, el('span', `kind ${n.kind}`, n.kind)),
    el('td', 'object', n.name),
    el('td', 'bar-col', bar(n.utilization)),
    el('td', 'num', n.utilization ? `${n.utilization.percent_utilized.toFixed(1)}%` : ''),
    el('td', null, alertPill(n.alert)),
    el('td', 'message', n.detail),
  );
  tr.dataset.kind = n.kind;
  tr.dataset.id = n.id;
  if (n.alert) tr.dataset.alert = n.alert;
  if (n.kind !== 'address') {
    tr.tabIndex = 0;
    const open = () => goTo({ kind: n.kind, id: n.id });
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => e.key === 'Enter' && open());
  }
  return tr;
}

function drawBrowse() {
  const v = browse.view;
  if (!v) return;
  const card = $('tree-card');
  card.dataset.position = v.position;
  card.dataset.live = v.live;
  $('tree-position').textContent = v.live ? `now (event ${number(v.position)})` : `as of event ${number(v.position)}`;
  // Breadcrumbs: the roots, the ancestors, the node.
  const crumbs = [el('button', 'crumb', 'all blocks')];
  crumbs[0].addEventListener('click', () => goTo(null));
  for (const p of v.path) {
    const b = el('button', 'crumb', p.name);
    b.addEventListener('click', () => goTo({ kind: 'block', id: p.id }));
    crumbs.push(' › ', b);
  }
  if (v.node) crumbs.push(' › ', el('strong', null, v.node.name));
  $('tree-path').replaceChildren(...crumbs);
  const head = $('tree-node');
  head.replaceChildren();
  if (v.node) {
    head.append(
      el('span', `kind ${v.node.kind}`, v.node.kind),
      ' ',
      el('strong', null, v.node.name),
      ' ',
      alertPill(v.node.alert),
      bar(v.node.utilization),
      el(
        'span',
        'muted',
        [`${v.node.utilization.percent_assigned.toFixed(1)}% assigned`, `${v.node.utilization.percent_utilized.toFixed(1)}% utilized`, v.node.detail]
          .filter(Boolean)
          .join(' · '),
      ),
    );
  }
  $('tree').replaceChildren(...v.children.map(nodeRow));
  $('tree-note').textContent = v.children.length
    ? v.more_children
      ? `Only the first ${v.children.length} are shown.`
      : ''
    : v.node
      ? 'Nothing below it.'
      : 'No blocks.';
  drawTrend(v.trend, v.node);
  drawAlerts(v.alerts);
}

function drawTrend(points, node) {
  const chart = $('trend-chart');
  $('trend-card').dataset.points = points.length;
  $('trend-title').textContent = node ? `${node.kind} ${node.name}, daily` : 'select a block or range';
  const card = chart.parentElement;
  const padding = parseFloat(getComputedStyle(card).paddingLeft) + parseFloat(getComputedStyle(card).paddingRight);
  const w = Math.max(card.clientWidth - padding - 2, 320);
  const h = 140;
  chart.setAttribute('width', w);
  chart.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const parts = [svg('line', { x1: 40, y1: h - 20, x2: w, y2: h - 20, class: 'base' })];
  for (const pct of [0, 50, 100]) {
    const y = h - 20 - (pct / 100) * (h - 30);
    parts.push(svg('text', { x: 0, y: y + 4, class: 'sub' }, `${pct}%`));
  }
  if (points.length) {
    const step = points.length > 1 ? (w - 60) / (points.length - 1) : 0;
    const x = (i) => 45 + i * step;
    const y = (p, key) => h - 20 - (Math.min(p[key], 100) / 100) * (h - 30);
    const line = (key) => points.map((p, i) => `${x(i).toFixed(1)},${y(p, key).toFixed(1)}`).join(' ');
    const day = (p) => new Date(p.start_unix_ms).toISOString().slice(0, 10);
    parts.push(
      svg('polyline', { points: line('percent_assigned'), class: 'line assigned' }),
      svg('polyline', { points: line('percent_utilized'), class: 'line utilized' }),
      svg('text', { x: 45, y: h - 4, class: 'sub' }, day(points[0])),
    );
    if (points.length > 1) parts.push(svg('text', { x: w - 2, y: h - 4, class: 'sub', 'text-anchor': 'end' }, day(points.at(-1))));
    // Each day as a dot too: a trend of one day is a point, not a line.
    for (const [i, p] of points.entries()) {
      const tip = `${day(p)}: ${p.percent_assigned.toFixed(1)}% assigned, ${p.percent_utilized.toFixed(1)}% utilized`;
      for (const key of ['percent_assigned', 'percent_utilized']) {
        const dot = svg('circle', { cx: x(i).toFixed(1), cy: y(p, key).toFixed(1), r: 3, class: `dot ${key.slice(8)}` });
        dot.append(svg('title', {}, tip));
        parts.push(dot);
      }
    }
  }
  chart.replaceChildren(...parts);
}

function drawAlerts(alerts) {
  $('alerts-card').dataset.alerts = alerts.length;
  $('alerts').replaceChildren(
    ...alerts.map((a) => {
      const tr = el(
        'tr',
        'clickable',
        el('td', null, alertPill(a.level)),
        el('td', null, el('span', `kind ${a.kind}`, a.kind)),
        el('td', 'object', a.name || `#${a.id}`),
        el('td', 'num', `${a.percent_utilized.toFixed(1)}%`),
        el('td', 'num', a.since_seq),
      );
      tr.dataset.level = a.level;
      tr.addEventListener('click', () => goTo({ kind: a.kind, id: a.id }));
      return tr;
    }),
  );
  $('alerts-empty').hidden = alerts.length > 0;
}

// --- the time slider -----------------------------------------------------------------

function drawSlider() {
  const slider = $('at');
  slider.max = Math.max(state.head, 1);
  if (!browse.at) slider.value = slider.max;
  $('at-label').textContent = browse.at ? `as of event ${number(browse.at)}` : 'now';
  $('at-live').hidden = !browse.at;
  document.body.dataset.past = String(Boolean(browse.at));
}

function setAt(seq) {
  browse.at = seq >= state.head ? 0 : seq;
  if (!browse.at && state.liveTables) {
    state.tables = state.liveTables;
    redraw('tables');
  }
  drawSlider();
  browseRefresh();
}

$('at').addEventListener('change', (e) => setAt(Number(e.target.value)));
$('at').addEventListener('input', (e) => {
  $('at-label').textContent = `as of event ${number(Number(e.target.value))}`;
});
$('at-live').addEventListener('click', () => setAt(state.head));
DRAW.slider = drawSlider;

// --- what an operation committed -------------------------------------------------------

async function loadCommitted(id) {
  let c;
  try {
    c = await fetchJson(`/api/operations/${id}/committed`);
  } catch (e) {
    $('detail-params').textContent = `Cannot load what it committed: ${e.message}`;
    return;
  }
  if (state.selected !== id) return;
  $('detail-params').textContent = c.params;
  $('detail-by').textContent = c.principal ? `run by ${c.principal}` : '';
  $('detail-events').replaceChildren(...c.events.map(eventRow));
  $('detail').dataset.events = c.events.length;
  $('detail-events-more').textContent = c.more_events ? 'Only its first events are shown.' : '';
}
