// End to end, in headless Chromium: the HIM staff console. An admin is invited
// with the CLI, enrols a passkey (CDP virtual authenticator, user verification),
// signs out and back in, opens the queue and the audit trail, and the CLI's
// `audit verify` confirms the hash chain. Run by `cargo xtask test`.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const repo = path.resolve(import.meta.dirname, '..', '..');
const VERIFIER_BIN =
  process.env.RECORDPASS_VERIFIER_BIN ?? path.join(repo, 'target/debug/recordpass-verifier');
const CHROMIUM = process.env.RECORDPASS_CHROMIUM ?? '/usr/bin/chromium';
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('RECORDPASS_')),
);

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function config({ database, port }) {
  return `listen = "127.0.0.1:${port}"
database_url = "sqlite://${database}"
public_url = "http://localhost:${port}"
[relying_party]
id = "localhost"
name = "Riverside General Hospital"
[[sites]]
id = "demo"
name = "Riverside General Hospital"
him_phone = "+1 (555) 010-0100"
origins = ["http://localhost:8081"]
[email]
mode = "demo-outbox"
`;
}

async function cli(configPath, ...args) {
  const { stdout } = await promisify(execFile)(VERIFIER_BIN, ['--config', configPath, ...args], { env: childEnv });
  return stdout;
}

test('HIM staff enrol, sign in and the audit chain verifies', { timeout: 120_000 }, async () => {
  const cleanups = [];
  try {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-console-'));
    cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
    const port = await freePort();
    const configPath = path.join(tmp, 'recordpass.toml');
    await fs.writeFile(configPath, config({ database: path.join(tmp, 'r.db'), port }));

    const link = (await cli(configPath, 'staff', 'invite', '--email', 'lead@example.org', '--role', 'admin')).trim();
    assert.match(link, new RegExp(`^http://localhost:${port}/console/enrol#[A-Za-z0-9_-]{43}$`));

    const verifier = spawn(VERIFIER_BIN, ['--config', configPath, 'serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => verifier.kill());
    for await (const line of readline.createInterface({ input: verifier.stdout })) {
      if (line.startsWith('listening on')) break;
    }

    const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-chromium-'));
    cleanups.push(() => fs.rm(profile, { recursive: true, force: true }));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanups.push(() => browser.close());
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && problems.push(`HTTP ${r.status()}: ${r.url()}`));
    const cdp = await browser.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });

    await page.goto(link);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Work email').fill('lead@example.org');
    await page.getByRole('button', { name: 'Sign in with your passkey' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.locator('#chain').waitFor();
    assert.match(await page.locator('#chain').textContent(), /audit chain intact/);
    const actions = await page.locator('table.audit td:nth-child(4)').allTextContents();
    for (const action of ['staff_invite', 'staff_enrolled', 'sign_out', 'sign_in']) {
      assert.ok(actions.includes(action), `${action} in ${actions}`);
    }
    const res = await page.request.get(`http://localhost:${port}/console/audit`);
    assert.match(res.headers()['content-security-policy'], /^default-src 'self'/);

    assert.match(await cli(configPath, 'audit', 'verify'), /audit chain intact/);
    assert.deepEqual(problems, []);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
});
