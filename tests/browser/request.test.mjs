// End to end, in headless Chromium: a hospital page on one origin embeds the
// widget from the verifier on another; requesters walk through the steps,
// confirm their email with the code the verifier sends over SMTP (to a
// receiver this test runs), create a passkey (CDP virtual authenticator),
// sign, and get a request number; the verifier's CLI then shows the stored,
// signed request. One verifier and one browser serve every case: one per
// legal instrument (English and Spanish), an axe-core scan of every step, and
// a keyboard-only run.
//
// Run by `cargo xtask test`, which builds everything first and passes:
//   RECORDPASS_VERIFIER_BIN  the verifier binary
//   RECORDPASS_WIDGET_DIST   target/widget/dist (built widget + manifest.json)
//   RECORDPASS_CHROMIUM      the Chromium binary (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { decodeQuotedPrintable, startSmtp } from './smtp.mjs';
import {
  AXE_SOURCE, childEnv, CHROMIUM, encryptionSection, launchChromium, VERIFIER_BIN, WIDGET_DIST,
} from './support.mjs';

const repo = path.resolve(import.meta.dirname, '..', '..');
const SITE_DIR = path.join(repo, 'demo-site');
const SNIPPET_MARKER = '<!-- RECORDPASS SNIPPET -->';

const HOSPITAL = 'Riverside General Hospital';
/** Every one-time code read from SMTP: none may reach the verifier's log. */
const codesSeen = [];

