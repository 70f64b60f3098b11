// Builds the page's static files into dist/ (served by shop-node from --web-root): the
// page's own sources, uPlot for the plots and Redoc's standalone bundle for /docs, from
// node_modules (npm ci). No bundler: the page is three small files.
import { cpSync, mkdirSync, rmSync, renameSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const staging = join(here, 'dist.tmp');
const files = [
  ['src/index.html', 'index.html'],
  ['src/app.js', 'app.js'],
  ['src/app.css', 'app.css'],
  ['src/docs.html', 'docs.html'],
  ['node_modules/uplot/dist/uPlot.iife.min.js', 'uPlot.iife.min.js'],
  ['node_modules/uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ['node_modules/redoc/bundles/redoc.standalone.js', 'redoc.standalone.js'],
];

rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
for (const [from, to] of files) {
  const src = join(here, from);
  if (!existsSync(src)) {
    console.error(`build: ${from} is missing (run npm ci in web/ first)`);
    process.exit(1);
  }
  cpSync(src, join(staging, to));
}
// Redoc's side menu shows a logo loaded from the vendor's CDN: the page must load
// nothing from outside the node, so it points at nothing (Redoc hides an image that fails).
const redoc = join(staging, 'redoc.standalone.js');
const cdnLogo = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const bundle = readFileSync(redoc, 'utf8');
if (bundle.includes(cdnLogo)) writeFileSync(redoc, bundle.split(cdnLogo).join('data:,'));

// Swap in one step, so that a running node never serves a half-built folder.
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
console.log(`build: ${files.length} files in ${out}`);
