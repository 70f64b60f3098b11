// Browser tests of the shop node's operations page: headless Chromium (Debian's
// `chromium`) driven by playwright-core against a real shop-node started here (a free
// loopback port, data in a temporary folder, killed by PID at the end).
//
//   node page_test.mjs CASE --node BIN --web-root DIR --out DIR
//   CASE: live | restart | token | docs | unbuilt
//
// Screenshots go to --out. Exits non-zero, with the reason, when a check fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '../../web');
const require = createRequire(join(webDir, 'package.json'));

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const testCase = process.argv[2];
const nodeBin = arg('--node');
const webRoot = arg('--web-root', join(webDir, 'dist'));
const outDir = arg('--out', join(tmpdir(), 'annal-web-screenshots'));
const chromiumPath = arg('--chromium', process.env.CHROMIUM || '/usr/bin/chromium');
mkdirSync(outDir, { recursive: true });

const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(2)}s]`, ...a);

class Failure extends Error {}
function check(cond, what) {
  if (!cond) throw new Failure(what);
}

// -- the node ---------------------------------------------------------------------------

const children = new Set();

// Starts shop-node and resolves with { child, url, port } once it printed its URL.
function startNode({ data, port = 0, token, webRootDir = webRoot }) {
  const args = ['--data', data, '--http', `127.0.0.1:${port}`, '--web-root', webRootDir,
                '--payment-timeout', '1h', '--scheduler.max-threads=2'];
  if (token) args.push('--token', token);
  const child = spawn(nodeBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Failure('shop-node did not start in 30 s: ' + stderr)), 30000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, url: m[0], port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Failure(`shop-node exited with ${code} before it was ready: ${stderr}`));
    });
  });
}

// Kills by PID and waits for the exit (bounded).
function killNode(child, signal = 'SIGKILL') {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, 10000);
    child.once('exit', () => { clearTimeout(timer); children.delete(child); res(); });
    process.kill(child.pid, signal);
  });
}

async function call(url, method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(url + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

async function seedShop(url, token) {
  check((await call(url, 'POST', '/products', { sku: 'tea', name: 'Green tea', price_cents: 450 }, token)).status === 201, 'create product');
  check((await call(url, 'POST', '/inventory/tea/restock', { quantity: 10 }, token)).status === 200, 'restock');
}

async function placeOrder(url, customer, token) {
  const r = await call(url, 'POST', '/orders', { customer_id: customer, lines: [{ sku: 'tea', quantity: 1 }] }, token);
  check(r.status === 201, 'place order: ' + r.text);
  return r.json; // { order_id, position, version }
}

// -- the browser ------------------------------------------------------------------------

async function openBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

async function shot(page, name) {
  const file = join(outDir, `${testCase}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log('screenshot', file);
}

// Records requests to anything but the node (the page must load nothing from outside).
function watchOutside(page, url) {
  const outside = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(url + '/') && !u.startsWith('blob:' + url + '/') && !u.startsWith('data:')) outside.push(u);
  });
  return outside;
}

async function waitLive(page, timeout = 10000) {
  await page.waitForSelector('#conn[data-state="live"]', { timeout });
}

// -- cases ------------------------------------------------------------------------------