test('requesters sign records requests on a hospital page', { timeout: 600_000 }, async (t) => {
  for (const [what, file] of [
    ['verifier binary', VERIFIER_BIN],
    ['widget build', path.join(WIDGET_DIST, 'manifest.json')],
    ['Chromium', CHROMIUM],
  ]) {
    await fs.access(file).catch(() => assert.fail(`${what} missing at ${file}: run \`cargo xtask build\``));
  }
  const cleanups = [];
  const log = { verifier: '' };
  try {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-e2e-'));
    cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
    const site = await startSite();
    cleanups.push(() => new Promise((resolve) => site.server.close(resolve)));
    const smtp = await startSmtp();
    cleanups.push(smtp.close);
    const config = path.join(tmp, 'recordpass.toml');
    const database = path.join(tmp, 'recordpass.db');
    await fs.writeFile(config, verifierConfig({
      database,
      siteOrigin: site.origin,
      smtpPort: smtp.port,
    }) + await encryptionSection(database));
    const verifier = await startVerifier(config, log);
    cleanups.push(verifier.stop);
    const embed = await (await fetch(`${verifier.url}/embed.json`)).json();
    assert.ok(embed.script_url.startsWith(`${verifier.url}/`), `script_url ${embed.script_url}`);
    site.snippet = embed.snippet;
    site.csp = contentSecurityPolicy(verifier.url);

    const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'recordpass-chromium-'));
    cleanups.push(() => fs.rm(profile, { recursive: true, force: true }));
    const browser = await launchChromium(profile);
    cleanups.push(() => browser.close());
    const env = { browser, site, smtp, verifier, config };

    await t.test('a patient asks for their own records (English, right of access, axe on every step)', async () => {
      const r = await requester(env, { axe: true, width: 320 });
      assert.deepEqual(r.widgetEncodings, {
        'assets/widget.js': 'br', // the release's loader, named by the snippet
        'assets/recordpass_widget.js': 'br',
        'assets/recordpass_widget_bg.wasm': 'br',
      }, 'the widget arrives brotli-compressed');
      // The page enforces Trusted Types, as a careful hospital's may: the widget loaded all the same,
      // and a script URL that did not pass a policy is still refused.
      assert.equal(await r.probeTrustedTypes(), 'TypeError');
      await r.next(); // intro
      // Who: nothing entered, so the summary names the missing email.
      await r.next();
      await r.w('error-summary').waitFor();
      assert.match(await r.w('error-summary').innerText(), /Enter your email address\./);
      assert.equal(await r.focusedTestId(), 'error-summary');
      await r.w('requester.email').fill('ana.quinones@example.org');
      await r.next();
      await r.w('patient.legal_name').fill('Ana María Quiñones');
      await r.w('patient.date_of_birth').fill('1984-03-07');
      await r.next();
      // An accidental reload keeps the answers (sessionStorage, this tab only).
      await r.page.reload();
      await r.w('step-records').waitFor();
      await r.back();
      assert.equal(await r.w('patient.legal_name').inputValue(), 'Ana María Quiñones');
      await r.next();
      await r.w('record-lab_results').check();
      await r.w('dates-ranges').check();
      await r.w('scope.date_ranges[0].start').fill('2024-05-01');
      await r.w('scope.date_ranges[0].end').fill('2024-01-01');
      await r.next();
      await r.w('error-summary').waitFor();
      assert.match(await r.w('error-summary').innerText(), /End date is before start date\./);
      await r.w('scope.date_ranges[0].end').fill('2024-12-31');
      await r.next();
      await r.w('method-secure_download').check();
      await r.next();
      await r.w('consent-electronic').check();
      await r.next();
      // Until the name is typed, the statement shows a blank where it goes;
      // the hint under the label says what to type, and the preview follows it.
      assert.match(await r.w('statement-preview').innerText(), /Signed electronically by ________ on /);
      assert.match(await r.page.locator('recordpass-request #rp-signature-hint').innerText(),
        /^Exactly as it appears in the statement: Ana María Quiñones$/);
      await r.w('signature').fill('Ana María Quiñones');
      assert.match(await r.w('statement-preview').innerText(), /Signed electronically by Ana María Quiñones on /);
      // Typing the name is not yet signing: the passkey signs, after the email code.
      assert.equal((await r.w('step-sign').locator('h2').innerText()).trim(), 'Type your name');
      assert.equal((await r.w('next').innerText()).trim(), 'Continue');
      assert.equal(await r.w('sign-later').innerText(), 'You will sign with your passkey after confirming your email.');
      const { statement, stored } = await r.finish('ana.quinones@example.org', { wrongCodeFirst: true });
      assert.match(statement, /Request for access to health records \(45 CFR 164\.524\)/);
      assert.match(statement, /from 2024-05-01 to 2024-12-31/);
      assert.equal(stored.document.request.patient.legal_name, 'Ana María Quiñones');
      assert.deepEqual(await r.storageKeys(), { session: [], local: [] }, 'nothing is left in the browser');
      r.assertClean({ wrongCodes: 1 });
    });

    await t.test('a parent directs records to a school nurse (Spanish, directive, axe)', async () => {
      const r = await requester(env, { lang: 'es', axe: true });
      await r.next();
      await r.w('role-parent_or_guardian').check();
      await r.w('requester.name').fill('Luis Gómez');
      // The relationship is a choice; "Otra" asks for it in words.
      await r.w('relationship-other').check();
      await r.w('requester.relationship.other').waitFor();
      await r.w('requester.email').fill('luis.gomez@example.org');
      assert.match(await r.w('adolescent-note').innerText(), /12 años/);
      await r.next();
      await r.w('error-summary').waitFor();
      assert.match(await r.w('error-summary').innerText(), /Diga qué relación tiene con el menor/);
      await r.w('relationship-father').check();
      assert.equal(await r.w('requester.relationship.other').count(), 0, 'the words field goes with "Otra"');
      // A father may attach proof of authority; a legal guardian must.
      assert.equal(await r.w('proof-file').count(), 1, 'a parent sees the proof field');
      await r.w('relationship-legal_guardian').check();
      await r.next();
      await r.w('proof-error').waitFor();
      assert.match(await r.w('proof-error').innerText(), /Adjunte una copia del documento que le da autoridad/);
      await r.w('relationship-father').check();
      await r.next();
      await r.w('patient.legal_name').fill('Sofía Gómez Ruiz');
      await r.w('patient.date_of_birth').fill('2015-06-01');
      await r.next();
      await r.w('record-immunizations').check();
      // A parent is told before ticking it that a minor's substance-use records need the minor's consent,
      // and ticking it anyway is refused next to the choice.
      assert.match(await r.w('sensitive-substance_use-hint').innerText(), /consentimiento del \(de la\) propio\(a\) menor/);
      await r.w('sensitive-substance_use').check();
      await r.next();
      await r.w('error-summary').waitFor();
      assert.match(await r.w('error-summary').innerText(), /Desmarque esta opción/);
      await r.w('sensitive-substance_use').uncheck();
      await r.next();
      await r.w('to-someone-else').check();
      await r.w('recipient.name').fill('Enfermería de la Escuela Lincoln');
      await r.w('recipient.send_to').fill('enfermeria@lincoln.example.org');
      assert.equal(await r.w('email-risk').innerText(), '', 'no warning before email is chosen');
      await r.w('method-email').check();
      assert.match(await r.w('email-risk').innerText(), /no está cifrado/);
      await r.next();
      await r.w('consent-electronic').check();
      await r.next();
      await r.w('signature').fill('Luis Gómez');
      const { statement, stored } = await r.finish('luis.gomez@example.org');
      assert.match(statement, /Instrucción para enviar una copia/);
      assert.match(statement, /Envíenlos a: Enfermería de la Escuela Lincoln, en enfermeria@lincoln\.example\.org/);
      assert.equal(stored.document.lang, 'es');
      assert.equal(stored.document.request.requester.role, 'parent_or_guardian');
      assert.equal(stored.document.request.requester.relationship, 'padre');
      assert.match(statement, /Yo, Luis Gómez, soy padre del \(de la\) paciente/);
      r.assertClean();
    });

    await t.test('a legal representative uploads proof and authorizes paper copies to a law office (authorization, axe)', async () => {
      const r = await requester(env, { axe: true });
      await r.next();
      await r.w('role-legal_representative').check();
      await r.w('requester.name').fill('Maya Chen');
      await r.w('requester.authority').fill('health care power of attorney signed 2024-05-01');
      await r.w('requester.email').fill('maya.chen@example.org');
      // Naming the document is not enough: a copy must be attached.
      await r.next();
      await r.w('proof-error').waitFor();
      assert.match(await r.w('proof-error').innerText(), /Attach a copy of the document that gives you authority/);
      // Proof of authority through the real file input: a PNG calling itself a
      // PDF is refused next to the field; the real PDF is uploaded and listed.
      const pdf = await fs.readFile(path.join(repo, 'request/fixtures/proof.pdf'));
      const png = await fs.readFile(path.join(repo, 'request/fixtures/proof.png'));
      const pdfSha256 = crypto.createHash('sha256').update(pdf).digest('hex');
      assert.equal(await r.w('proof-file').getAttribute('accept'), '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png');
      await r.w('proof-file').setInputFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: png });
      await r.w('proof-error').waitFor();
      assert.match(await r.w('proof-error').innerText(), /does not match what it contains/);
      await r.w('proof-file').setInputFiles({ name: 'power-of-attorney.pdf', mimeType: 'application/pdf', buffer: pdf });
      await r.w('proof-item-0').waitFor();
      assert.match(await r.w('proof-item-0').innerText(), new RegExp(`power-of-attorney\\.pdf\\s+\\(PDF, ${pdf.length} bytes\\)`));
      assert.equal(await r.w('proof-error').count(), 0, 'the earlier error is gone');
      // A reload keeps the reference to the file, never its bytes.
      await r.page.reload();
      await r.w('proof-item-0').waitFor();
      const saved = await r.page.evaluate(() => Object.values(sessionStorage).join(''));
      assert.ok(saved.includes(pdfSha256), 'the reference is kept in the tab');
      assert.ok(!saved.includes('Power of attorney') && !saved.includes('%PDF'), 'the bytes are not');
      await r.next();
      await r.w('patient.legal_name').fill('Li Chen');
      await r.w('patient.date_of_birth').fill('1950-02-14');
      await r.next();
      await r.w('record-complete_record').check();
      await r.w('sensitive-substance_use').check();
      await r.next();
      await r.w('to-someone-else').check();
      // The recipient's name has its own label, its own id and one error message;
      // the summary's link goes to the input, not to the choice above it.
      await r.w('next').click();
      await r.w('error-summary').waitFor();
      const recipientName = await r.page.evaluate(() => {
        const root = document.querySelector('recordpass-request').shadowRoot;
        const input = root.querySelector('[data-testid="recipient.name"]');
        return {
          labels: [...input.labels].map((l) => l.textContent),
          sameId: root.querySelectorAll(`[id="${input.id}"]`).length,
          errors: root.querySelectorAll(`[id="${input.id}-error"]`).length,
          describedBy: input.getAttribute('aria-describedby'),
        };
      });
      assert.deepEqual(recipientName, {
        labels: ['Name of the person or organization'],
        sameId: 1,
        errors: 1,
        describedBy: 'rp-recipient-name-error',
      });
      await r.page.getByLabel('Name of the person or organization').waitFor();
      await r.w('error-summary').locator('a[href="#rp-recipient-name"]').click();
      assert.equal(await r.focusedTestId(), 'recipient.name');
      await r.w('recipient.name').fill('Rivera & Cole LLP');
      await r.w('recipient.send_to').fill('200 Main St, Springfield, IL 62701');
      await r.w('method-mail').check();
      await r.w('authorization-note').waitFor();
      await r.next();
      await r.w('error-summary').waitFor();
      assert.match(await r.w('error-summary').innerText(), /Choose when this permission ends\./);
      await r.w('authorization.expires_on').fill(`${new Date().getUTCFullYear() + 1}-12-31`);
      await r.next();
      await r.w('consent-electronic').check();
      await r.next();
      await r.w('signature').fill('Maya Chen');
      const { statement, stored } = await r.finish('maya.chen@example.org');
      for (const element of [
        'Information to be disclosed: the complete medical record',
        'Who may disclose it: Riverside General Hospital.',
        'Who may receive it: Rivera & Cole LLP',
        'Purpose: at the request of the individual.',
        'This authorization expires on',
        'I may revoke (cancel) this authorization',
        'will not refuse to treat me',
        'may share it with others',
        'My authority: health care power of attorney signed 2024-05-01.',
        `Proof of authority attached: power-of-attorney.pdf (PDF, ${pdf.length} bytes, SHA-256 ${pdfSha256}).`,
        '42 CFR Part 2',
      ]) {
        assert.ok(statement.includes(element), `the authorization says "${element}":\n${statement}`);
      }
      assert.equal(stored.document.request.recipient.name, 'Rivera & Cole LLP');
      // The confirmation states this site's deadline and where the records really go.
      assert.equal(await r.w('next-respond').innerText(), `${HOSPITAL} must respond within 20 days.`);
      assert.equal(await r.w('next-delivery').innerText(),
        'The records will be sent to Rivera & Cole LLP (200 Main St, Springfield, IL 62701) as paper copy by mail.');
      assert.deepEqual(stored.document.request.requester.attachments, [
        { name: 'power-of-attorney.pdf', media_type: 'application/pdf', size: pdf.length, sha256: pdfSha256 },
      ]);
      // The sealed evidence bundle carries the file's digest in the signed document.
      const bundle = await exportBundle(config, stored.request_number);
      assert.ok(JSON.stringify(bundle).includes(pdfSha256), 'the bundle names the file digest');
      r.assertClean();
    });

    await t.test('an executor attaches letters testamentary and asks for the records (Spanish, right of access)', async () => {
      const r = await requester(env, { lang: 'es' });
      await r.next();
      await r.w('role-executor').check();
      await r.w('requester.name').fill('Rosa Díaz');
      await r.w('requester.authority').fill('cartas testamentarias del 2026-03-02');
      await r.w('requester.email').fill('rosa.diaz@example.org');
      await r.next();
      await r.w('proof-error').waitFor();
      assert.match(await r.w('proof-error').innerText(), /Adjunte una copia del documento que le da autoridad/);
      assert.match(await r.w('error-summary').innerText(), /Adjunte una copia/);
      const jpeg = await fs.readFile(path.join(repo, 'request/fixtures/proof.jpg'));
      await r.w('proof-file').setInputFiles({ name: 'cartas.jpg', mimeType: 'image/jpeg', buffer: jpeg });
      await r.w('proof-item-0').waitFor();
      assert.equal(await r.w('proof-error').count(), 0, 'attaching the file clears the error');
      await r.next();
      await r.w('patient.legal_name').fill('Tomás Díaz');
      await r.w('patient.date_of_birth').fill('1941-09-09');
      await r.next();
      await r.w('record-discharge_summaries').check();
      await r.next();
      await r.next(); // to me, by secure download
      await r.w('consent-electronic').check();
      await r.next();
      await r.w('signature').fill('Rosa Díaz');
      const { statement, stored } = await r.finish('rosa.diaz@example.org');
      assert.match(statement, /Solicitud de acceso a registros médicos \(45 CFR 164\.524\)/);
      assert.match(statement, /Yo, Rosa Díaz, soy el \(la\) albacea o administrador\(a\) de la sucesión del \(de la\) paciente, Tomás Díaz/);
      assert.match(statement, /Prueba de autoridad adjunta: cartas\.jpg \(JPEG/);
      assert.equal(stored.document.request.requester.role, 'executor');
      assert.equal(stored.document.lang, 'es');
      r.assertClean();
    });

    await t.test('at 200 % zoom the form reflows without sideways scrolling (WCAG 1.4.4, 1.4.10)', async () => {
      // A 1280×720 window at 200 % zoom lays out in 640×360 CSS pixels at twice the density.
      const page = await browser.newPage();
      try {
        await page.setViewportSize({ width: 640, height: 360 });
        const cdp = await browser.newCDPSession(page);
        await cdp.send('Emulation.setDeviceMetricsOverride', { width: 640, height: 360, deviceScaleFactor: 2, mobile: false });
        await page.goto(`${site.origin}/`);
        const w = (id) => page.locator(`recordpass-request [data-testid="${id}"]`);
        await w('next').waitFor();
        const overflow = () => page.evaluate(() => {
          const width = document.documentElement.clientWidth;
          const root = document.querySelector('recordpass-request').shadowRoot;
          const cut = [...root.querySelectorAll('h2, p, li, label, legend, input, select, textarea, button, summary')]
            .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > width + 1)
            .map((el) => el.dataset.testid ?? `${el.tagName.toLowerCase()}: ${el.textContent.trim().slice(0, 40)}`);
          return { scroll: document.documentElement.scrollWidth - width, cut };
        });
        const zoomed = await page.evaluate(() => window.devicePixelRatio);
        assert.equal(zoomed, 2);
        for (const [step, fill] of [
          ['intro', null],
          ['who', () => w('requester.email').fill('zoe.zoom@example.org')],
          ['patient', null],
        ]) {
          assert.deepEqual(await overflow(), { scroll: 0, cut: [] }, `nothing is cut off or scrolls sideways on ${step}`);
          if (fill) await fill();
          if (step !== 'patient') await w('next').click();
        }
        await w('patient.legal_name').waitFor();
      } finally {
        await page.close();
      }
    });

    await t.test("the element's own phone line is hidden while the form runs and shown with any failure to load", async () => {
      const fallback = 'To request your medical records, call the medical records department of Riverside General Hospital';
      // Light DOM: CSS locators also pierce the shadow root, where the alerts are paragraphs too.
      const phoneLine = (page) => page.locator('recordpass-request > p:has(a[href^="tel:"])');
      const page = await browser.newPage();
      try {
        await page.goto(`${site.origin}/`);
        await page.locator('recordpass-request [data-testid="next"]').waitFor();
        assert.ok((await phoneLine(page).textContent()).startsWith(fallback), 'the snippet carries the fallback');
        assert.equal(await phoneLine(page).isVisible(), false, 'hidden while the form runs');

        // The form's code cannot load (an outage, a proxy, a policy): the loader's alert, then the phone.
        await page.route('**/*.wasm', (route) => route.abort());
        await page.reload();
        const alert = page.locator('recordpass-request [role="alert"]');
        await alert.waitFor();
        assert.match(await alert.textContent(), /could not load/);
        await phoneLine(page).waitFor({ state: 'visible' });
        assert.equal(await page.locator('recordpass-request a[href="tel:+15550100100"]').isVisible(), true);
        await page.unroute('**/*.wasm');

        // The form runs but the verifier cannot be reached: the widget's alert, then the phone.
        await page.route('**/api/v1/sites/**', (route) => route.abort());
        await page.reload();
        await page.locator('recordpass-request [data-testid="retry"]').waitFor();
        await phoneLine(page).waitFor({ state: 'visible' });
      } finally {
        await page.close();
      }
    });

    await t.test('the whole flow works with the keyboard alone', async () => {
      const r = await requester(env);
      const k = r.keys;
      await k.press('next');
      await k.type('requester.email', 'kim.keys@example.org');
      await k.press('next');
      await k.type('patient.legal_name', 'Kim Keys');
      await k.type('patient.date_of_birth', '01021990'); // the date field's own segments: MM DD YYYY
      await k.press('next');
      await r.w('step-records').waitFor();
      await k.toggle('record-visit_notes');
      await k.press('next');
      await k.press('next'); // secure download is the default
      await k.toggle('consent-electronic');
      await k.press('next');
      await k.type('signature', 'Kim Keys');
      await k.press('next');
      const code = await r.code('kim.keys@example.org');
      await k.type('email-code', code);
      await k.press('verify-code');
      await r.w('statement').waitFor();
      await r.w('create-passkey').and(r.page.locator(':not([aria-disabled])')).waitFor();
      await k.press('create-passkey');
      await r.w('sign').and(r.page.locator(':not([aria-disabled])')).waitFor();
      // "Create my passkey" went away: focus went to "Sign my request", not to the page's <body>.
      assert.equal(await r.focusedTestId(), 'sign');
      await r.page.keyboard.press('Enter');
      await r.w('request-number').waitFor();
      r.assertClean();
    });

    await t.test('saved answers: kept as typed, restored for 30 minutes, and cleared on request', async () => {
      const r = await requester(env);
      await r.next();
      await r.w('requester.email').fill('cleo.clear@example.org');
      await r.next();
      // "Other names" keeps the text exactly as typed: no spaces added, no cursor jumps.
      const former = r.w('patient.former_names[0]');
      await former.pressSequentially('Cruz,Ortega, Ruiz');
      assert.equal(await former.inputValue(), 'Cruz,Ortega, Ruiz');
      await r.w('patient.legal_name').fill('Cleo Clear');
      // A reload restores the answers and says for how long they are kept.
      await r.page.reload();
      await r.w('step-patient').waitFor();
      assert.match(await r.w('progress-note').innerText(), /deleted 30 minutes after your last change/);
      assert.equal(await r.w('patient.legal_name').inputValue(), 'Cleo Clear');
      // Answers last changed more than 30 minutes ago are deleted, not restored.
      await r.page.evaluate(() => {
        for (const key of Object.keys(sessionStorage)) {
          const saved = JSON.parse(sessionStorage.getItem(key));
          saved.saved_at -= 31 * 60 * 1000;
          sessionStorage.setItem(key, JSON.stringify(saved));
        }
      });
      await r.page.reload();
      await r.w('step-intro').waitFor();
      assert.deepEqual(await r.storageKeys(), { session: [], local: [] }, 'the old answers are gone');
      await r.next();
      assert.equal(await r.w('requester.email').inputValue(), '');
      // "Clear my answers" asks first; "Keep my answers" keeps them.
      await r.w('requester.email').fill('cleo.clear@example.org');
      await r.next();
      await r.w('patient.legal_name').fill('Cleo Clear');
      await r.keys.press('clear-answers');
      await r.w('clear-confirm').waitFor();
      assert.equal(await r.focusedTestId(), 'clear-confirm');
      await r.w('clear-cancel').click();
      assert.equal(await r.focusedTestId(), 'clear-answers', 'focus returns to the button');
      assert.equal(await r.w('patient.legal_name').inputValue(), 'Cleo Clear');
      assert.ok((await r.storageKeys()).session.length === 1);
      await r.w('clear-answers').click();
      await r.w('clear-confirm').click();
      await r.w('step-intro').waitFor();
      assert.equal(await r.w('progress-note').innerText(), 'Your answers were deleted from this browser.');
      assert.deepEqual(await r.storageKeys(), { session: [], local: [] }, 'nothing is left in the tab');
      await r.next();
      assert.equal(await r.w('requester.email').inputValue(), '', 'the form is empty');
      r.assertClean();
    });

    await t.test('a lost answer keeps the signed request as it was and stores it once; the relationship follows the language', async () => {
      const r = await requester(env);
      const email = 'pat.parent@example.org';
      await r.next();
      await r.w('role-parent_or_guardian').check();
      await r.w('requester.name').fill('Pat Parent');
      await r.w('relationship-father').check();
      await r.w('requester.email').fill(email);
      await r.next();
      await r.w('patient.legal_name').fill('Kit Parent');
      await r.w('patient.date_of_birth').fill('2016-04-02');
      await r.next();
      await r.w('record-immunizations').check();
      await r.next();
      await r.next(); // secure download is the default
      await r.w('consent-electronic').check();
      await r.next();
      await r.w('signature').fill('Pat Parent');
      await r.next();
      // Switching to Spanish while the email code is awaited rewrites the relationship too.
      await r.w('email-code').waitFor();
      await r.w('lang-es').click();
      await r.w('email-code').fill(await r.code(email));
      await r.w('verify-code').click();
      await r.w('statement').waitFor();
      const statement = await r.w('statement').innerText();
      assert.match(statement, /soy padre del \(de la\) paciente/);
      assert.doesNotMatch(statement, /father/);
      await r.w('create-passkey').and(r.page.locator(':not([aria-disabled])')).waitFor();
      await r.w('create-passkey').click();
      await r.w('sign').and(r.page.locator(':not([aria-disabled])')).waitFor();
      assert.equal(await r.w('passkey-created').innerText(), 'Llave de acceso creada.');
      // The verifier stores the first signed finish, but its answer never arrives.
      let finishes = 0;
      await r.page.route('**/api/v1/signatures/*/finish', async (route) => {
        finishes += 1;
        if (finishes > 1) return route.continue();
        await route.fetch();
        return route.abort('connectionreset');
      });
      await r.w('sign').click();
      await r.w('outcome-unknown').waitFor();
      assert.match(await r.w('outcome-unknown').innerText(), /es posible que ya haya llegado/);
      // Until a retry is answered, neither the text nor its language can change.
      assert.equal(await r.w('lang-en').getAttribute('aria-disabled'), 'true');
      assert.equal(await r.w('edit').getAttribute('aria-disabled'), 'true');
      await r.w('lang-en').click({ force: true });
      await r.w('edit').click({ force: true });
      assert.equal(await r.w('statement').innerText(), statement, 'the same text, in the same language');
      await r.w('sign').and(r.page.locator(':not([aria-disabled])')).waitFor();
      await r.w('sign').click();
      await r.w('request-number').waitFor();
      const number = (await r.w('request-number').innerText()).trim();
      assert.equal(finishes, 2);
      const mine = (await listSubmissions(config)).filter((s) => s.document.request.requester.email === email);
      assert.deepEqual(mine.map((s) => s.request_number), [number], 'stored once, under the number shown');
      assert.equal(mine[0].document.request.requester.relationship, 'padre');
      assert.equal(await r.w('next-respond').innerText(), `${HOSPITAL} debe responder en un plazo de 20 días.`);
      assert.equal(await r.w('next-delivery').innerText(), `Se enviará a ${email} un enlace seguro para descargar los registros.`);
    });

    await t.test('after a lost answer and a reload, signing again stores the request once, under its first number', async () => {
      const r = await requester(env);
      const keys = signingKeys(r.page);
      const email = 'rey.reload@example.org';
      await loseAnswer(r, { email, name: 'Rey Reload' });
      const [first] = (await listSubmissions(config)).filter((s) => s.document.request.requester.email === email);
      assert.ok(first, 'the finish whose answer was lost was stored');
      assert.ok(keys[0], 'the signing ceremony carried an idempotency key');
      const saved = await r.savedEntry();
      assert.equal(saved.pending.key, keys[0], 'the key is kept with the answers');
      assert.equal(saved.input.signature, '', 'the typed signature is not kept');
      // A reload keeps the request locked, with the same note and "Check its status".
      await r.page.reload();
      await r.w('step-sign').waitFor();
      await r.w('outcome-unknown').waitFor();
      assert.match(await r.w('outcome-unknown').innerText(), /may already have arrived/);
      await r.w('check-status').waitFor();
      assert.equal(await r.w('back').count(), 0, 'the earlier answers cannot be changed');
      assert.equal(await r.w('lang-es').getAttribute('aria-disabled'), 'true', 'nor the language');
      assert.equal(await r.w('signature').inputValue(), '');
      // Signing again with the same passkey (no email code, no new passkey) and the same key
      // gets the earlier submission back.
      await r.w('signature').fill('Rey Reload');
      await r.w('next').click();
      await r.w('statement').waitFor();
      await r.w('outcome-unknown').waitFor();
      await r.w('sign').and(r.page.locator(':not([aria-disabled])')).click();
      await r.w('request-number').waitFor();
      assert.equal((await r.w('request-number').innerText()).trim(), first.request_number);
      assert.ok(keys.length >= 2 && keys.every((k) => k === keys[0]), `one key throughout: ${keys}`);
      const mine = (await listSubmissions(config)).filter((s) => s.document.request.requester.email === email);
      assert.deepEqual(mine.map((s) => s.request_number), [first.request_number], 'stored once');
      assert.deepEqual(await r.storageKeys(), { session: [], local: [] }, 'the key is forgotten once answered');
    });

    await t.test('"Clear my answers" after a lost answer forgets its key', async () => {
      const r = await requester(env);
      await loseAnswer(r, { email: 'cy.clear@example.org', name: 'Cy Clear' });
      assert.ok((await r.savedEntry()).pending?.key, 'the key is kept');
      await r.page.reload();
      await r.w('outcome-unknown').waitFor();
      await r.w('clear-answers').click();
      await r.w('clear-confirm').click();
      await r.w('step-intro').waitFor();
      assert.deepEqual(await r.storageKeys(), { session: [], local: [] }, 'answers and key are gone');
      assert.equal(await r.w('lang-es').getAttribute('aria-disabled'), null, 'the form is no longer locked');
      await r.page.reload();
      await r.w('step-intro').waitFor();
      assert.equal(await r.w('outcome-unknown').count(), 0);
    });

    await t.test('a busy upload is retried by itself; one that stays busy ends with the error next to the field', async () => {
      const r = await requester(env);
      const pdf = await fs.readFile(path.join(repo, 'request/fixtures/proof.pdf'));
      const file = { name: 'poa.pdf', mimeType: 'application/pdf', buffer: pdf };
      await r.next();
      await r.w('role-legal_representative').check();
      // The verifier answers `503` + `Retry-After` while `busy` lasts (as when every upload permit is taken).
      const upload = { busy: 1, retryAfter: '1', count: 0 };
      await r.page.route('**/api/v1/sites/*/uploads', (route) => {
        upload.count += 1;
        if (upload.busy <= 0) return route.continue();
        upload.busy -= 1;
        return route.fulfill({
          status: 503,
          headers: {
            'content-type': 'application/json',
            'retry-after': upload.retryAfter,
            'access-control-allow-origin': site.origin,
            'access-control-expose-headers': 'Retry-After',
          },
          body: JSON.stringify({ code: 'unavailable', message: 'The verifier is busy with other files; try again in a moment.' }),
        });
      });
      await r.w('proof-file').setInputFiles(file);
      await r.w('requester.name').fill('Noor Busy');
      await r.w('proof-status').filter({ hasText: 'busy. We will try again in 1 second; you do not need to do anything.' }).waitFor();
      assert.equal(await r.w('proof-status').getAttribute('role'), 'status', 'said in a polite live region');
      await r.w('proof-item-0').waitFor();
      assert.equal(upload.count, 2, 'retried once, without the requester doing anything');
      assert.equal(await r.w('proof-error').count(), 0);
      assert.equal(await r.focusedTestId(), 'requester.name', 'focus stays where the requester is');

      // Busy every time: the first try and three retries, then the error next to the field.
      await r.w('remove-proof-0').click();
      Object.assign(upload, { busy: Infinity, count: 0 });
      await r.w('proof-file').setInputFiles(file);
      await r.w('proof-error').waitFor({ timeout: 40_000 });
      assert.match(await r.w('proof-error').innerText(), /The records service is busy right now\. Wait a moment and try again\./);
      assert.equal(upload.count, 4);
      assert.equal(await r.w('proof-status').innerText(), '');
      assert.equal(await r.w('proof-item-0').count(), 0);

      // Leaving the step cancels a retry that is waiting.
      Object.assign(upload, { retryAfter: '2', count: 0 });
      await r.w('proof-file').setInputFiles(file);
      await r.w('proof-status').filter({ hasText: 'in 2 seconds' }).waitFor();
      await r.back();
      await r.w('step-intro').waitFor();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.equal(upload.count, 1, 'no retry once the requester left the step');
      await r.page.unroute('**/api/v1/sites/*/uploads');
    });

    await t.test('an upload cut off as too slow, or sent without its length, is explained next to the field', async () => {
      const r = await requester(env);
      const pdf = await fs.readFile(path.join(repo, 'request/fixtures/proof.pdf'));
      const file = { name: 'poa.pdf', mimeType: 'application/pdf', buffer: pdf };
      await r.next();
      await r.w('role-legal_representative').check();
      // The verifier's answers to a body that stalled (`408`) and to one without `Content-Length` (`411`).
      const answer = { status: 408, code: 'upload_too_slow', count: 0 };
      await r.page.route('**/api/v1/sites/*/uploads', (route) => {
        answer.count += 1;
        return route.fulfill({
          status: answer.status,
          headers: { 'content-type': 'application/json', 'access-control-allow-origin': site.origin },
          body: JSON.stringify({ code: answer.code, message: 'The file arrived too slowly.' }),
        });
      });
      await r.w('proof-file').setInputFiles(file);
      await r.w('proof-error').waitFor();
      assert.equal(
        await r.w('proof-error').innerText(),
        "The connection was too slow to send the file, so nothing was saved. Try again on a better connection, such as Wi-Fi, or bring the document to the hospital's medical records office.",
      );
      assert.equal(answer.count, 1, 'not retried behind the requester\'s back');
      assert.equal(await r.w('proof-item-0').count(), 0);
      const errorId = await r.w('proof-error').getAttribute('id');
      assert.ok((await r.w('proof-file').getAttribute('aria-describedby')).split(' ').includes(errorId), 'the field names its error');
      assert.equal(await r.w('proof-file').getAttribute('aria-invalid'), 'true');

      Object.assign(answer, { status: 411, code: 'length_required' });
      await r.w('proof-file').setInputFiles(file);
      await r.w('proof-error').filter({ hasText: 'Try again, or use another browser.' }).waitFor();
      await r.w('lang-es').click();
      await r.w('proof-error').filter({ hasText: 'Inténtelo de nuevo o use otro navegador.' }).waitFor();
      assert.equal(answer.count, 2);
      await r.page.unroute('**/api/v1/sites/*/uploads');
    });

    await t.test('the verifier log (at debug level) holds no patient details, addresses or codes', () => {
      assert.ok(log.verifier.includes('request_id'), 'requests are logged with their ids');
      assert.ok(codesSeen.length >= 4, 'codes were read from SMTP');
      for (const phi of [
        'Ana María Quiñones', 'Quiñones', '1984-03-07', 'ana.quinones@example.org', 'Luis Gómez',
        'Sofía Gómez Ruiz', '2015-06-01', 'luis.gomez@example.org', 'Maya Chen', 'Li Chen',
        '1950-02-14', 'maya.chen@example.org', 'Kim Keys', '1990-01-02', 'kim.keys@example.org',
      ]) {
        assert.ok(!log.verifier.includes(phi), `the verifier log contains ${phi}`);
      }
      for (const code of codesSeen) {
        // Standalone only: not inside a timestamp's fraction or a hex id.
        const leaked = new RegExp(`(?<![\\w.])${code}(?!\\w)`).exec(log.verifier);
        assert.equal(leaked, null, `the verifier log contains the code ${code}`);
      }
    });
  } catch (err) {
    err.message += `\n--- verifier output ---\n${log.verifier}`;
    throw err;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err) => console.error('cleanup:', err));
    }
  }
});

