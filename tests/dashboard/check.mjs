// The dashboard's browser side of tests/dashboard.rs.
//
//   IPAM_TOKEN=<token> node check.mjs <dashboard-url> <screenshot.png>
//
// Opens the page in headless Chromium, which first asks for a token: signs in with
// IPAM_TOKEN (checking the session cookie is out of the page's scripts' reach), waits until
// it is connected to the event stream and prints `ready`. Then reads one line from stdin: the id of an operation the Rust test has
// started over gRPC and the number of items it has. It waits until the page shows that
// operation at 100% and SUCCEEDED with every item's result, the event tail shows its
// events and the table counts include its rows; takes a full-page screenshot; prints one
// JSON line with what it saw (also the story the address-history search shows for one
// address); exits 0. Any failure exits non-zero with the reason on
// stderr. Every wait is on a page condition, with a timeout.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error('usage: node check.mjs <dashboard-url> <screenshot.png>');
  process.exit(2);
}
const WAIT = { timeout: 60_000 };

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function readLine() {
  const { value, done } = await lines.next();
  if (done) throw new Error('stdin closed before the operation id arrived');
  return value.trim();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
let failed = false;
// The wait in progress, named in the failure.
let step = 'start';
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));

  await page.goto(url);
  // Signed out, the page shows the sign-in form and nothing of the server.
  step = "await page.waitForSelector('#login:not([hidden])', WAIT);";
  await page.waitForSelector('#login:not([hidden])', WAIT);
  if (await page.isVisible('#main')) throw new Error('the tables show before signing in');
  await page.fill('#token', process.env.IPAM_TOKEN ?? '');
  await page.click('#login-form button[type="submit"]');
  step = 'await page.waitForSelector(\'body[data-connected="true"]\', WAIT);';
  await page.waitForSelector('body[data-connected="true"]', WAIT);
  if ((await page.evaluate(() => document.cookie)).includes('ipam_session')) {
    throw new Error('the session cookie is readable by the page (it must be HttpOnly)');
  }
  const viewer = await page.textContent('#viewer');
  if (!viewer.includes('admin')) throw new Error(`the page does not say who is signed in: "${viewer}"`);
  // Survives only if the page is never reloaded: updates must come from the stream.
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  console.log('ready');

  const [id, items, before] = (await readLine()).split(/\s+/).map(Number);
  if (![id, items, before].every(Number.isInteger)) throw new Error('expected "<operation id> <items> <seq before it>" on stdin');
  const row = `#ops tr[data-op-id="${id}"]`;

  // Every percentage the row shows on its way to 100.
  await page.evaluate((row) => {
    window.percentsSeen = [];
    const note = () => {
      const tr = document.querySelector(row);
      const p = tr && Number(tr.dataset.percent);
      if (tr && window.percentsSeen.at(-1) !== p) window.percentsSeen.push(p);
    };
    new MutationObserver(note).observe(document.getElementById('ops'), {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-percent'],
    });
    note();
  }, row);

  step = 'await page.waitForSelector(`${row}[data-state="SUCCEEDED"][data-percent="100"]`, WAIT);';
  await page.waitForSelector(`${row}[data-state="SUCCEEDED"][data-percent="100"]`, WAIT);
  step = 'waitForFunction ({ row, items }) => {';
  await page.waitForFunction(
    ({ row, items }) => {
      const results = document.querySelector(`${row} .results`);
      return results && Number(results.dataset.succeeded) === items;
    },
    { row, items },
    WAIT,
  );
  step = 'await page.waitForSelector(`#events tr[data-op="${id}"]`, WAIT);';
  await page.waitForSelector(`#events tr[data-op="${id}"]`, WAIT);
  step = 'waitForFunction (items) => Number(document.querySelector(\'#counts [data-table="ranges"]\')?';
  await page.waitForFunction(
    (items) => Number(document.querySelector('#counts [data-table="ranges"]')?.dataset.rows) >= items,
    items,
    WAIT,
  );

  // tests/dashboard.rs made a DHCP server whose control socket does not exist: its failed
  // push shows, in the reconciler's words.
  step = 'await page.waitForSelector(\'#dhcp-servers tr[data-push="failed"]\', WAIT);';
  await page.waitForSelector('#dhcp-servers tr[data-push="failed"]', WAIT);
  // An address's story, from the search box: tests/dashboard.rs made 192.168.10.7 inside
  // the block 192.168.10.0/24 and the range 192.168.10.0/25.
  await page.fill('#story-q', '192.168.10.7');
  await page.click('#story-form button[type="submit"]');
  step = "await page.waitForFunction(() => Number(document.getElementById('story-card').dataset.even";
  await page.waitForFunction(() => Number(document.getElementById('story-card').dataset.events) >= 3, null, WAIT);
  const story = await page.evaluate(() =>
    [...document.querySelectorAll('#story tr .event-name')].map((n) => n.textContent).join(' '),
  );

  const seen = await page.evaluate(
    ({ row, id }) => {
      const tr = document.querySelector(row);
      const cell = (name) => tr.querySelector(name).textContent.trim();
      // The operation's events of the address plan (its own records are in the log too).
      const events = [...document.querySelectorAll(`#events tr[data-op="${id}"]`)]
        .filter((tr) => !tr.querySelector('.event-name').textContent.startsWith('Operation'));
      return {
        operation: id,
        state: tr.dataset.state,
        percent: Number(tr.dataset.percent),
        percent_text: cell('.pct'),
        bar_width: tr.querySelector('.fill').style.width,
        items_text: cell('.items'),
        succeeded: Number(tr.querySelector('.results').dataset.succeeded),
        failed: Number(tr.querySelector('.results').dataset.failed),
        percents_seen: window.percentsSeen,
        events_of_operation: events.length,
        event_name: events[0]?.querySelector('.event-name').textContent ?? '',
        event_sample: events[0]?.querySelector('.summary .text').textContent ?? '',
        ranges: Number(document.querySelector('#counts [data-table="ranges"]').dataset.rows),
                blocks_charted: document.querySelectorAll('#blocks-chart [data-block]').length,
        // tests/dashboard.rs gives one block the description MARKUP: the page must show it
        // as text, and no element may have come of it.
        markup_as_text:
          [...document.querySelectorAll('#blocks-chart .sub')].some((t) => t.textContent === '<b>lab</b>') &&
          document.querySelector('#blocks-chart b, #blocks-chart foreignObject') === null,
        not_reloaded: window.notReloaded === true,
        operation_by: tr.querySelector('.by').textContent.trim(),
        event_by: events[0]?.querySelector('.by').textContent.trim() ?? '',
        dhcp_failure: document.querySelector('#dhcp-servers tr[data-push="failed"] .push').textContent.replace(/[",]/g, ' '),
      };
    },
    { row, id },
  );
  seen.story = story;
  await page.screenshot({ path: screenshot, fullPage: true });

  // One screenshot per panel: <screenshot>-<panel>.png.
  const panel = async (selector, name) => page.locator(selector).screenshot({ path: screenshot.replace(/\.png$/, `-${name}.png`) });
  await panel('#story-card', 'story');
  // The address space as a tree: the roots, a block's ranges (and its trend), a range's addresses.
  step = 'await page.waitForSelector(\'#tree tr[data-kind="block"]\', WAIT);';
  await page.waitForSelector('#tree tr[data-kind="block"]', WAIT);
  seen.tree_roots = await page.evaluate(() =>
    [...document.querySelectorAll('#tree tr[data-kind="block"] .object')].map((n) => n.textContent).join(' '),
  );
  const lab = await page.evaluate(
    () => [...document.querySelectorAll('#tree tr[data-kind="block"]')].find((tr) => tr.querySelector('.object').textContent === '192.168.10.0/24')?.dataset.id,
  );
  if (!lab) throw new Error(`192.168.10.0/24 is not among the roots: ${seen.tree_roots}`);
  await page.click(`#tree tr[data-kind="block"][data-id="${lab}"]`);
  step = 'await page.waitForSelector(\'#tree tr[data-kind="range"]\', WAIT);';
  await page.waitForSelector('#tree tr[data-kind="range"]', WAIT);
  step = "await page.waitForFunction(() => Number(document.getElementById('trend-card').dataset.poin";
  await page.waitForFunction(() => Number(document.getElementById('trend-card').dataset.points) > 0, null, WAIT);
  seen.trend_points = await page.evaluate(() => Number(document.getElementById('trend-card').dataset.points));
  await panel('#tree-card', 'tree');
  await panel('#trend-card', 'trend');
  await page.click('#tree tr[data-kind="range"]');
  step = 'await page.waitForFunction(() => document.querySelectorAll(\'#tree tr[data-kind="address"]\'';
  await page.waitForFunction(() => document.querySelectorAll('#tree tr[data-kind="address"]').length >= 40, null, WAIT);
  seen.range_addresses = await page.evaluate(() => document.querySelectorAll('#tree tr[data-kind="address"]').length);
  seen.range_alert = await page.evaluate(() => document.querySelector('#tree-node .pill.alert')?.textContent ?? '');
  seen.range_path = await page.evaluate(() => document.getElementById('tree-path').textContent);
  await panel('#tree-card', 'range');
  step = 'await page.waitForSelector(\'#alerts tr[data-level="over"]\', WAIT);';
  await page.waitForSelector('#alerts tr[data-level="over"]', WAIT);
  seen.alerts = await page.evaluate(() => Number(document.getElementById('alerts-card').dataset.alerts));
  await panel('#alerts-card', 'alerts');

  // The operation's page: its parameters and the events it committed.
  await page.click(row);
  step = "await page.waitForFunction(() => Number(document.getElementById('detail').dataset.events) ";
  await page.waitForFunction(() => Number(document.getElementById('detail').dataset.events) > 0, null, WAIT);
  seen.operation_params = (await page.textContent('#detail-params')).split('(')[0].trim();
  seen.operation_events = await page.evaluate(() => document.querySelectorAll('#detail-events tr').length);
  await panel('#detail', 'operation');

  // The time slider: as of the event before the operation, the tree and the tables show
  // the plan without its ranges; back to now, with them.
  await page.evaluate((seq) => {
    const slider = document.getElementById('at');
    slider.value = seq;
    slider.dispatchEvent(new Event('change'));
  }, before);
  step = 'await page.waitForSelector(`#tree-card[data-live="false"][data-position="${before}"]`, WAI';
  await page.waitForSelector(`#tree-card[data-live="false"][data-position="${before}"]`, WAIT);
  step = 'await page.waitForFunction(() => document.querySelector(\'#counts [data-table="ranges"]\')?.';
  await page.waitForFunction(() => document.querySelector('#counts [data-table="ranges"]')?.dataset.rows === '1', null, WAIT);
  seen.past_ranges = 1;
  seen.past_label = (await page.textContent('#at-label')).replace(/,/g, '');
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-time.png'), fullPage: true });
  await page.click('#at-live');
  step = 'await page.waitForSelector(\'#tree-card[data-live="true"]\', WAIT);';
  await page.waitForSelector('#tree-card[data-live="true"]', WAIT);
    step = "back to now: the counts show the operation's ranges again";
  await page.waitForFunction(
    (items) => Number(document.querySelector('#counts [data-table="ranges"]')?.dataset.rows) > items,
    items,
    WAIT,
  );
  if (problems.length) throw new Error(problems.join('\n'));
  console.log(JSON.stringify(seen));
} catch (e) {
  failed = true;
  console.error(`dashboard check failed at ${step}: ${e.stack ?? e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