async function caseLive(browser, data) {
  const node = await startNode({ data });
  await seedShop(node.url);
  // Warm the browser first (its first navigation pays for starting the renderer and font
  // caches on a cold machine); the page's own first paint is measured on a second tab.
  const warm = await browser.newPage();
  await warm.goto(node.url + '/docs');
  await warm.close();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const outside = watchOutside(page, node.url);
  await page.bringToFront();
  await page.goto(node.url + '/');
  // The paint entry may be recorded after the load event: wait for it (bounded). Its time
  // counts from the navigation's start, so waiting does not add to it.
  const paint = await page.evaluate(() => new Promise((resolve) => {
    const find = () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')
                    || performance.getEntriesByType('paint').find((e) => e.name === 'first-paint');
    const now = find();
    if (now)
      return resolve(now.startTime);
    const observer = new PerformanceObserver(() => {
      const p = find();
      if (p) {
        observer.disconnect();
        resolve(p.startTime);
      }
    });
    observer.observe({ type: 'paint', buffered: true });
    setTimeout(() => resolve(null), 5000);
  }));
  log('first paint (ms):', paint);
  check(paint !== null && paint < 1000, `first paint within 1 s on loopback (was ${paint} ms)`);
  await waitLive(page);

  // An order placed through the API appears in the live list within 1 s.
  const order = await placeOrder(node.url, 'ann');
  const placedAt = Date.now();
  await page.waitForSelector(`#live-body tr[data-position="${order.position}"]`, { timeout: 1000 })
    .catch(() => { throw new Failure(`order event ${order.position} not in the live list within 1 s`); });
  log('order event shown after', Date.now() - placedAt, 'ms');
  // Fulfilment confirms it (the order's stream reaches version 2) before the trail is read.
  const stream = 'order-' + order.order_id;
  await page.waitForFunction((s) => [...document.querySelectorAll('#live-body a.stream')]
    .filter((a) => a.textContent === s).length >= 2, stream, { timeout: 5000 });

  // ... and in the order's audit trail, with the state at each version on a slider.
  await page.locator('#live-body a.stream', { hasText: stream }).first().click();
  await page.waitForSelector('#audit-body tr[data-version="1"]', { timeout: 3000 });
  const firstType = await page.textContent('#audit-body tr[data-version="1"] td:nth-child(3)');
  check(firstType === 'OrderPlaced', `the trail's first event is OrderPlaced (was ${firstType})`);
  const firstPosition = await page.textContent('#audit-body tr[data-version="1"] td:nth-child(2)');
  check(Number(firstPosition) === order.position, 'the trail shows the event\'s global position');
  await page.waitForSelector('#audit-state[data-version]', { timeout: 3000 });
  const latest = await page.getAttribute('#audit-state', 'data-status');
  check(latest === 'confirmed', `the newest version shows status confirmed (was ${latest})`);
  await page.focus('#audit-slider');
  await page.keyboard.press('Home'); // the slider to version 1
  await page.waitForSelector('#audit-state[data-version="1"]', { timeout: 3000 });
  await page.waitForFunction(() => document.querySelector('#audit-state').dataset.status === 'placed',
    null, { timeout: 3000 }).catch(() => { throw new Failure('version 1 does not show status placed'); });

  // Projections and inventory are shown.
  await page.waitForSelector('#projections-body tr[data-name="inventory_levels"]', { timeout: 5000 });
  await page.waitForFunction(() => {
    const row = document.querySelector('#inventory-body tr[data-sku="tea"]');
    return row && row.children[4].textContent === '9';
  }, null, { timeout: 5000 }).catch(() => { throw new Failure('inventory of tea (9 available) not shown'); });
  await page.waitForFunction(() => document.querySelectorAll('#plot-rates canvas').length > 0,
    null, { timeout: 5000 }).catch(() => { throw new Failure('the throughput plot was not drawn'); });
  check(outside.length === 0, 'the page loads nothing from outside the node: ' + outside.join(' '));
  await shot(page, 'page');
  await killNode(node.child);
}

async function caseRestart(browser, data) {
  let node = await startNode({ data });
  await seedShop(node.url);
  const a = await placeOrder(node.url, 'ann');
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(node.url + '/');
  await waitLive(page);
  await page.waitForSelector(`#live-body tr[data-position="${a.position}"]`, { timeout: 3000 });

  // Stop the node (kill -9): the page notices and keeps trying.
  await killNode(node.child, 'SIGKILL');
  await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 5000 })
    .catch(() => { throw new Failure('the page did not notice the node went away'); });
  await shot(page, 'disconnected');
  const seenBefore = await page.evaluate(() => window.annalPage.live.lastId);

  // Restart on the same port and write at once, before the page is back: those events
  // reach it from the journal when it resumes.
  node = await startNode({ data, port: node.port });
  const b = await placeOrder(node.url, 'bob');
  await page.waitForSelector(`#live-body tr[data-position="${b.position}"]`, { timeout: 10000 })
    .catch(() => { throw new Failure('the page did not reconnect and show the new order'); });
  await waitLive(page);
  const c = await placeOrder(node.url, 'cid'); // and live again afterwards
  await page.waitForSelector(`#live-body tr[data-position="${c.position}"]`, { timeout: 3000 });
  // Fulfilment's events too: wait until the page has seen the journal's end.
  const head = async () => (await call(node.url, 'GET', '/health')).json.position;
  const deadline = Date.now() + 10000;
  let journalHead = await head();
  while (Date.now() < deadline) {
    const lastId = await page.evaluate(() => window.annalPage.live.lastId);
    journalHead = await head();
    if (lastId === journalHead) break;
    await page.waitForTimeout(100);
  }
  const live = await page.evaluate(() => window.annalPage.live);
  const journal = (await call(node.url, 'GET', '/events?after=0&limit=1000')).json.events.map((e) => e.position);
  log('journal positions', journal.length, 'page received', live.received.length, 'connects', live.connects,
      'last seen before the restart', seenBefore);
  check(live.connects >= 2, 'the page reconnected');
  check(live.duplicates === 0, 'no event twice');
  check(live.markers.length === 0, 'no skip or reset marker');
  check(JSON.stringify(live.received) === JSON.stringify(journal),
        `the page saw exactly the journal's events, in order, no gap: page [${live.received}] journal [${journal}]`);
  await shot(page, 'resumed');
  await killNode(node.child);
}