/** A new tab with its own virtual authenticator, on the hospital page. */
async function requester({ browser, site, smtp, verifier, config }, { lang = 'en', axe = false, width } = {}) {
  const page = await browser.newPage();
  if (width) await page.setViewportSize({ width, height: 800 });
  page.setDefaultTimeout(20_000);
  const problems = [];
  const requested = [];
  let probes = 0; // deliberate Trusted Types violations (`probeTrustedTypes`)
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => res.status() >= 400 && problems.push(`HTTP ${res.status()}: ${res.url()}`));
  page.on('request', (req) => requested.push(req.url()));
  // How each widget file arrived: the verifier serves pre-compressed copies.
  const widgetEncodings = {};
  page.on('response', (res) => {
    const file = /\/(widget\.js|assets\/[^/?]+)$/.exec(new URL(res.url()).pathname);
    if (file) widgetEncodings[file[1].replace(/-[0-9a-f]{16}\./, '.')] = res.headers()['content-encoding'] ?? 'identity';
  });
  const cdp = await browser.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true,
    },
  });
  await page.goto(`${site.origin}/`);
  // Playwright's CSS selectors pierce the widget's open shadow root.
  const w = (testId) => page.locator(`recordpass-request [data-testid="${testId}"]`);
  await w('next').waitFor();
  if (lang === 'es') await w('lang-es').click();

  const scan = async () => {
    if (!axe) return;
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(() =>
      window.axe.run('recordpass-request', {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      }));
    const step = await page.locator('recordpass-request section[data-testid], recordpass-request h2').first().getAttribute('data-testid');
    const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    assert.deepEqual(found, [], `axe violations on ${step}`);
    // Every text box and button is a 44 px target (radios and checkboxes: their row is).
    const small = await page.evaluate(() => {
      const root = document.querySelector('recordpass-request').shadowRoot;
      return [...root.querySelectorAll('input:not([type=radio]):not([type=checkbox]), button')]
        .filter((el) => el.getClientRects().length && el.getBoundingClientRect().height < 44)
        .map((el) => `${el.dataset.testid ?? el.id}: ${el.getBoundingClientRect().height}px`);
    });
    assert.deepEqual(small, [], `targets under 44 px on ${step}`);
    if (width) {
      // Usable at 320 px: nothing in the widget scrolls sideways.
      const overflow = await page.evaluate(() => {
        const host = document.querySelector('recordpass-request');
        const root = host.shadowRoot.querySelector('.rp');
        return root.scrollWidth - host.clientWidth;
      });
      assert.ok(overflow <= 0, `the widget is ${overflow}px too wide at ${width}px on ${step}`);
    }
  };

  const focusedTestId = () => page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el?.getAttribute('data-testid') ?? null;
  });

  // Keyboard only: Tab to a control, then type, Space or Enter.
  const keys = {
    async tabTo(testId) {
      for (let i = 0; i < 80; i += 1) {
        if ((await focusedTestId()) === testId) return;
        await page.keyboard.press('Tab');
      }
      assert.fail(`Tab never reached ${testId}`);
    },
    async type(testId, text) {
      await keys.tabTo(testId);
      await page.keyboard.type(text);
    },
    async toggle(testId) {
      await keys.tabTo(testId);
      await page.keyboard.press('Space');
    },
    async press(testId) {
      await w(testId).waitFor();
      await keys.tabTo(testId);
      await page.keyboard.press('Enter');
    },
  };

  const code = async (email) => {
    const mail = await smtp.next(email);
    const text = decodeQuotedPrintable(mail.data);
    const found = /records request code is (\d{6})\.|solicitud de registros es (\d{6})\./.exec(text);
    const value = found?.[1] ?? found?.[2] ?? /\b(\d{6})\b/.exec(text)?.[1];
    assert.ok(value, `the email carries a 6-digit code:\n${text}`);
    codesSeen.push(value);
    return value;
  };

  return {
    page, w, keys, code, focusedTestId, widgetEncodings,
    async next() {
      await scan();
      await w('next').click();
    },
    async back() {
      await w('back').click();
    },
    async storageKeys() {
      return page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    },
    /** The widget's saved entry in this tab (`recordpass:demo`), parsed. */
    async savedEntry() {
      return JSON.parse(await page.evaluate(() => sessionStorage.getItem('recordpass:demo')));
    },
    /** From the signature step: email code, review, passkey, sign; returns what was shown and stored. */
    async finish(email, { wrongCodeFirst = false } = {}) {
      await scan();
      await w('next').click();
      const value = await code(email);
      const input = w('email-code');
      if (wrongCodeFirst) {
        await input.fill(value === '000000' ? '111111' : '000000');
        await w('verify-code').click();
        await w('code-error').waitFor({ state: 'visible' });
        assert.equal(await input.getAttribute('aria-invalid'), 'true');
      }
      await scan();
      await input.fill(value);
      await w('verify-code').click();
      await w('statement').waitFor();
      const statement = await w('statement').innerText();
      await w('create-passkey').and(page.locator(':not([aria-disabled])')).waitFor();
      await scan();
      await w('create-passkey').click();
      await w('sign').and(page.locator(':not([aria-disabled])')).waitFor();
      await w('sign').click();
      await w('request-number').waitFor({ state: 'visible' });
      await scan();
      const number = (await w('request-number').innerText()).trim();
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1, 'one passkey was created');
      const stored = (await listSubmissions(config)).find((s) => s.request_number === number);
      assert.ok(stored, `request ${number} is stored`);
      assert.equal(stored.user_verified, true, 'the passkey verified the user');
      assert.ok(
        Buffer.from(stored.credential_id, 'base64url').equals(Buffer.from(credentials[0].credentialId, 'base64')),
        'signed with the passkey the browser created',
      );
      const words = (text) => text.replace(/\s+/g, ' ').trim();
      assert.equal(words(statement), words(stored.document.statement), 'the signed statement is the one shown');
      return { statement, stored };
    },
    /** Assigns an unvetted script URL in the page; the name of the error it throws (or 'assigned'). */
    async probeTrustedTypes() {
      probes += 1;
      return page.evaluate(() => {
        try { document.createElement('script').src = 'data:text/javascript,1'; return 'assigned'; } catch (e) { return e.name; }
      });
    },
    assertClean({ wrongCodes = 0 } = {}) {
      const expected = (p) => /^HTTP 400: .*\/api\/v1\/email-codes\/[^/]+\/verify$/.test(p);
      assert.equal(problems.filter(expected).length, wrongCodes, 'wrong codes are refused');
      const probe = (p) => /TrustedScriptURL/.test(p);
      assert.equal(problems.filter(probe).length, probes, 'Trusted Types refused only the probes');
      assert.deepEqual(problems.filter((p) => !expected(p) && !probe(p) && !/status of 400/.test(p)), [], 'no errors in the page');
      const allowed = new Set([site.origin, verifier.url]);
      const foreign = requested.filter((url) => !allowed.has(new URL(url).origin));
      assert.deepEqual(foreign, [], 'the page talks only to itself and the verifier');
    },
  };
}

