// End to end, in headless Chromium: the HIM staff console. An admin is invited
// with the CLI, enrols a passkey (CDP virtual authenticator, user verification),
// signs out and back in; a patient signs a request with the widget on the demo
// page; staff open it, see the statement and the evidence checks, extend it,
// fulfil it and download its evidence bundle (which `verify-bundle` checks) and
// its printable PDF certificate; the admin places and lifts a legal hold,
// disables and re-enables the specialist, reads the audit trail and the
// accounting of disclosures, and the CLI's `audit verify` confirms the hash
// chain. axe-core scans every console page visited (WCAG 2.1 AA rules): zero
// violations.
// Run by `cargo xtask test`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { AXE_SOURCE, childEnv, signRequest, startDemoVerifier, VERIFIER_BIN } from './support.mjs';

/** Runs axe-core on the whole console page; fails on any WCAG 2.x A/AA violation. */
async function axe(page, name) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert.deepEqual(found, [], `axe violations on the ${name} page`);
  assert.ok(result.passes.length > 10, `axe ran its rules on the ${name} page`);
}

async function cli(configPath, ...args) {
  const { stdout } = await promisify(execFile)(VERIFIER_BIN, ['--config', configPath, ...args], { env: childEnv });
  return stdout;
}

test('HIM staff enrol, sign in, work a signed request, and the audit chain verifies', { timeout: 120_000 }, async () => {
  let link;
  let specialistLink;
  const { url: base, tmp, configPath, site, browser, stop } = await startDemoVerifier({
    name: 'console',
    beforeServe: async ({ configPath, port }) => {
      link = (await cli(configPath, 'staff', 'invite', '--email', 'lead@example.org', '--role', 'admin')).trim();
      assert.match(link, new RegExp(`^http://localhost:${port}/console/enrol#[A-Za-z0-9_-]{43}$`));
      specialistLink = (await cli(configPath, 'staff', 'invite', '--email', 'him@example.org', '--role', 'specialist')).trim();
    },
  });
  try {
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

    // A patient signs a request on the hospital page.
    const signed = await signRequest(browser, {
      site, verifierUrl: base, email: 'ana.quinones@example.org', name: 'Ana María Quiñones',
    });
    assert.match(signed.number, /^RP-/);

    // A specialist (admins do not work the queue) enrols and opens it from the
    // queue: the statement as signed, every evidence check passing.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(specialistLink);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
    await axe(page, 'queue');
    await page.getByRole('link', { name: signed.number }).click();
    await page.getByRole('heading', { name: `Request ${signed.number}` }).waitFor();
    await axe(page, 'request detail');
    const words = (text) => text.replace(/\s+/g, ' ').trim();
    assert.equal(words(await page.locator('#statement').textContent()), words(signed.statement));
    assert.equal(await page.locator('#evidence-verdict').textContent(), 'verified now');
    assert.ok((await page.locator('.evidence .checks li.ok').count()) > 0, 'evidence checks are listed');
    assert.equal(await page.locator('.evidence .checks li.bad').count(), 0, 'no evidence check fails');

    // Extend once with a reason, then in review → fulfilled.
    await page.locator('#days').fill('14');
    await page.locator('#reason').fill('Records are held off site.');
    await page.getByRole('button', { name: 'Extend' }).click();
    await page.getByText('(extended)').waitFor();
    assert.match(await page.locator('#authenticator').textContent(), /AAGUID 01020304-0506-0708-0102-030405060708/);
    await page.locator('#extension-form').waitFor({ state: 'detached' });
    for (const [to, label] of [['in_review', 'In review'], ['fulfilled', 'Fulfilled']]) {
      await page.locator('#to').selectOption(to);
      await page.getByRole('button', { name: 'Change status' }).click();
      await page.locator('#status-now', { hasText: label }).waitFor();
      // In review, the status form also asks whether a denial could be reviewed.
      if (to === 'in_review') {
        assert.equal(await page.getByRole('group', { name: /can the ground of the denial be reviewed/ }).getByRole('radio').count(), 2);
        await axe(page, 'request detail (in review)');
      }
    }
    assert.match(await page.locator('.timeline').textContent(), /Records are held off site\./);

    // The evidence bundle parses and verifies offline against the published seal key.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#bundle-link').click()]);
    const bundlePath = path.join(tmp, `${signed.number}.json`);
    await download.saveAs(bundlePath);
    const bundle = JSON.parse(await fs.readFile(bundlePath, 'utf8'));
    assert.equal(bundle.request_number, signed.number);
    // The authenticator model recorded at registration (Chrome's virtual CTAP2
    // authenticator reports this AAGUID even without attestation).
    assert.equal(bundle.webauthn.aaguid, '01020304-0506-0708-0102-030405060708');
    const sealKey = path.join(tmp, 'seal-key.json');
    await fs.writeFile(sealKey, await (await fetch(`${base}/.well-known/recordpass-seal-key`)).text());
    const { stdout: verified } = await promisify(execFile)(
      VERIFIER_BIN, ['verify-bundle', bundlePath, '--seal-key', sealKey], { env: childEnv },
    );
    assert.doesNotMatch(verified, /✗/);

    // The printable certificate downloads as a PDF.
    const [pdf] = await Promise.all([page.waitForEvent('download'), page.locator('#certificate-link').click()]);
    assert.equal(pdf.suggestedFilename(), `${signed.number}.certificate.pdf`);
    const pdfPath = path.join(tmp, pdf.suggestedFilename());
    await pdf.saveAs(pdfPath);
    const pdfBytes = await fs.readFile(pdfPath);
    assert.equal(pdfBytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pdfBytes.includes(Buffer.from(signed.number)), 'the certificate names the request');

    // Back to the admin for the audit trail.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Work email').fill('lead@example.org');
    await page.getByRole('button', { name: 'Sign in with your passkey' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();

    // Legal hold: the admin places one on the request page (a blank reason is
    // refused, the message next to the field), sees it, and lifts it.
    await page.getByRole('link', { name: signed.number }).click();
    await page.getByRole('heading', { name: `Request ${signed.number}` }).waitFor();
    await axe(page, 'request detail (admin)');
    const reason = page.getByRole('textbox', { name: /^Reason: a matter or case reference/ });
    await reason.fill('   ');
    await page.getByRole('button', { name: 'Place legal hold' }).click();
    await page.locator('#hold-reason-error').waitFor();
    assert.match(await page.locator('#hold-reason-error').textContent(), /^Nothing changed: a legal hold needs a reason/);
    assert.equal(await reason.getAttribute('aria-invalid'), 'true');
    assert.deepEqual(problems.splice(0), [`HTTP 409: ${base}/console/requests/${signed.number}/hold`]);
    await axe(page, 'request detail (hold refused)');
    await reason.fill('Litigation: matter 2026-114');
    await page.getByRole('button', { name: 'Place legal hold' }).click();
    await page.getByRole('button', { name: 'Lift legal hold' }).waitFor();
    assert.match(await page.locator('#legal-hold').textContent(), /^On hold, placed by lead@example\.org on .*: Litigation: matter 2026-114\./);
    await axe(page, 'request detail (on hold)');
    await page.getByRole('button', { name: 'Lift legal hold' }).click();
    await page.getByRole('button', { name: 'Place legal hold' }).waitFor();
    assert.equal(await page.locator('#legal-hold').textContent(), 'None');

    // Staff: disable the specialist, then re-enable them.
    await page.getByRole('link', { name: 'Staff' }).click();
    await page.getByRole('heading', { name: 'Staff' }).waitFor();
    await axe(page, 'staff');
    await page.getByRole('button', { name: 'Disable him@example.org' }).click();
    await page.getByRole('button', { name: 'Re-enable him@example.org' }).waitFor();
    assert.match(await page.locator('tr', { hasText: 'him@example.org' }).textContent(), /Disabled/);
    await axe(page, 'staff (with a disabled member)');
    await page.getByRole('button', { name: 'Re-enable him@example.org' }).click();
    await page.getByRole('button', { name: 'Disable him@example.org' }).waitFor();

    // The accounting of disclosures: a right-of-access request is not one.
    await page.getByRole('link', { name: 'Disclosures' }).click();
    await page.getByRole('heading', { name: 'Accounting of disclosures' }).waitFor();
    assert.match(await page.locator('table.disclosures caption').textContent(), /^0 disclosure\(s\)/);
    await axe(page, 'disclosures');

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.locator('#chain').waitFor();
    await axe(page, 'audit trail');
    assert.match(await page.locator('#chain').textContent(), /audit chain intact/);
    const actions = await page.locator('table.audit td:nth-child(4)').allTextContents();
    for (const action of ['staff_invite', 'staff_enrolled', 'sign_out', 'sign_in', 'view', 'extension', 'status_change', 'export_bundle',
      'export_certificate', 'staff_disabled', 'staff_enabled', 'view_disclosures', 'legal_hold_placed', 'legal_hold_lifted']) {
      assert.ok(actions.includes(action), `${action} in ${actions}`);
    }
    const res = await page.request.get(`${base}/console/audit`);
    assert.match(res.headers()['content-security-policy'], /^default-src 'self'/);

    assert.match(await cli(configPath, 'audit', 'verify'), /audit chain intact/);
    assert.deepEqual(problems, []);
  } finally {
    await stop();
  }
});
