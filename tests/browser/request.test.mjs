// End to end, in headless Chromium: a hospital page on one origin embeds the
// widget from the verifier on another; a requester fills in the form, confirms
// their email with the code the verifier sends over SMTP (to a receiver this
// test runs), creates a passkey (CDP virtual authenticator), signs, and gets a
// request number; the verifier's CLI then shows the stored, signed request.
//
// Run by `cargo xtask test`, which builds everything first and passes:
//   RECORDPASS_VERIFIER_BIN  the verifier binary
//   RECORDPASS_WIDGET_DIST   target/widget/dist (built widget + manifest.json)
//   RECORDPASS_CHROMIUM      the Chromium binary (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { decodeQuotedPrintable, startSmtp } from './smtp.mjs';

const repo = path.resolve(import.meta.dirname, '..', '..');
const VERIFIER_BIN =
  process.env.RECORDPASS_VERIFIER_BIN ?? path.join(repo, 'target/debug/recordpass-verifier');
const WIDGET_DIST = process.env.RECORDPASS_WIDGET_DIST ?? path.join(repo, 'target/widget/dist');
const CHROMIUM = process.env.RECORDPASS_CHROMIUM ?? '/usr/bin/chromium';
const SITE_DIR = path.join(repo, 'demo-site');
const SNIPPET_MARKER = '<!-- RECORDPASS SNIPPET -->';

const HOSPITAL = 'Riverside General Hospital';
const PATIENT = {
  name: 'Ana María Quiñones',
  dateOfBirth: '1984-03-07',
  email: 'ana.quinones@example.org',
};

/** The environment minus RECORDPASS_* (the verifier reads those as config overrides). */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('RECORDPASS_')),
);

test('a requester signs a records request on a hospital page', { timeout: 180_000 }, async () => {
  for (const [what, file] of [
    ['verifier binary', VERIFIER_BIN],
    ['widget build', path.join(WIDGET_DIST, 'manifest.json')],
    ['Chromium', CHROMIUM],
  ]) {
    await fs.access(file).catch(() => assert.fail(`${what} missing at ${file}: run \`cargo xtask build\``));
  }

  const cleanups = [];
  const log = { verifier: '' };
  const problems = []; // console errors, page errors, failed requests
  try {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-e2e-'));
    cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));

    // The page's origin must be in the verifier's config, so the site starts first.
    const site = await startSite();
    cleanups.push(() => new Promise((resolve) => site.server.close(resolve)));

    const smtp = await startSmtp();
    cleanups.push(smtp.close);

    const config = path.join(tmp, 'recordpass.toml');
    await fs.writeFile(config, verifierConfig({
      database: path.join(tmp, 'recordpass.db'),
      siteOrigin: site.origin,
      smtpPort: smtp.port,
    }));
    const verifier = await startVerifier(config, log);
    cleanups.push(verifier.stop);

    const embed = await (await fetch(`${verifier.url}/embed.json`)).json();
    assert.ok(embed.script_url.startsWith(`${verifier.url}/`), `script_url ${embed.script_url}`);
    assert.ok(embed.snippet.includes(embed.script_url) && embed.snippet.includes(embed.integrity));
    site.snippet = embed.snippet;
    site.csp = contentSecurityPolicy(verifier.url);

    const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-chromium-'));
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
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);

    const requested = [];
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`));
    page.on('response', (res) => res.status() >= 400 && problems.push(`HTTP ${res.status()}: ${res.url()}`));
    page.on('request', (req) => requested.push(req.url()));

    // A platform authenticator with user verification, like a phone's.
    const cdp = await browser.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });

    // Playwright's CSS selectors pierce the widget's open shadow root.
    const widget = (testId) => page.locator(`recordpass-request [data-testid="${testId}"]`);
    await page.goto(`${site.origin}/`);
    await widget('patient-name').fill(PATIENT.name);
    await widget('date-of-birth').fill(PATIENT.dateOfBirth);
    await widget('email').fill(PATIENT.email);
    await widget('record-lab_results').check();
    await widget('review').click();

    // "Check your email": the code arrives over SMTP; one wrong try first.
    const mail = await smtp.next(PATIENT.email);
    const text = decodeQuotedPrintable(mail.data);
    const code = /records request code is (\d{6})\./.exec(text)?.[1];
    assert.ok(code, `the email carries a 6-digit code:\n${text}`);
    assert.ok(!text.includes(PATIENT.name) && !text.includes(PATIENT.dateOfBirth), 'no health details in the email');
    const input = widget('email-code');
    assert.equal(await input.getAttribute('inputmode'), 'numeric');
    assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
    await input.fill(code === '000000' ? '111111' : '000000');
    await widget('verify-code').click();
    await widget('code-error').waitFor({ state: 'visible' });
    assert.match(await widget('code-error').innerText(), /4 more tries/);
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    await input.fill(code);
    await widget('verify-code').click();

    const statement = await widget('statement').innerText();
    for (const part of [PATIENT.name, PATIENT.dateOfBirth, PATIENT.email, HOSPITAL]) {
      assert.ok(statement.includes(part), `the statement shows ${part}:\n${statement}`);
    }

    await widget('create-passkey').click();
    await widget('sign').click();
    await widget('request-number').waitFor({ state: 'visible' });
    const requestNumber = (await widget('request-number').innerText()).trim();
    assert.match(requestNumber, /^[A-Z0-9][A-Z0-9-]{5,}$/, 'a request number is shown');

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'one passkey was created');
    assert.equal(credentials[0].rpId, 'localhost');
    assert.ok(credentials[0].signCount >= 1, `the passkey signed (signCount ${credentials[0].signCount})`);

    const submissions = await listSubmissions(config);
    assert.equal(submissions.length, 1, JSON.stringify(submissions, null, 2));
    const [stored] = submissions;
    assert.equal(stored.request_number, requestNumber);
    assert.match(stored.digest, /^[0-9a-f]{64}$/);
    assert.equal(stored.document?.request?.patient_name, PATIENT.name);
    assert.equal(stored.user_verified, true, 'the passkey verified the user');
    assert.ok(
      Buffer.from(stored.credential_id, 'base64url').equals(Buffer.from(credentials[0].credentialId, 'base64')),
      'signed with the passkey the browser created',
    );
    const words = (text) => text.replace(/\s+/g, ' ').trim();
    assert.ok(words(statement).includes(words(stored.document.statement)), 'the signed statement is the one shown');

    // The one wrong code was answered 400 on purpose; nothing else may fail.
    const expected = (p) => /^HTTP 400: .*\/api\/v1\/email-codes\/[^/]+\/verify$/.test(p);
    assert.equal(problems.filter(expected).length, 1, 'the wrong code was refused once');
    assert.deepEqual(problems.filter((p) => !expected(p) && !/status of 400/.test(p)), [], 'no errors in the page');
    const allowed = new Set([site.origin, verifier.url]);
    const foreign = requested.filter((url) => !allowed.has(new URL(url).origin));
    assert.deepEqual(foreign, [], 'the page talks only to itself and the verifier');
    assert.ok(requested.some((url) => url.startsWith(`${verifier.url}/api/`)), 'the widget called the API');
  } catch (err) {
    err.message += `\n--- page problems ---\n${problems.join('\n')}\n--- verifier output ---\n${log.verifier}`;
    throw err;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err) => console.error('cleanup:', err));
    }
  }
});

/** A verifier config like verifier/recordpass.example.toml, on a free port. */
function verifierConfig({ database, siteOrigin, smtpPort }) {
  const str = JSON.stringify; // TOML basic strings accept JSON's escapes.
  return `listen = "127.0.0.1:0"
