// Opens N tabs of the operations page in headless Chromium and keeps them open (live
// list, plots, polling) until killed; prints "ready" once every tab is live. For
// page_clients_bench.sh.   node hold_pages.mjs URL N
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(resolve(here, '../../web'), 'package.json'));
const { chromium } = require('playwright-core');
const [url, n] = [process.argv[2], Number(process.argv[3] || 3)];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
                                        handleSIGTERM: false, handleSIGINT: false });
const pages = [];
for (let i = 0; i < n; i++) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url + '/');
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
  // Responsiveness (FRAME_STATS=1): the longest gap between two animation frames, and
  // frames over 100 ms. It makes Chromium draw every frame, which costs CPU of its own.
  if (process.env.FRAME_STATS === '1') await page.evaluate(() => {
    window.frameStats = { max: 0, slow: 0, frames: 0 };
    let last = performance.now();
    const tick = (t) => {
      const gap = t - last;
      last = t;
      window.frameStats.frames++;
      window.frameStats.max = Math.max(window.frameStats.max, gap);
      if (gap > 100) window.frameStats.slow++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  // Main-thread time (script, layout, style) from the DevTools protocol's counters.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  page.cdp = cdp;
  page.metrics0 = await metrics(cdp);
  pages.push(page);
}
const startedAt = Date.now();
console.log('ready');

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}
const stop = async () => {
  const received = [];
  for (const p of pages) {
    received.push(await p.evaluate(() => {
      const f = window.frameStats;
      const frames = f ? `, ${f.frames} frames, longest frame gap ${Math.round(f.max)} ms, ${f.slow} over 100 ms` : '';
      return `${window.annalPage.live.total} events${frames}`;
    }).catch((e) => 'gone: ' + String(e.message || e).slice(0, 200)));
    try {
      const m1 = await metrics(p.cdp);
      const m0 = p.metrics0;
      const secs = (Date.now() - startedAt) / 1000;
      const pct = (k) => Math.round((100 * (m1[k] - m0[k])) / secs);
      received[received.length - 1] += `, main thread busy ${pct('TaskDuration')}% of ${secs.toFixed(0)} s`
        + ` (script ${pct('ScriptDuration')}%, layout ${pct('LayoutDuration')}%, style ${pct('RecalcStyleDuration')}%)`;
    } catch { /* gone */ }
  }
  console.error('tabs:', received.join('; '));
  await browser.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, 600000); // bounded
