// A small SMTP receiver for the browser test: speaks the real protocol
// (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) on
// 127.0.0.1 and keeps every message, so the test reads the code the verifier
// emailed exactly as a person would.

import net from 'node:net';
import { once } from 'node:events';

/** Starts the receiver; resolves to {port, messages, next(rcpt), close()}. */
export async function startSmtp() {
  const messages = [];
  const waiters = [];
  const server = net.createServer((socket) => session(socket, (mail) => {
    messages.push(mail);
    for (const waiter of waiters.splice(0)) waiter();
  }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  /** Resolves with the first unread message to `rcpt`, waiting up to `ms`. */
  async function next(rcpt, ms = 15_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = messages.findIndex((m) => !m.read && m.to.includes(rcpt));
      if (i >= 0) {
        messages[i].read = true;
        return messages[i];
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no email to ${rcpt} within ${ms} ms`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  return {
    port: server.address().port,
    messages,
    next,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Undoes quoted-printable soft breaks and =XX escapes (UTF-8). */
export function decodeQuotedPrintable(text) {
  const bytes = [];
  const unfolded = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(unfolded[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function session(socket, deliver) {
  socket.setEncoding('utf8');
  let buffer = '';
  let envelope = { from: '', to: [] };
  let data = null; // collecting DATA lines when not null
  const reply = (line) => socket.write(`${line}\r\n`);
  const address = (command) => /<([^>]*)>/.exec(command)?.[1] ?? '';
  reply('220 localhost ESMTP recordpass-browser-test');
  socket.on('data', (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (data !== null) {
        if (line === '.') {
          deliver({ ...envelope, data: data.join('\r\n') });
          envelope = { from: '', to: [] };
          data = null;
          reply('250 OK: queued');
        } else {
          data.push(line.startsWith('.') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.split(/[ :]/)[0].toUpperCase();
      if (verb === 'EHLO') reply('250-localhost\r\n250 8BITMIME');
      else if (verb === 'HELO' || verb === 'NOOP') reply('250 OK');
      else if (verb === 'RSET') { envelope = { from: '', to: [] }; reply('250 OK'); }
      else if (verb === 'MAIL') { envelope = { from: address(line), to: [] }; reply('250 OK'); }
      else if (verb === 'RCPT' && envelope.from) { envelope.to.push(address(line)); reply('250 OK'); }
      else if (verb === 'DATA' && envelope.to.length) { data = []; reply('354 End data with <CR><LF>.<CR><LF>'); }
      else if (verb === 'QUIT') { reply('221 Bye'); socket.end(); }
      else if (['RCPT', 'DATA'].includes(verb)) reply('503 Bad sequence of commands');
      else reply('502 Command not implemented');
    }
  });
  socket.on('error', () => {});
}
