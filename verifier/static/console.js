// Recordpass HIM console: the passkey ceremonies (enrol, sign in). Everything
// else is plain HTML forms. Served from the verifier under a CSP of
// `default-src 'self'`; no inline script anywhere.
'use strict';

const b64url = {
  decode(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  },
  encode(buf) {
    const bin = String.fromCharCode(...new Uint8Array(buf));
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
};

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `HTTP ${res.status}`);
  return json;
}

function creationOptions(options) {
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64url.decode(pk.challenge);
  pk.user.id = b64url.decode(pk.user.id);
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));
  return { publicKey: pk };
}

function requestOptions(options) {
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64url.decode(pk.challenge);
  pk.allowCredentials = (pk.allowCredentials || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));
  return { publicKey: pk };
}

function registrationJson(cred) {
  return {
    id: cred.id,
    rawId: b64url.encode(cred.rawId),
    type: cred.type,
    extensions: {},
    response: {
      attestationObject: b64url.encode(cred.response.attestationObject),
      clientDataJSON: b64url.encode(cred.response.clientDataJSON),
    },
  };
}

function assertionJson(cred) {
  const r = cred.response;
  return {
    id: cred.id,
    rawId: b64url.encode(cred.rawId),
    type: cred.type,
    extensions: {},
    response: {
      authenticatorData: b64url.encode(r.authenticatorData),
      clientDataJSON: b64url.encode(r.clientDataJSON),
      signature: b64url.encode(r.signature),
      userHandle: r.userHandle ? b64url.encode(r.userHandle) : null,
    },
  };
}

async function enrol(say) {
  const token = location.hash.slice(1);
  if (!token) throw new Error('This enrolment link is incomplete. Ask an administrator for a new one.');
  const started = await post('/console/api/enrol/start', { token });
  say(`Creating a passkey for ${started.email}…`);
  const cred = await navigator.credentials.create(creationOptions(started.options));
  const done = await post('/console/api/enrol/finish', {
    ceremony_id: started.ceremony_id,
    credential: registrationJson(cred),
  });
  history.replaceState(null, '', location.pathname);
  location.assign(done.redirect);
}

async function signIn(say, form) {
  const email = form.elements.email.value;
  const started = await post('/console/api/sign-in/start', { email });
  say('Confirm with your passkey…');
  const cred = await navigator.credentials.get(requestOptions(started.options));
  const done = await post('/console/api/sign-in/finish', {
    ceremony_id: started.ceremony_id,
    credential: assertionJson(cred),
  });
  location.assign(done.redirect);
}

document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-ceremony]');
  if (!form) return;
  const status = document.getElementById('status');
  const say = (text) => { status.textContent = text; };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      if (form.dataset.ceremony === 'enrol') await enrol(say);
      else await signIn(say, form);
    } catch (err) {
      say(err.name === 'NotAllowedError' ? 'The passkey step was cancelled or timed out.' : err.message);
      button.disabled = false;
    }
  });
});