async function caseToken(browser, data) {
  const secret = 's3cret-token';
  const node = await startNode({ data, token: secret });
  await seedShop(node.url, secret);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(node.url + '/');
  // Refused until the token is entered: the dialog asks, nothing is shown.
  await page.waitForSelector('#token-dialog[open]', { timeout: 5000 })
    .catch(() => { throw new Failure('the page did not ask for the token'); });
  check(await page.isHidden('#main'), 'nothing is shown before the token');
  check((await page.$$('#projections-body tr')).length === 0, 'no data before the token');
  await shot(page, 'asks');

  await page.fill('#token-input', 'wrong');
  await page.click('#token-submit');
  await page.waitForFunction(() => document.querySelector('#token-dialog').open
    && document.querySelector('#token-why').textContent.includes('refused'), null, { timeout: 5000 })
    .catch(() => { throw new Failure('a wrong token was not refused'); });
  check(await page.isHidden('#main'), 'nothing is shown after a wrong token');
  await shot(page, 'refused');

  await page.fill('#token-input', secret);
  await page.click('#token-submit');
  await page.waitForSelector('#projections-body tr[data-name="catalog"]', { timeout: 5000 })
    .catch(() => { throw new Failure('the page shows no data after the right token'); });
  await waitLive(page);
  const order = await placeOrder(node.url, 'ann', secret);
  await page.waitForSelector(`#live-body tr[data-position="${order.position}"]`, { timeout: 1000 })
    .catch(() => { throw new Failure('with the token, the live list does not show the order within 1 s'); });
  // The token stays in the tab (a reload does not ask again) and never in a URL.
  await page.reload();
  await waitLive(page);
  check(!(await page.isVisible('#token-dialog')), 'a reload in the same tab does not ask again');
  check(await page.evaluate(() => sessionStorage.getItem('annal.token')) === secret, 'kept in sessionStorage');
  check(urls.every((u) => !u.includes(secret)), 'the token appears in no URL');
  await shot(page, 'accepted');
  await killNode(node.child);
}

async function caseDocs(browser, data) {
  const node = await startNode({ data, token: 'docs-token' });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // The description and its rendering are public (they hold no data).
  const doc = await call(node.url, 'GET', '/openapi.json');
  check(doc.status === 200 && doc.json && doc.json.openapi === '3.1.0', 'GET /openapi.json is OpenAPI 3.1');
  const outside = watchOutside(page, node.url);
  await page.goto(node.url + '/docs');
  await page.locator('h2', { hasText: 'Place an order' }).first().waitFor({ timeout: 15000 })
    .catch(() => { throw new Failure('/docs did not render the API description'); });
  check(outside.length === 0, 'the docs load nothing from outside the node: ' + outside.join(' '));
  await shot(page, 'docs');
  await killNode(node.child);
}

async function caseUnbuilt(browser, data) {
  const empty = mkdtempSync(join(tmpdir(), 'annal-web-empty-'));
  try {
    const node = await startNode({ data, webRootDir: empty });
    const root = await call(node.url, 'GET', '/');
    check(root.status === 404 && root.text.includes('npm --prefix web run build'), '/ says how to build the page');
    check((await call(node.url, 'GET', '/health')).status === 200, 'the API runs without the page');
    const page = await browser.newPage();
    await page.goto(node.url + '/');
    await shot(page, 'not-built');
    await killNode(node.child);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

const cases = { live: caseLive, restart: caseRestart, token: caseToken, docs: caseDocs, unbuilt: caseUnbuilt };

async function main() {
  if (!cases[testCase]) {
    console.error('usage: node page_test.mjs live|restart|token|docs|unbuilt --node BIN [--web-root DIR] [--out DIR]');
    process.exit(2);
  }
  check(nodeBin, '--node BIN is required');
  const data = mkdtempSync(join(tmpdir(), 'annal-web-'));
  const browser = await openBrowser();
  const guard = setTimeout(() => { console.error('FAIL: the case took over 90 s'); cleanup(); process.exit(1); }, 90000);
  try {
    await cases[testCase](browser, data);
    log(`PASS ${testCase}`);
  } finally {
    clearTimeout(guard);
    await browser.close();
    cleanup();
    rmSync(data, { recursive: true, force: true });
  }
}

function cleanup() {
  for (const c of children) {
    try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

main().catch((e) => {
  console.error('FAIL:', e instanceof Failure ? e.message : (e && e.stack) || e);
  cleanup();
  process.exit(1);
});