/** The `idempotency_key` of every signing ceremony `page` starts, as they are sent. */
function signingKeys(page) {
  const keys = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/v1/signatures') {
      keys.push(JSON.parse(req.postData() ?? '{}').idempotency_key);
    }
  });
  return keys;
}

/**
 * Fills a patient's own request, confirms the email, creates a passkey and
 * signs; the verifier stores the finish but its answer never arrives.
 */
async function loseAnswer(r, { email, name }) {
  await r.next(); // intro
  await r.w('requester.email').fill(email);
  await r.next();
  await r.w('patient.legal_name').fill(name);
  await r.w('patient.date_of_birth').fill('1979-11-23');
  await r.next();
  await r.w('record-lab_results').check();
  await r.next();
  await r.w('method-secure_download').check();
  await r.next();
  await r.w('consent-electronic').check();
  await r.next();
  await r.w('signature').fill(name);
  await r.next();
  await r.w('email-code').fill(await r.code(email));
  await r.w('verify-code').click();
  await r.w('create-passkey').and(r.page.locator(':not([aria-disabled])')).click();
  await r.w('sign').and(r.page.locator(':not([aria-disabled])')).waitFor();
  const finish = '**/api/v1/signatures/*/finish';
  await r.page.route(finish, async (route) => {
    await route.fetch();
    return route.abort('connectionreset');
  });
  await r.w('sign').click();
  await r.w('outcome-unknown').waitFor();
  await r.page.unroute(finish);
}

