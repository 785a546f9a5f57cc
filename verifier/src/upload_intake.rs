//! Receiving upload bodies: memory bounded by bytes, not by time, so that a
//! file on a slow phone link arrives and a trickling client blocks no one.
//!
//! - **Byte budget.** Bodies being received (and received bodies waiting to
//!   be stored) hold at most `[limits] upload_buffer_mib` in all. An upload
//!   must declare its `Content-Length` (`411` otherwise) and reserves that
//!   many bytes before its body is read; when they are not free it is refused
//!   at once with `503` `unavailable` and `Retry-After`, and its body is read
//!   and dropped so the client sees the answer ([`discard`]).
//! - **One body per client address.** A second upload from an address whose
//!   first is still arriving is refused the same way, so one slow or
//!   malicious client holds at most one file's worth of the budget.
//! - **A deadline scaled to the size** ([`receive_time`]):
//!   `request_timeout_secs` plus the size at [`MIN_UPLOAD_RATE`] (10 MiB:
//!   5 min 20 s more). A body still arriving then is cut off with `408` and
//!   nothing is stored. The router's per-request timeout does not apply to
//!   the upload route ([`crate::routes`]); this deadline replaces it.
//! - **Silence is cut off sooner.** A body that goes `[limits]
//!   upload_idle_timeout_secs` (default 20) without a byte arriving gets the
//!   same `408` at once ([`Intake::idle`]), so a client that sends a few bytes
//!   and then stalls frees its slot and its bytes of the budget then, not
//!   at the end of a deadline of minutes.
//! - **Sealing and storing take turns.** A received body waits for one of the
//!   `[limits] uploads_in_flight` permits ([`Intake::seal_turn`]) instead of
//!   being refused: the budget already bounds how many can wait.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::body::Body;
use recordpass_request::upload::{FileProblem, MAX_UPLOAD_BYTES};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use crate::{Error, config::Limits, limits::ClientAddr};

/// The slowest an upload may arrive on average, in bytes per second
/// (32 KiB/s, 256 kbit/s: a poor mobile link). Slower bodies are cut off.
pub const MIN_UPLOAD_RATE: u64 = 32 * 1024;

/// One mebibyte, the unit of `[limits] upload_buffer_mib`.
pub const MIB: u64 = 1024 * 1024;

/// What upload bodies may hold at once, and whose turn it is to seal.
pub struct Intake {
    /// Bytes of bodies being received or waiting to be stored (one permit a byte).
    budget: Arc<Semaphore>,
    /// The budget's size in bytes.
    capacity: usize,
    /// Client addresses with a body being received.
    receiving: Mutex<HashSet<ClientAddr>>,
    /// Uploads being sealed and written (`[limits] uploads_in_flight`).
    sealing: Semaphore,
    /// The longest a body may go without a byte (`[limits] upload_idle_timeout_secs`).
    idle: Duration,
}

/// A body's place in the budget, from before it is read until its file is
/// stored or refused; dropping it frees the bytes and the client's slot.
pub struct Reservation {
    _bytes: OwnedSemaphorePermit,
    client: ClientAddr,
    intake: Arc<Intake>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.intake.clients().remove(&self.client);
    }
}

