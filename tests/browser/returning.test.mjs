// End to end, in headless Chromium: a returning requester. A parent signs a
// request for one child with the widget (email code, new passkey in a CDP
// virtual authenticator with resident keys), reloads the page, signs in with
// that passkey from the intro's "Already sent a request?" action, sees the
// request's status and downloads its receipt, then starts a second request for
// another child that is signed with the same passkey and no email code. A
// `#recordpass-status` link opens the sign-in view directly, and a browser
// without a passkey is told so. axe-core scans every new view.
// Run by `cargo xtask test` (or see tests/browser/request.test.mjs for the env).

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { test } from 'node:test';
import { AXE_SOURCE, startDemoVerifier } from './support.mjs';

/** Every 6-digit code in the demo outbox for `email`. */
async function outboxCodes(page, verifierUrl, email) {
  const html = await (await page.request.get(`${verifierUrl}/demo/outbox`)).text();
  return html
    .split('<article')
    .filter((m) => m.includes(`To: ${email}`))
    .map((m) => /\b(\d{6})\b/.exec(m.replace(/To: [^<]*/, ''))?.[1])
    .filter(Boolean);
}

test('a returning guardian signs in, sees the status and signs for a second child without an email code', { timeout: 180_000 }, async () => {
  const { url: verifierUrl, site, browser, stop } = await startDemoVerifier({
    name: 'returning',
    browserOptions: { acceptDownloads: true },
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    const cdp = await browser.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    const w = (testId) => page.locator(`recordpass-request [data-testid="${testId}"]`);
    const ready = (testId) => w(testId).and(page.locator(':not([aria-disabled])'));
    const focused = () => page.evaluate(() => {
      let el = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el ? `${el.tagName.toLowerCase()}:${el.textContent.trim()}` : '';
    });
    const axe = async (what) => {
      await page.evaluate(AXE_SOURCE);
      const result = await page.evaluate(() =>
        window.axe.run('recordpass-request', {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
        }));
      const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
      assert.deepEqual(found, [], `axe violations on ${what}`);
    };
    const childRequest = async ({ child, dateOfBirth, emailPrefilled }) => {
      await w('role-parent_or_guardian').check();
      await w('requester.name').fill('Luis Gómez');
      await w('relationship-father').check();
      if (emailPrefilled) {
        assert.equal(await w('requester.email').inputValue(), 'luis@example.org', 'the passkey\'s address is filled in');
      } else {
        await w('requester.email').fill('luis@example.org');
      }
      await w('next').click();
      await w('patient.legal_name').fill(child);
      await w('patient.date_of_birth').fill(dateOfBirth);
      await w('next').click();
      await w('record-immunizations').check();
      await w('next').click();
      await w('method-secure_download').check();
      await w('next').click();
      await w('consent-electronic').check();
      await w('next').click();
      await w('signature').fill('Luis Gómez');
      await w('next').click();
    };

    // 1. The first request, the usual way: email code, new passkey, sign.
    await page.goto(`${site.origin}/`);
    await w('next').click();
    await childRequest({ child: 'Sofía Gómez Ruiz', dateOfBirth: '2015-06-01' });
    let codes = [];
    for (let i = 0; i < 100 && !codes.length; i += 1) {
      codes = await outboxCodes(page, verifierUrl, 'luis@example.org');
      if (!codes.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(codes.length, 1);
    await w('email-code').fill(codes[0]);
    await w('verify-code').click();
    await ready('create-passkey').click();
    await ready('sign').waitFor();
    assert.equal(await w('passkey-created').innerText(), 'Passkey created.');
    assert.equal(await w('passkey-reused').count(), 0);
    // Still "created" once the statement is redone in another language.
    await w('lang-es').click();
    await w('passkey-created').filter({ hasText: 'Llave de acceso creada.' }).waitFor();
    await w('lang-en').click();
    await w('passkey-created').filter({ hasText: 'Passkey created.' }).waitFor();
    await ready('sign').click();
    await w('request-number').waitFor({ state: 'visible' });
    assert.match(await w('fingerprint-hint').innerText(), /You do not need it to contact the hospital/);
    const first = (await w('request-number').innerText()).trim();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true, 'the passkey is discoverable');

    // 2. Later (a fresh page load, nothing in memory): sign in from the intro.
    await page.goto(`${site.origin}/`);
    await w('open-status').click();
    await w('status-view').waitFor();
    assert.match(await focused(), /^h2:Check the status of your request/, 'focus moves to the heading');
    await axe('the sign-in view');
    await ready('sign-in').click();
    await w('requests').waitFor();
    assert.match(await focused(), /^h2:Your requests/);
    await axe('the status list');
    const item = w('request');
    assert.equal(await item.count(), 1);
    assert.equal(await item.getAttribute('data-number'), first);
    assert.equal((await w('patient').innerText()).trim(), 'Sofía Gómez Ruiz');
    assert.match(await w('request-status').innerText(), /^Received/);
    assert.match(await w('due-date').innerText(), /\d{4}/);

    // The receipt downloads, and it is the sealed bundle of that request.
    const [download] = await Promise.all([page.waitForEvent('download'), w('download-receipt').click()]);
    assert.equal(download.suggestedFilename(), `${first}.receipt.json`);
    const bundle = JSON.parse(await fs.readFile(await download.path(), 'utf8'));
    assert.equal(bundle.request_number, first);
    assert.equal(bundle.format, 'recordpass.evidence.v1');

    // 3. A second child: the form, then straight to review and signing with
    // the same passkey: no email code, no new passkey.
    await w('new-request').click();
    await childRequest({ child: 'Mateo Gómez Ruiz', dateOfBirth: '2018-09-12', emailPrefilled: true });
    await w('statement').waitFor();
    assert.equal(await w('create-passkey').count(), 0, 'no passkey to create');
    assert.equal(await w('passkey-reused').innerText(), 'You will sign with the passkey you already have.');
    assert.equal(await w('passkey-created').count(), 0, 'not told a passkey was created');
    await ready('sign').click();
    await w('request-number').waitFor({ state: 'visible' });
    const second = (await w('request-number').innerText()).trim();
    assert.notEqual(second, first);
    assert.equal((await outboxCodes(page, verifierUrl, 'luis@example.org')).length, 1, 'no second email code');
    assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);

    // A same-page link to #recordpass-status opens the view; still signed in
    // (the session is in memory), the list shows both children at once.
    await page.evaluate(() => { window.location.hash = 'recordpass-status'; });
    await w('requests').waitFor();
    assert.equal(await w('request').count(), 2);
    await axe('the status list with two requests');

    // 4. The status link from the emails opens the sign-in view directly; both
    // children are listed.
    await page.goto('about:blank'); // a fresh load, as from the email
    await page.goto(`${site.origin}/#recordpass-status`);
    await w('status-view').waitFor();
    assert.equal(await w('step-intro').count(), 0);
    await ready('sign-in').click();
    await w('requests').waitFor();
    const numbers = await w('request').evaluateAll((items) => items.map((i) => i.dataset.number));
    assert.deepEqual(numbers.sort(), [first, second].sort());

    // "Sign out" ends the session at the verifier and takes the list off the screen.
    const ended = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/session') && r.request().method() === 'DELETE');
    await w('sign-out').click();
    const signOut = await ended;
    assert.equal(signOut.status(), 204);
    await w('signed-out').waitFor();
    assert.match(await w('signed-out').innerText(), /^You are signed out\./);
    assert.equal(await w('requests').count(), 0, 'the list is gone');
    assert.match(await focused(), /^h2:Check the status of your request/);
    const token = (await signOut.request().allHeaders()).authorization;
    assert.match(token, /^Bearer ./);
    const after = await page.request.get(`${verifierUrl}/api/v1/me/requests`, { headers: { authorization: token } });
    assert.equal(after.status(), 401, 'the token no longer works');
    await axe('the signed-out view');

    // Left on screen for 15 minutes (the session's idle timeout), the list goes by itself.
    await page.goto('about:blank');
    await page.clock.install();
    await page.goto(`${site.origin}/#recordpass-status`);
    await ready('sign-in').click();
    await w('requests').waitFor();
    await page.clock.fastForward('14:50');
    assert.equal(await w('requests').count(), 1, 'still shown before 15 minutes');
    await page.clock.fastForward('00:20');
    await w('signed-out').waitFor();
    assert.match(await w('signed-out').innerText(), /signed out after 15 minutes/);
    assert.equal(await w('requests').count(), 0);

    // 5. A browser without the passkey is told so, and offered the usual route.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await page.goto('about:blank');
    await page.goto(`${site.origin}/#recordpass-status`);
    await ready('sign-in').click();
    await w('no-passkey').waitFor();
    assert.match(await focused(), /^h2:We could not sign you in/);
    await axe('the no-passkey view');
    await w('normal-route').click();
    await w('step-intro').waitFor();

    assert.deepEqual(problems, []);
  } finally {
    await stop();
  }
});
