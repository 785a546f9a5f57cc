//! A small SMTP receiver for tests: speaks the real protocol (EHLO/HELO, MAIL,
//! RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) on `127.0.0.1:0`, and
//! keeps every message it accepts.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
    task::JoinHandle,
};

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Mail {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent after `DATA` (headers and body, CRLF line ends).
    pub data: String,
}

impl Mail {
    /// The message with quoted-printable soft line breaks and escapes undone.
    pub fn decoded(&self) -> String {
        let unfolded = self.data.replace("=\r\n", "");
        let bytes = unfolded.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'=', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The 6-digit code after "code is " (English) or "es " (Spanish).
    pub fn code(&self) -> Option<String> {
        let text = self.decoded();
        ["code is ", "Riverside General Hospital es "]
            .iter()
            .find_map(|marker| {
                let start = text.find(marker)? + marker.len();
                let code = text.get(start..start + 6)?;
                code.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| code.to_owned())
            })
    }
}

/// A running SMTP receiver; stops when dropped.
pub struct SmtpServer {
    /// Bound address.
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Inbox {
    mail: Mutex<Vec<Mail>>,
    arrived: Notify,
}

impl SmtpServer {
    /// Starts listening on `127.0.0.1:0`.
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("smtp addr");
        let inbox = Arc::new(Inbox::default());
        let accepting = Arc::clone(&inbox);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&accepting)));
            }
        });
        SmtpServer { addr, inbox, task }
    }

    /// Every message received so far.
    pub fn all(&self) -> Vec<Mail> {
        self.inbox.mail.lock().expect("inbox").clone()
    }

    /// Removes and returns the oldest message to `rcpt`, waiting up to 10 s for one.
    pub async fn take_for(&self, rcpt: &str) -> Mail {
        let wait = async {
            loop {
                let arrived = self.inbox.arrived.notified();
                {
                    let mut mail = self.inbox.mail.lock().expect("inbox");
                    if let Some(i) = mail.iter().position(|m| m.to.iter().any(|t| t == rcpt)) {
                        return mail.remove(i);
                    }
                }
                arrived.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("no email to {rcpt} within 10 s"))
    }

    /// Stops listening (the listener is closed when this returns), so that
    /// every later delivery fails.
    pub async fn stop(&mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// Waits `for_ms` and returns how many messages are waiting.
    pub async fn count_after(&self, for_ms: u64) -> usize {
        tokio::time::sleep(Duration::from_millis(for_ms)).await;
        self.inbox.mail.lock().expect("inbox").len()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP session (RFC 5321 subset, no extensions beyond 8BITMIME).
async fn session(stream: TcpStream, inbox: Arc<Inbox>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut out = "220 localhost ESMTP recordpass-test\r\n".to_owned();
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        if write.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        out = match verb.as_str() {
            "EHLO" => "250-localhost\r\n250 8BITMIME\r\n".to_owned(),
            "HELO" | "NOOP" => "250 OK\r\n".to_owned(),
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                "250 OK\r\n".to_owned()
            }
            "MAIL" => {
                from = angle_address(&command);
                to.clear();
                "250 OK\r\n".to_owned()
            }
            "RCPT" if !from.is_empty() => {
                to.push(angle_address(&command));
                "250 OK\r\n".to_owned()
            }
            "DATA" if !to.is_empty() => {
                if write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    let mut line = String::new();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let mail = Mail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                };
                inbox.mail.lock().expect("inbox").push(mail);
                inbox.arrived.notify_waiters();
                "250 OK: queued\r\n".to_owned()
            }
            "QUIT" => {
                let _ = write.write_all(b"221 Bye\r\n").await;
                return;
            }
            "RCPT" | "DATA" => "503 Bad sequence of commands\r\n".to_owned(),
            _ => "502 Command not implemented\r\n".to_owned(),
        };
    }
}

/// The address between `<` and `>` in `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn angle_address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}