impl Intake {
    /// The intake `limits` configure.
    pub fn new(limits: &Limits) -> Intake {
        let capacity = usize::try_from(u64::from(limits.upload_buffer_mib) * MIB)
            .unwrap_or(Semaphore::MAX_PERMITS)
            .min(Semaphore::MAX_PERMITS);
        Intake {
            budget: Arc::new(Semaphore::new(capacity)),
            capacity,
            receiving: Mutex::default(),
            sealing: Semaphore::new(limits.uploads_in_flight as usize),
            idle: Duration::from_secs(limits.upload_idle_timeout_secs),
        }
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashSet<ClientAddr>> {
        // The set stays consistent even if a holder panicked.
        self.receiving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves `len` bytes for `client`'s body, or
    /// [`Error::UploadsBusy`] at once when the budget lacks them or
    /// `client` is already sending one.
    pub fn admit(self: &Arc<Self>, client: ClientAddr, len: u64) -> Result<Reservation, Error> {
        let mut clients = self.clients();
        if clients.contains(&client) {
            return Err(Error::UploadsBusy);
        }
        let bytes = u32::try_from(len).map_err(|_| Error::File(FileProblem::TooLarge))?;
        let permit = self
            .budget
            .clone()
            .try_acquire_many_owned(bytes)
            .map_err(|_| Error::UploadsBusy)?;
        clients.insert(client);
        Ok(Reservation {
            _bytes: permit,
            client,
            intake: self.clone(),
        })
    }

    /// The longest a body may go without a byte arriving before it is cut
    /// off (`[limits] upload_idle_timeout_secs`).
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Bytes reserved now (the `recordpass_upload_buffer_bytes` metric).
    pub fn reserved_bytes(&self) -> usize {
        self.capacity - self.budget.available_permits()
    }

    /// Waits for a turn to seal and store a received file.
    pub async fn seal_turn(&self) -> Result<SemaphorePermit<'_>, Error> {
        self.sealing
            .acquire()
            .await
            .map_err(|_| Error::Internal("upload permits closed".into()))
    }
}

/// How long a body of `len` bytes may take to arrive: `request_timeout` plus
/// `len` at [`MIN_UPLOAD_RATE`].
pub fn receive_time(request_timeout: Duration, len: u64) -> Duration {
    request_timeout + Duration::from_millis(len.saturating_mul(1000) / MIN_UPLOAD_RATE)
}

/// Reads a body of `len` declared bytes into one buffer (with room for the
/// seal's tag, so sealing does not copy it) within `limit`, with no wait for
/// the next bytes longer than `idle`; past either [`Error::UploadTooSlow`].
pub async fn receive(
    body: Body,
    len: u64,
    limit: Duration,
    idle: Duration,
) -> Result<Vec<u8>, Error> {
    tokio::time::timeout(limit, read(body, len, idle))
        .await
        .map_err(|_| Error::UploadTooSlow)?
}

async fn read(mut body: Body, len: u64, idle: Duration) -> Result<Vec<u8>, Error> {
    use http_body_util::BodyExt as _;
    let len = usize::try_from(len.min(MAX_UPLOAD_BYTES)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(len + crate::vault::TAG_LEN);
    while let Some(frame) = tokio::time::timeout(idle, body.frame())
        .await
        .map_err(|_| Error::UploadTooSlow)?
    {
        // A body that breaks off is not a file: the client sees no answer anyway.
        let frame = frame.map_err(|_| Error::File(FileProblem::Damaged))?;
        if let Ok(data) = frame.into_data() {
            // HTTP/1.1 stops a body at its Content-Length; this guards the reservation anyway.
            if bytes.len() + data.len() > len {
                return Err(Error::File(FileProblem::TooLarge));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// Reads a refused upload's body to its end in the background, keeping none
/// of it, for at most `limit` and `max` bytes, and no longer than `idle`
/// without a byte. The answer goes out at once;
/// the client, still sending, then reads it on a connection that stays open
/// (closed with its body unread, the connection would be reset and the
/// client would see a network error instead of the answer).
pub fn discard(mut body: Body, max: u64, limit: Duration, idle: Duration) {
    use http_body_util::BodyExt as _;
    tokio::spawn(tokio::time::timeout(limit, async move {
        let mut left = max;
        while let Ok(Some(Ok(frame))) = tokio::time::timeout(idle, body.frame()).await {
            let len = frame.data_ref().map_or(0, |data| data.len() as u64);
            match left.checked_sub(len) {
                Some(rest) => left = rest,
                None => break,
            }
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn intake(mib: u32) -> Arc<Intake> {
        Arc::new(Intake::new(&Limits {
            upload_buffer_mib: mib,
            ..Limits::default()
        }))
    }

    fn client(n: u8) -> ClientAddr {
        ClientAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
    }

    #[test]
    fn bodies_share_the_byte_budget_and_each_client_sends_one_at_a_time() {
        let intake = intake(10);
        let six = 6 * MIB;
        let first = intake.admit(client(1), six).expect("fits");
        assert!(matches!(
            intake.admit(client(1), 1),
            Err(Error::UploadsBusy)
        ));
        assert!(matches!(
            intake.admit(client(2), 5 * MIB),
            Err(Error::UploadsBusy)
        ));
        let second = intake.admit(client(2), 4 * MIB).expect("the rest fits");
        assert_eq!(intake.reserved_bytes() as u64, 10 * MIB);
        drop(first);
        let again = intake.admit(client(1), six).expect("freed");
        drop((second, again));
        assert_eq!(intake.reserved_bytes(), 0);
        intake.admit(client(3), 10 * MIB).expect("all of it");
    }

    #[test]
    fn the_too_slow_message_names_the_minimum_rate() {
        let rate = format!("{} KiB/s", MIN_UPLOAD_RATE / 1024);
        assert!(Error::UploadTooSlow.to_string().contains(&rate));
    }

    #[test]
    fn the_deadline_grows_with_the_size() {
        let t = Duration::from_secs(15);
        assert_eq!(receive_time(t, 0), t);
        assert_eq!(receive_time(t, 64 * 1024), t + Duration::from_secs(2));
        assert_eq!(
            receive_time(t, MAX_UPLOAD_BYTES),
            t + Duration::from_secs(320)
        );
    }
}
