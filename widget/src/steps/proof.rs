//! Proof of authority for representatives and executors: a file input that
//! checks the file with the shared rules ([`recordpass_request::upload`]) before
//! uploading it, and lists what was uploaded. Only the reference (name, type,
//! size, SHA-256) joins the request, and so the saved progress; never the bytes.
//!
//! An upload the verifier is too busy for (`503` with `Retry-After`) is tried
//! again by itself after the time it asks for, at most [`MAX_RETRIES`] times
//! and [`MAX_WAIT_SECS`] in all, saying so in the field's polite status
//! region; only then is the error shown. Choosing another file, removing
//! one or leaving the step cancels a retry that is waiting.

use recordpass_request::api::ErrorCode;
use recordpass_request::upload::{ACCEPT, Attachment, FileProblem, check_file};
use recordpass_request::{Field, Lang, Relationship, Role};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

use super::fields::{error_for, field_id, tr};
use crate::api::Client;
use crate::app::{App, Msg};
use crate::error::Failure;
use crate::i18n;

/// Why a file was not added.
#[derive(Clone, Debug, PartialEq)]
pub enum ProofError {
    /// The file itself is refused (here or by the verifier).
    File(FileProblem),
    /// The upload failed (network, rate limit, …).
    Failed(Failure),
    /// The verifier was busy and asked to retry after this many seconds.
    Busy(Failure, u32),
}

impl ProofError {
    fn message(&self, lang: Lang) -> &'static str {
        match self {
            ProofError::File(problem) => problem.message(lang),
            ProofError::Failed(failure) | ProofError::Busy(failure, _) => {
                i18n::failure(failure, lang)
            }
        }
    }
}

/// The file input's state.
#[derive(Default)]
pub struct Proof {
    /// A file is being read or uploaded.
    pub busy: bool,
    /// Why the last file was not added.
    pub error: Option<ProofError>,
    /// A busy upload is tried again in this many seconds.
    pub retry_in: Option<u32>,
    /// The file being uploaded or waiting for a retry.
    file: Option<File>,
    /// Retries of that file so far.
    retries: Retries,
    /// Numbers each upload; results and timers of older ones are dropped.
    generation: u32,
}

impl Proof {
    /// A new file is uploaded: returns its generation.
    pub fn start(&mut self, file: File) -> u32 {
        self.generation = self.generation.wrapping_add(1);
        self.file = Some(file);
        self.retries = Retries::default();
        self.retry_in = None;
        self.generation
    }

    /// True if `generation` is the current upload's.
    pub fn current(&self, generation: u32) -> bool {
        generation == self.generation && self.file.is_some()
    }

    /// The verifier asked to retry after `retry_after` seconds: the seconds
    /// to wait, or `None` once the retries are used up.
    pub fn wait(&mut self, retry_after: u32) -> Option<u32> {
        let (retries, wait) = self.retries.next(retry_after)?;
        self.retries = retries;
        self.retry_in = Some(wait);
        Some(wait)
    }

    /// The wait is over: the file to upload again.
    pub fn retry(&mut self) -> Option<File> {
        self.retry_in.take()?;
        self.file.clone()
    }

    /// The upload ended (stored or refused).
    pub fn done(&mut self) {
        self.file = None;
        self.retry_in = None;
    }

    /// Forgets everything (the answers were cleared); uploads still under
    /// way are dropped when they end.
    pub fn clear(&mut self) {
        *self = Proof {
            generation: self.generation.wrapping_add(1),
            ..Proof::default()
        };
    }

    /// Cancels a retry that is waiting (another file, a removal, another step).
    pub fn cancel(&mut self) {
        if self.retry_in.take().is_some() {
            self.generation = self.generation.wrapping_add(1);
            self.file = None;
        }
    }
}

/// Automatic retries at most (after the first try).
pub const MAX_RETRIES: u32 = 3;
/// Seconds of waiting at most, over all retries of one file.
pub const MAX_WAIT_SECS: u32 = 30;

/// The retries of one busy upload so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Retries {
    count: u32,
    waited_secs: u32,
}

impl Retries {
    /// After a busy answer asking for `retry_after` seconds (at least one is
    /// waited): the retries then and the wait, or `None` when another retry
    /// would exceed [`MAX_RETRIES`] or [`MAX_WAIT_SECS`].
    fn next(self, retry_after: u32) -> Option<(Retries, u32)> {
        let wait = retry_after.max(1);
        let waited_secs = self.waited_secs.checked_add(wait)?;
        (self.count < MAX_RETRIES && waited_secs <= MAX_WAIT_SECS).then_some((
            Retries {
                count: self.count + 1,
                waited_secs,
            },
            wait,
        ))
    }
}