/** A verifier config like verifier/recordpass.example.toml, on a free port. */
function verifierConfig({ database, siteOrigin, smtpPort }) {
  const str = JSON.stringify; // TOML basic strings accept JSON's escapes.
  return `listen = "127.0.0.1:0"
metrics_listen = "off"
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
# A state deadline stricter than HIPAA's 30 days: the confirmation must state it.
deadline_days = 20

# Every requester here comes from 127.0.0.1: the per-client POST limit (1/s,
# bursts of 20) is for real clients, not for five flows in a row from one address.
[limits]
posts_per_second = 100
posts_burst = 1000

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
    "require-trusted-types-for 'script'",
    "trusted-types recordpass",
  ].join('; ');
}

/** Starts `serve` and resolves once it prints `listening on http://HOST:PORT`. */
async function startVerifier(config, log) {
  const child = spawn(VERIFIER_BIN, ['serve', '--config', config], {
    // Debug level, so the no-PHI check covers every log line the verifier can write.
    env: { ...childEnv, RUST_LOG: 'debug' },
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
async function exportBundle(config, number) {
  const { stdout } = await promisify(execFile)(
    VERIFIER_BIN,
    ['submissions', 'export', number, '--config', config],
    { env: childEnv, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout);
}

async function listSubmissions(config) {
  const { stdout } = await promisify(execFile)(
    VERIFIER_BIN,
    ['submissions', 'list', '--config', config, '--json'],
    { env: childEnv },
  );
  return JSON.parse(stdout);
}