database_url = ${str(`sqlite://${database}`)}
widget_dir = ${str(WIDGET_DIST)}
ceremony_ttl_secs = 300

[relying_party]
id = "localhost"
name = ${str(HOSPITAL)}

[[sites]]
id = "demo"
name = ${str(HOSPITAL)}
him_phone = "+1 (555) 010-0100"
origins = [${str(siteOrigin)}]

[email]
mode = "smtp"

[smtp]
host = "127.0.0.1"
port = ${smtpPort}
tls = "none"
from = ${str(`${HOSPITAL} <records@localhost>`)}
`;
}

/**
 * Serves demo-site/ at http://localhost:PORT, pasting `site.snippet` into the
 * page and sending `site.csp`, as `cargo xtask demo` does.
 */
async function startSite() {
  const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  const index = await fs.readFile(path.join(SITE_DIR, 'index.html'), 'utf8');
  assert.ok(index.includes(SNIPPET_MARKER), `demo-site/index.html lacks ${SNIPPET_MARKER}`);
  const site = { snippet: null, csp: null };
  site.server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    const name = pathname === '/' ? 'index.html' : pathname.slice(1);
    const type = types[path.extname(name)];
    const body = /^[\w-]+\.\w+$/.test(name) && type
      ? await fs.readFile(path.join(SITE_DIR, name)).catch(() => null)
      : null;
    if (!body) return res.writeHead(404).end();
    const headers = { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    if (name !== 'index.html') return res.writeHead(200, headers).end(body);
    if (!site.snippet) return res.writeHead(503).end();
    res.writeHead(200, { ...headers, 'content-security-policy': site.csp });
    res.end(body.toString().replace(SNIPPET_MARKER, site.snippet));
  });
  site.server.listen(0, '127.0.0.1');
  await once(site.server, 'listening');
  site.origin = `http://localhost:${site.server.address().port}`;
  return site;
}

/** The demo server's policy (xtask/src/demo.rs): self plus the verifier. */
function contentSecurityPolicy(verifier) {
  return [
    "default-src 'self'",
    `script-src 'self' ${verifier} 'wasm-unsafe-eval'`,
    `connect-src ${verifier}`,
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Starts `serve` and resolves once it prints `listening on http://HOST:PORT`. */
async function startVerifier(config, log) {
  const child = spawn(VERIFIER_BIN, ['serve', '--config', config], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (chunk) => (log.verifier += chunk));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  let timer;
  const port = await new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('the verifier did not start within 30 s')), 30_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      log.verifier += `${line}\n`;
      const listening = /listening on http:\/\/\S+:(\d+)/.exec(line);
      if (listening) resolve(listening[1]);
    });
    exited.then(([code, signal]) => reject(new Error(`the verifier exited (${code ?? signal}) before listening`)));
    child.on('error', reject);
  })
    .catch(async (err) => {
      await stop();
      throw err;
    })
    .finally(() => clearTimeout(timer));
  // WebAuthn's RP ID is `localhost`: the widget must reach the verifier by that name.
  return { url: `http://localhost:${port}`, stop };
}

/** `recordpass-verifier submissions list --json`: an array, newest first. */
async function listSubmissions(config) {
  const { stdout } = await promisify(execFile)(
    VERIFIER_BIN,
    ['submissions', 'list', '--config', config, '--json'],
    { env: childEnv },
  );
  return JSON.parse(stdout);
}