/// Reads `file`, checks it exactly as the verifier will, and uploads it.
pub async fn upload(client: Client, site: String, file: File) -> Result<Attachment, ProofError> {
    read_and_upload(&client, &site, &file).await
}

async fn read_and_upload(
    client: &Client,
    site: &str,
    file: &File,
) -> Result<Attachment, ProofError> {
    let name = file.name();
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| ProofError::File(FileProblem::Damaged))?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    let kind = check_file(&name, &file.type_(), &bytes).map_err(ProofError::File)?;
    match client.upload(site, &name, kind.mime(), &bytes).await {
        Ok(uploaded) => Ok(uploaded.attachment),
        Err(refusal) => Err(match (refusal.failure, refusal.retry_after) {
            (Failure::Api(e), _) if e.code.file_problem().is_some() => {
                ProofError::File(e.code.file_problem().unwrap_or(FileProblem::Damaged))
            }
            (Failure::Api(e), Some(secs)) if e.code == ErrorCode::Unavailable => {
                ProofError::Busy(Failure::Api(e), secs)
            }
            (failure, _) => ProofError::Failed(failure),
        }),
    }
}

/// The proof-of-authority field: for representatives and executors, and for
/// parents and guardians (optional for a mother or father).
pub fn view(app: &App, ctx: &Context<App>) -> Html {
    let l = app.lang;
    let r = &app.input.requester;
    let parent = r.role == Role::ParentOrGuardian;
    let optional = parent
        && matches!(
            Relationship::recognise(&r.relationship),
            Some(Relationship::Mother | Relationship::Father)
        );
    let files = &app.input.requester.attachments;
    let id = field_id(Field::RequesterAttachments);
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    // A refused file, else "attach a copy" from the shared rules.
    let error = app
        .proof
        .error
        .as_ref()
        .map(|e| e.message(l))
        .or_else(|| error_for(app, Field::RequesterAttachments).map(|e| e.message(l)));
    let described_by = if error.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        hint_id.clone()
    };
    let onchange = ctx.link().batch_callback(|e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        let file = input.files().and_then(|list| list.get(0));
        // The same file may be chosen again after removing it.
        input.set_value("");
        file.map(Msg::FileChosen)
    });
    // Polite, and never moves focus: uploading, or waiting to retry a busy upload.
    let status = if app.proof.busy {
        tr(l, "Uploading the file…", "Subiendo el archivo…").to_owned()
    } else {
        app.proof
            .retry_in
            .map(|secs| i18n::upload_retry(l, secs))
            .unwrap_or_default()
    };
    let items = files.iter().enumerate().map(|(i, file)| {
        let item_id = field_id(Field::RequesterAttachment(i));
        let item_error = error_for(app, Field::RequesterAttachment(i));
        let remove_label = match l {
            Lang::En => format!("Remove {}", file.name),
            Lang::Es => format!("Quitar {}", file.name),
        };
        html! {
            <li id={item_id} tabindex="-1" data-testid={format!("proof-item-{i}")}>
                <span class="rp-file-name">{ &file.name }</span>
                { format!(" ({}, {})", file.media_type.label(), file.size_text()) }
                if let Some(e) = item_error {
                    <p class="rp-error">{ e.message(l) }</p>
                }
                <button type="button" class="rp-secondary" part="button-secondary"
                    aria-label={remove_label} data-testid={format!("remove-proof-{i}")}
                    onclick={ctx.link().callback(move |_| Msg::RemoveFile(i))}>
                    { tr(l, "Remove", "Quitar") }
                </button>
            </li>
        }
    });
    html! {
        <div class={classes!("rp-field", error.is_some().then_some("rp-invalid"))}>
            <label for={id.clone()}>{ if optional {
                tr(l, "Proof of your authority (a file, optional)", "Prueba de su autoridad (un archivo, opcional)")
            } else {
                tr(l, "Proof of your authority (a file)", "Prueba de su autoridad (un archivo)")
            } }</label>
            <p class="rp-hint" id={hint_id}>{ if parent { tr(l,
                "A scan or photo of the court order that makes you guardian, or of a custody paper. A legal guardian or another relative must attach one; a mother or father may. PDF, JPEG or PNG, up to 10 MB. If you cannot attach it, you can ask on paper or in person instead.",
                "Un escaneo o una foto de la orden judicial que lo (la) nombra tutor(a), o de un documento de custodia. Un(a) tutor(a) legal u otro familiar debe adjuntarlo; la madre o el padre puede hacerlo. PDF, JPEG o PNG, de hasta 10 MB. Si no puede adjuntarlo, puede hacer la solicitud en papel o en persona.")
            } else { tr(l,
                "A scan or photo of the power of attorney, letters testamentary (the court paper that names you executor) or guardianship order. PDF, JPEG or PNG, up to 10 MB. If you cannot attach it, you can ask on paper or in person instead.",
                "Un escaneo o una foto del poder notarial, las cartas testamentarias (el documento del tribunal que lo nombra albacea) o la orden de tutela. PDF, JPEG o PNG, de hasta 10 MB. Si no puede adjuntarlo, puede hacer la solicitud en papel o en persona.") } }</p>
            if let Some(message) = error {
                <p class="rp-error" id={error_id} data-testid="proof-error">{ message }</p>
            }
            if !files.is_empty() {
                <ul class="rp-files" data-testid="proof-files">{ for items }</ul>
            }
            <p role="status" class="rp-hint" data-testid="proof-status">{ status }</p>
            if files.len() < recordpass_request::upload::MAX_ATTACHMENTS {
                <input id={id} part="input" type="file" accept={ACCEPT} ref={app.refs.proof_file.clone()}
                    disabled={app.proof.busy}
                    aria-invalid={error.map(|_| "true")}
                    aria-describedby={described_by}
                    data-testid="proof-file"
                    {onchange} />
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recordpass_request::api::ApiError;

    /// A busy upload is retried after the time the verifier asks for (at
    /// least a second), at most three times and 30 seconds in all.
    #[test]
    fn busy_uploads_are_retried_three_times_within_thirty_seconds() {
        let mut retries = Retries::default();
        let mut waits = Vec::new();
        while let Some((next, wait)) = retries.next(2) {
            retries = next;
            waits.push(wait);
        }
        assert_eq!(waits, [2, 2, 2]);
        assert_eq!(Retries::default().next(0).map(|r| r.1), Some(1));
        let (after_one, _) = Retries::default().next(20).unwrap();
        assert_eq!(after_one.next(11), None, "31 seconds in all is too long");
        assert_eq!(after_one.next(10).map(|r| r.1), Some(10));
        assert_eq!(Retries::default().next(31), None);
        assert_eq!(Retries::default().next(u32::MAX), None);
    }

    /// An upload refused because the verifier is handling as many files as it
    /// may at once (`503 unavailable`) is explained next to the field in plain
    /// words, not as a broken file.
    #[test]
    fn a_busy_verifier_is_explained_next_to_the_upload_field() {
        let busy = ProofError::Failed(Failure::Api(ApiError {
            code: ErrorCode::Unavailable,
            message: "The verifier is busy with other files; try again in a moment.".into(),
            fields: Vec::new(),
            attempts_left: None,
        }));
        assert_eq!(
            busy.message(Lang::En),
            "The records service is busy right now. Wait a moment and try again."
        );
        assert_eq!(
            busy.message(Lang::Es),
            "El servicio de registros está ocupado en este momento. Espere un momento e inténtelo de nuevo."
        );
    }

    /// A body cut off on a slow or stalled link (`408 upload_too_slow`) and
    /// one sent without its length (`411 length_required`) each get their own
    /// plain words next to the field: what to try, and where else to go.
    #[test]
    fn a_slow_link_and_a_missing_length_are_explained_next_to_the_upload_field() {
        let refused = |code| {
            ProofError::Failed(Failure::Api(ApiError {
                code,
                message: String::new(),
                fields: Vec::new(),
                attempts_left: None,
            }))
        };
        let slow = refused(ErrorCode::UploadTooSlow);
        assert!(slow.message(Lang::En).contains("too slow"));
        assert!(slow.message(Lang::En).contains("Wi-Fi"));
        assert!(slow.message(Lang::En).contains("records office"));
        assert!(slow.message(Lang::Es).contains("demasiado lenta"));
        assert!(slow.message(Lang::Es).contains("oficina de registros"));
        let length = refused(ErrorCode::LengthRequired);
        assert!(length.message(Lang::En).contains("another browser"));
        assert!(length.message(Lang::Es).contains("otro navegador"));
        let busy = refused(ErrorCode::Unavailable).message(Lang::En);
        assert_ne!(slow.message(Lang::En), busy);
        assert_ne!(length.message(Lang::En), busy);
    }
}
