// Widget load in headless Chromium, for `cargo xtask bench` (docs/benchmarks.md).
//
// A minimal host page on one origin embeds the widget from the real verifier
// (spawned binary) on another, reserving the widget's space with the rule docs/embedding.md recommends
// (the same as the loader's own, needed because the page paints first). Each load runs in a fresh tab with the HTTP cache disabled (a first
// visit) and records, in the page's own clock:
//   interactive_ms         navigation start → the first control of the widget's
//                          form exists in the shadow root and is enabled (a
//                          MutationObserver on every shadow root the page attaches)
//   after_loader_ms        the same, from the start of the widget.js request
//   task_ms / script_ms    main-thread busy time / script time of the page until
//                          interactive (CDP Performance.getMetrics; the host page
//                          itself does almost nothing)
//   long_tasks_ms          sum of long tasks (> 50 ms) until interactive
//   cls                    cumulative layout shift of the host page, 500 ms after
// and prints one JSON object on stdout: medians and every run.
//
// Environment: RECORDPASS_VERIFIER_BIN, RECORDPASS_WIDGET_DIST, RECORDPASS_CHROMIUM,
// BENCH_LOADS (default 10; one more untimed load warms Chromium first).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';
import { encryptionSection } from '../browser/support.mjs';

const VERIFIER_BIN = required('RECORDPASS_VERIFIER_BIN');
const WIDGET_DIST = required('RECORDPASS_WIDGET_DIST');
const CHROMIUM = process.env.RECORDPASS_CHROMIUM ?? '/usr/bin/chromium';
const LOADS = Number(process.env.BENCH_LOADS ?? 10);
const SETTLE_MS = 500;

/** Runs in the page before any of its scripts. */
function instrument() {
  // The widget's first step is a form; its first control (a field, or the
  // "start" button of an introduction) is what a requester uses first.
  const FORM_CONTROL = 'form input, form select, form textarea, form button';
  const bench = (window.__bench = { interactive: null, cls: 0, longTasks: 0, longTaskMs: 0 });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) bench.cls += e.value;
  }).observe({ type: 'layout-shift', buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (bench.interactive !== null) continue;
      bench.longTasks += 1;
      bench.longTaskMs += e.duration;
    }
  }).observe({ type: 'longtask', buffered: true });
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    new MutationObserver(() => {
      if (bench.interactive !== null) return;
      const field = root.querySelector(FORM_CONTROL);
      if (field && !field.disabled) bench.interactive = performance.now();
    }).observe(root, { childList: true, subtree: true, attributes: true });
    return root;
  };
}

const cleanups = [];
try {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-bench-'));
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  const site = await startSite();
  cleanups.push(() => new Promise((resolve) => site.server.close(resolve)));
  const config = path.join(tmp, 'recordpass.toml');
  const database = path.join(tmp, 'recordpass.db');
  await fs.writeFile(config, verifierConfig(database, site.origin) + await encryptionSection(database));
  const verifier = await startVerifier(config);
  cleanups.push(verifier.stop);
  site.snippet = (await (await fetch(`${verifier.url}/embed.json`)).json()).snippet;

  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-bench-chromium-'));
  cleanups.push(() => fs.rm(profile, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  cleanups.push(() => browser.close());
  await browser.addInitScript(instrument);

  const runs = [];
  for (let i = 0; i <= LOADS; i += 1) {
    const run = await load(browser, site.origin);
    if (i > 0) runs.push(run); // the first load only warms Chromium up
  }
  const keys = Object.keys(runs[0]);
  const median = Object.fromEntries(keys.map((k) => [k, medianOf(runs.map((r) => r[k]))]));
  console.log(JSON.stringify({ loads: runs.length, median, runs }));
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error('cleanup:', e));
}

/** One cold load of the host page in a new tab. */
async function load(browser, origin) {
  const page = await browser.newPage();
  try {
    const cdp = await browser.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()} ${msg.location().url}`));
    page.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`));
    await page.goto(`${origin}/`);
    await page
      .waitForFunction(() => window.__bench.interactive !== null, null, { timeout: 20_000 })
      .catch(async (err) => {
        const shown = await page.evaluate(() => document.querySelector('recordpass-request')?.shadowRoot?.innerHTML);
        throw new Error(`the widget never became interactive: ${err.message}\n${problems.join('\n')}\n${shown}`);
      });
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    await page.waitForTimeout(SETTLE_MS);
    const seen = await page.evaluate(() => {
      const loader = performance.getEntriesByType('resource').find((e) => /\/widget(-[0-9a-f]{16})?\.js$/.test(e.name));
      const { interactive, cls, longTasks, longTaskMs } = window.__bench;
      const host = document.querySelector('recordpass-request').getBoundingClientRect().height;
      return { interactive, loaderStart: loader?.startTime ?? NaN, cls, longTasks, longTaskMs, host };
    });
    return {
      interactive_ms: seen.interactive,
      after_loader_ms: seen.interactive - seen.loaderStart,
      task_ms: metric('TaskDuration'),
      script_ms: metric('ScriptDuration'),
      long_tasks: seen.longTasks,
      long_tasks_ms: seen.longTaskMs,
      cls: seen.cls,
      widget_height_px: seen.host,
    };
  } finally {
    await page.close();
  }
}

function medianOf(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run \`cargo xtask bench\`)`);
  return value;
}

/** The host page: a heading, the widget with its space reserved, text after it. */
function hostPage(snippet) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Recordpass bench host</title>
<style>body { font: 16px/1.5 sans-serif; margin: 2rem; } recordpass-request { display: block; min-block-size: max(24em, calc(45em - 48cqi)); }</style>
</head>
<body>
<h1>Request your medical records</h1>
${snippet}
<p>Text after the widget: it must not move while the widget loads.</p>
</body>
</html>`;
}

/** Serves the host page at http://localhost:PORT/ once `site.snippet` is set. */
async function startSite() {
  const site = { snippet: null };
  site.server = http.createServer((req, res) => {
    if (req.url !== '/' || !site.snippet) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(hostPage(site.snippet));
  });
  site.server.listen(0, '127.0.0.1');
  await once(site.server, 'listening');
  site.origin = `http://localhost:${site.server.address().port}`;
  return site;
}

/** Demo-outbox mode: no email is sent while loading the form. */
function verifierConfig(database, siteOrigin) {
  const str = JSON.stringify;
  return `listen = "127.0.0.1:0"
database_url = ${str(`sqlite://${database}`)}
widget_dir = ${str(WIDGET_DIST)}

[relying_party]
id = "localhost"
name = "Riverside General Hospital"

[[sites]]
id = "bench"
name = "Riverside General Hospital"
him_phone = "+1 (555) 010-0100"
origins = [${str(siteOrigin)}]

[email]
mode = "demo-outbox"
`;
}

/** Starts `serve` and resolves once it prints `listening on http://HOST:PORT`. */
async function startVerifier(config) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RECORDPASS_')));
  const child = spawn(VERIFIER_BIN, ['serve', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the verifier did not start within 30 s\n${log}`)), 30_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const listening = /listening on http:\/\/\S+:(\d+)/.exec(line);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1]);
      }
    });
    exited.then(([code, signal]) => reject(new Error(`the verifier exited (${code ?? signal})\n${log}`)));
  });
  // WebAuthn's RP ID is `localhost`: the widget reaches the verifier by that name.
  return { url: `http://localhost:${port}`, stop };
}
