// Helpers shared by the browser tests: a demo-outbox verifier for the demo
// hospital page with headless Chromium (`startDemoVerifier`), and one
// requester signing a request through the widget on it (the verifier in
// `[email] mode = "demo-outbox"`, so the email code is read from /demo/outbox).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const repo = path.resolve(import.meta.dirname, '..', '..');
export const WIDGET_DIST = process.env.RECORDPASS_WIDGET_DIST ?? path.join(repo, 'target/widget/dist');
const SITE_DIR = path.join(repo, 'demo-site');

export const VERIFIER_BIN =
  process.env.RECORDPASS_VERIFIER_BIN ?? path.join(repo, 'target/debug/recordpass-verifier');
export const CHROMIUM = process.env.RECORDPASS_CHROMIUM ?? '/usr/bin/chromium';
export const AXE_SOURCE = await fs.readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The environment minus RECORDPASS_* (the verifier reads those as config overrides). */
export const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('RECORDPASS_')),
);

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A demo-outbox verifier's configuration for the demo site at `siteOrigin` (add [`encryptionSection`]). */
export function demoConfig({ database, port, siteOrigin }) {
  return `listen = "127.0.0.1:${port}"
metrics_listen = "off"
database_url = "sqlite://${database}"
public_url = "http://localhost:${port}"
widget_dir = ${JSON.stringify(WIDGET_DIST)}
[relying_party]
id = "localhost"
name = "Riverside General Hospital"
[[sites]]
id = "demo"
name = "Riverside General Hospital"
him_phone = "+1 (555) 010-0100"
origins = ["${siteOrigin}"]
status_url = "${siteOrigin}/"
[email]
mode = "demo-outbox"
`;
}
const SNIPPET_MARKER = '<!-- RECORDPASS SNIPPET -->';

/** Writes a fresh one-key keyring next to `database`; returns the `[encryption]`
 * section that points the verifier at it (personal data is sealed with it). */
export async function encryptionSection(database) {
  const file = `${database}.keys`;
  await fs.writeFile(file, `test-1 ${crypto.randomBytes(32).toString('base64')}\n`);
  return `\n[encryption]\nkey_file = ${JSON.stringify(file)}\n`;
}

/** Headless Chromium (as root: no sandbox) with a fresh profile directory. */
export async function launchChromium(profile, options = {}) {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    ...options,
  });
}

/**
 * The set-up the console and returning-requester tests share: a temp dir, the
 * demo site, a demo-outbox verifier on a free port (SQLite, sealed with a fresh
 * keyring) and headless Chromium. `beforeServe({ configPath, port })` runs
 * once the configuration is written and before the verifier starts (CLI
 * commands); `browserOptions` go to Chromium. Returns `{ url, port, tmp,
 * configPath, site, verifier, browser, stop }`; `stop()` undoes everything
 * (also done here if the set-up fails half way).
 */
export async function startDemoVerifier({ name = 'demo', beforeServe, browserOptions } = {}) {
  const cleanups = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `recordpass-${name}-`));
    cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
    const port = await freePort();
    const configPath = path.join(tmp, 'recordpass.toml');
    const site = await startDemoSite();
    cleanups.push(site.close);
    const database = path.join(tmp, 'r.db');
    await fs.writeFile(configPath, demoConfig({ database, port, siteOrigin: site.origin }) + await encryptionSection(database));
    await beforeServe?.({ configPath, port });

    const verifier = spawn(VERIFIER_BIN, ['--config', configPath, 'serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(verifier, 'exit');
    cleanups.push(async () => {
      if (verifier.exitCode !== null || verifier.signalCode !== null) return;
      verifier.kill();
      await exited;
    });
    let listening = false;
    for await (const line of readline.createInterface({ input: verifier.stdout })) {
      if (line.startsWith('listening on')) {
        listening = true;
        break;
      }
    }
    assert.ok(listening, 'the verifier exited before listening');
    // WebAuthn's RP ID is `localhost`: the widget must reach the verifier by that name.
    const url = `http://localhost:${port}`;
    site.snippet = (await (await fetch(`${url}/embed.json`)).json()).snippet;

    const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-chromium-'));
    cleanups.push(() => fs.rm(profile, { recursive: true, force: true }));
    const browser = await launchChromium(profile, browserOptions);
    cleanups.push(() => browser.close());
    return { url, port, tmp, configPath, site, verifier, browser, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Serves demo-site/ at http://localhost:PORT (`site.origin`), pasting
 * `site.snippet` into index.html once it is set. Close with `site.close()`.
 */
export async function startDemoSite() {
  const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  const index = await fs.readFile(path.join(SITE_DIR, 'index.html'), 'utf8');
  assert.ok(index.includes(SNIPPET_MARKER), `demo-site/index.html lacks ${SNIPPET_MARKER}`);
  const site = { snippet: null };
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    const name = pathname === '/' ? 'index.html' : pathname.slice(1);
    const type = types[path.extname(name)];
    if (name === 'index.html') {
      if (!site.snippet) return res.writeHead(503).end();
      return res.writeHead(200, { 'content-type': type }).end(index.replace(SNIPPET_MARKER, site.snippet));
    }
    const body = /^[\w-]+\.\w+$/.test(name) && type
      ? await fs.readFile(path.join(SITE_DIR, name)).catch(() => null)
      : null;
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  site.origin = `http://localhost:${server.address().port}`;
  site.close = () => new Promise((resolve) => server.close(resolve));
  return site;
}

/**
 * A patient asks for their own lab results on `site` in a new tab with its own
 * virtual authenticator; returns `{ number, statement }` as the widget showed them.
 */
export async function signRequest(browser, { site, verifierUrl, email, name, dateOfBirth = '1984-03-07' }) {
  const page = await browser.newPage();
  try {
    page.setDefaultTimeout(20_000);
    const cdp = await browser.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await page.goto(`${site.origin}/`);
    const w = (testId) => page.locator(`recordpass-request [data-testid="${testId}"]`);
    await w('next').click(); // intro
    await w('requester.email').fill(email);
    await w('next').click();
    await w('patient.legal_name').fill(name);
    await w('patient.date_of_birth').fill(dateOfBirth);
    await w('next').click();
    await w('record-lab_results').check();
    await w('next').click();
    await w('method-secure_download').check();
    await w('next').click();
    await w('consent-electronic').check();
    await w('next').click();
    await w('signature').fill(name);
    await w('next').click();
    await w('email-code').fill(await outboxCode(page, verifierUrl, email));
    await w('verify-code').click();
    await w('statement').waitFor();
    const statement = await w('statement').innerText();
    await w('create-passkey').and(page.locator(':not([aria-disabled])')).click();
    await w('sign').and(page.locator(':not([aria-disabled])')).click();
    await w('request-number').waitFor({ state: 'visible' });
    return { number: (await w('request-number').innerText()).trim(), statement };
  } finally {
    await page.close();
  }
}

/** The newest 6-digit code the demo outbox shows for `email`. */
async function outboxCode(page, verifierUrl, email) {
  for (let i = 0; i < 100; i += 1) {
    const html = await (await page.request.get(`${verifierUrl}/demo/outbox`)).text();
    const codes = html
      .split('<article')
      .filter((m) => m.includes(`To: ${email}`))
      .map((m) => /\b(\d{6})\b/.exec(m.replace(/To: [^<]*/, ''))?.[1])
      .filter(Boolean);
    if (codes.length) return codes[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`no code for ${email} in the demo outbox`);
}
