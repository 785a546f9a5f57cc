//! The widget's state machine: form steps (intro → who → patient → records
//! → delivery → consent → sign) → check email (6-digit code) → review
//! (create passkey, sign) → done. A returning requester signs in from the
//! intro (or a `#recordpass-status` link) to the status view, and starts a
//! new request from there with the passkey they already have.
//!
//! All text on screen is derived from this state and the current language, so
//! switching language re-renders everything, including error messages,
//! without losing what the requester typed.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use js_sys::Promise;
use recordpass_request::api::{
    EmailCodeSent, EmailVerified, ErrorCode, MyRequests, Registered, RegistrationStarted,
    SendEmailCode, SignInStarted, SignedIn, SigningStarted, SiteInfo, StartRegistration,
    StartSignIn, StartSigning, Submitted, VerifyEmailCode,
};
use recordpass_request::upload::{Attachment, check_size};
use recordpass_request::{
    Digest, Field, FieldError, Lang, RecordsRequest, Relationship, SignedDocument, SiteIdentity,
};
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::api::Client;
use crate::error::Failure;
use crate::i18n;
use crate::passkey::{self, Options, PasskeyError};
use crate::progress::Pending;
use crate::steps;
use crate::steps::fields::Setter;
use crate::steps::proof::{Proof, ProofError};
use crate::steps::wizard::FormStep;
use crate::verify::signs_exactly;
use crate::{clock, progress};

/// Properties of [`App`], from the element's attributes.
#[derive(Properties, PartialEq)]
pub struct Props {
    /// Client for the verifier.
    pub client: Client,
    /// Site id (the element's `site` attribute).
    pub site: AttrValue,
    /// Initial language.
    pub lang: Lang,
    /// Open the sign-in and status view first (`view="status"` or a
    /// `#recordpass-status` link).
    pub status_view: bool,
}

/// The site as loaded from the verifier.
pub(crate) enum SiteState {
    Loading,
    Ready(Box<SiteInfo>),
    Failed(Failure),
}

/// Which screen is shown.
pub(crate) enum Step {
    Form(FormStep),
    Email(EmailCheck),
    Review(Review),
    Done(Done),
    Status(StatusView),
}

/// The returning requester's view: sign in with a passkey, then their requests.
pub(crate) enum StatusView {
    /// Fetching sign-in options.
    Preparing,
    /// "Sign in with my passkey" is live.
    Ready(Rc<SignInStarted<Options>>),
    /// The browser's dialog is open for this ceremony.
    Waiting(String),
    /// Checking the assertion, then loading the list.
    Loading,
    /// Signed in: their requests.
    List(MyRequests),
    /// No passkey was used (none on this device, or the dialog was closed).
    NoPasskey,
    /// Something else failed; the retry button starts over.
    Stuck,
}

/// Seconds before "Send a new code" is offered.
const RESEND_AFTER_MS: i32 = 30_000;

/// "Check your email": the validated request waits while the requester
/// proves the address with the code the verifier emailed.
pub(crate) struct EmailCheck {
    /// The validated request, reviewed once the address is proven.
    pub request: RecordsRequest,
    /// Set once a code is on its way.
    pub verification_id: Option<String>,
    /// What the requester typed.
    pub input: String,
    /// Where the code is.
    pub phase: CodePhase,
    /// A problem with the code, shown next to the field.
    pub code_error: Option<CodeError>,
    /// "Send a new code" is offered (30 s after sending, or when the code is spent).
    pub can_resend: bool,
    /// A second code was sent.
    pub resent: bool,
}

/// Progress of the email code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodePhase {
    /// Asking the verifier to send it.
    Sending,
    /// Waiting for the requester to type it.
    Sent,
    /// The verifier is checking it.
    Verifying,
}

/// Why a typed code was not accepted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeError {
    /// Not six digits.
    Format,
    /// Wrong, with this many attempts left.
    Incorrect(u32),
    /// Expired or already used.
    Expired,
    /// Out of attempts.
    TooManyAttempts,
}

/// Proof of the email address, kept in memory only and used up by the
/// registration it starts.
struct EmailProof {
    email: String,
    token: String,
}

/// The validated request as the requester reviews it.
pub(crate) struct Review {
    /// The exact document that will be signed.
    pub document: SignedDocument,
    /// Its digest.
    pub digest: Digest,
    /// Sent with every signing attempt of this document: if an earlier attempt
    /// was stored but its answer lost, the verifier returns that one.
    pub idempotency_key: Option<String>,
    /// A signed finish was sent but its answer was lost: it may be stored.
    /// Until a retry gets an answer, the document (its text, language and
    /// key) stays as it is, so a retry can only return that one request.
    pub outcome_unknown: bool,
}

impl Review {
    /// A review with a fresh idempotency key, or with `pending`'s when a
    /// signed finish of these answers is still unanswered (then locked).
    fn new(
        site: &SiteInfo,
        request: RecordsRequest,
        lang: Lang,
        pending: Option<&Pending>,
    ) -> Review {
        let identity = SiteIdentity::from(site);
        let document = SignedDocument::new(identity, request, lang);
        let digest = document.digest();
        let idempotency_key = match pending {
            Some(pending) => Some(pending.key.clone()),
            None => web_sys::window()
                .and_then(|w| w.crypto().ok())
                .map(|c| c.random_uuid()),
        };
        Review {
            document,
            digest,
            idempotency_key,
            outcome_unknown: pending.is_some(),
        }
    }
}

/// The confirmation.
pub(crate) struct Done {
    pub review: Review,
    pub submitted: Submitted,
}

/// Where the passkey part of the review screen is.
pub(crate) enum Passkey {
    /// Fetching registration options.
    Preparing,
    /// "Create my passkey" is live.
    ReadyToCreate(Rc<RegistrationStarted<Options>>),
    /// The browser's dialog is open for this registration ceremony.
    Creating(String),
    /// Sending the new credential.
    Saving,
    /// Fetching and checking the signing ceremony.
    PreparingSignature,
    /// "Sign my request" is live; the ceremony was checked.
    ReadyToSign(Rc<SigningStarted<Options>>),
    /// The browser's dialog is open for this signing ceremony.
    Signing(String),
    /// Sending the signature.
    Submitting,
    /// A preparation failed; the retry button repeats it.
    Stuck(Retry),
    /// This browser cannot use passkeys.
    Unavailable,
}

impl App {
    /// True while the review's document must not change: the browser's
    /// dialog is open, or a signed finish went out and its answer was lost
    /// (also in an earlier page load of this tab: [`App::pending`]).
    pub(crate) fn review_locked(&self) -> bool {
        self.pending.is_some()
            || self.passkey.in_ceremony()
            || self.review_state().is_some_and(|r| r.outcome_unknown)
    }
}

impl Passkey {
    /// True while the browser's dialog is open or a credential is in flight.
    pub(crate) fn in_ceremony(&self) -> bool {
        matches!(
            self,
            Passkey::Creating(_) | Passkey::Saving | Passkey::Signing(_) | Passkey::Submitting
        )
    }
}

/// What the retry button repeats.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    Registration,
    Signing,
}

/// What happened to the answers kept in the tab.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressNote {
    /// Answers from earlier in this tab were restored.
    Restored,
    /// The requester cleared them.
    Cleared,
}

/// Which step of the flow failed, deciding how to recover.
#[derive(Clone, Copy)]
enum Stage {
    PrepareRegistration,
    Create,
    PrepareSigning,
    Sign,
}

/// A returning requester's session, in memory only.
struct Session {
    token: String,
}

/// How a returning requester's session ended in this widget.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignedOut {
    /// They pressed "Sign out".
    Requested,
    /// Their list was on screen for [`LIST_SHOWN_MS`] (the verifier's idle timeout).
    Idle,
}

/// How long a returning requester's list stays on screen: the verifier's
/// idle timeout, after which their session has ended anyway. On a shared
/// computer the names, statuses and messages should not outlive it.
const LIST_SHOWN_MS: i32 = 15 * 60 * 1000;

/// A passkey bound to an email address in this session.
struct Credential {
    id: String,
    email: String,
}

impl Credential {
    /// The passkey that signed an unanswered finish.
    fn of(pending: &Pending) -> Credential {
        Credential {
            id: pending.credential_id.clone(),
            email: pending.email.clone(),
        }
    }
}

/// Elements that receive focus.
#[derive(Default)]
pub(crate) struct Refs {
    pub heading: NodeRef,
    pub summary: NodeRef,
    pub code: NodeRef,
    /// The widget's root element, for finding the field an error links to.
    pub root: NodeRef,
    /// "Sign my request".
    pub sign: NodeRef,
    /// "Clear my answers".
    pub clear: NodeRef,
    /// "Yes, clear my answers".
    pub clear_confirm: NodeRef,
    /// The proof-of-authority file input.
    pub proof_file: NodeRef,
}

enum Focus {
    Heading,
    Summary,
    Code,
    Sign,
    Clear,
    ClearConfirm,
}

/// Messages of [`App`]. Asynchronous results carry the epoch they were
/// started in and are dropped when the requester has moved on since.
pub enum Msg {
    /// Switch the interface (and statement) language.
    SetLang(Lang),
    /// (Re)load the site information.
    LoadSite,
    /// Site information arrived.
    SiteLoaded(Result<Box<SiteInfo>, Failure>),
    /// A text answer changed.
    Set(Setter, String),
    /// A choice was ticked or unticked.
    Change(std::rc::Rc<dyn Fn(&mut RecordsRequest)>),
    /// "Continue": check this step and go on.
    Next,
    /// "Back" to the previous form step.
    Back,
    /// "Edit my request".
    Edit,
    /// A code was (or was not) sent.
    CodeSent(u32, Result<EmailCodeSent, Failure>),
    /// The code field changed.
    CodeInput(String),
    /// "Confirm my email".
    VerifyCode,
    /// The verifier accepted (or refused) the code.
    CodeVerified(u32, Result<EmailVerified, Failure>),
    /// Time to offer a new code.
    ResendReady(u32),
    /// "Send a new code".
    Resend,
    /// The retry button.
    Retry,
    /// Registration options arrived.
    RegistrationReady(u32, Result<RegistrationStarted<Options>, Failure>),
    /// `navigator.credentials.create()` was called in the click.
    Creating(u32, Result<Promise, PasskeyError>),
    /// The browser created (or did not create) the credential.
    Created(u32, Result<passkey::Credential, PasskeyError>),
    /// The verifier stored (or rejected) the credential for this email.
    Registered(u32, String, Result<Registered, Failure>),
    /// The signing ceremony arrived.
    SigningReady(u32, Result<Box<SigningStarted<Options>>, Failure>),
    /// `navigator.credentials.get()` was called in the click.
    Signing(u32, Result<Promise, PasskeyError>),
    /// The browser signed (or did not sign).
    Signed(u32, Result<passkey::Credential, PasskeyError>),
    /// The verifier stored (or rejected) the signed request.
    Submitted(u32, Result<Submitted, Failure>),
    /// "Sign in to check its status": show the status view.
    OpenStatus,
    /// Sign-in options arrived.
    SignInReady(u32, Result<SignInStarted<Options>, Failure>),
    /// `navigator.credentials.get()` was called in the click.
    SigningIn(u32, Result<Promise, PasskeyError>),
    /// The browser answered (or not).
    SignInAsserted(u32, Result<passkey::Credential, PasskeyError>),
    /// The verifier opened (or refused) a session.
    SignedIn(u32, Result<SignedIn, Failure>),
    /// The requester's requests arrived.
    RequestsLoaded(u32, Result<MyRequests, Failure>),
    /// "Download the receipt" of a request.
    Download(String),
    /// A receipt arrived.
    ReceiptLoaded(String, Result<String, Failure>),
    /// "Start a new request" with the passkey already in use.
    NewRequest,
    /// "Sign out" (`None`), or the list's idle timer ran out (the epoch the
    /// list was shown in: a list shown again since has a timer of its own).
    SignOut(Option<u32>),
    /// The verifier answered a sign-out (nothing to do: the widget already forgot the session).
    SignedOut,
    /// "Start a request" the usual way (no passkey here).
    NormalRoute,
    /// A proof-of-authority file was chosen.
    FileChosen(web_sys::File),
    /// The file was checked and uploaded (or refused); the number is the
    /// upload's generation ([`Proof`]), stale ones are dropped.
    FileUploaded(u32, Result<Attachment, ProofError>),
    /// Time to try a busy upload again (its generation).
    RetryUpload(u32),
    /// "Remove" next to an uploaded file.
    RemoveFile(usize),
    /// A parent's relationship was chosen (`None`: "Other", to be typed).
    Relationship(Option<Relationship>),
    /// "Clear my answers" (`false`: ask first) or "Keep my answers" (`None`).
    ClearAnswers(Option<bool>),
}

/// True when a failed finish may still have been stored: no answer, or one
/// the widget could not read, or the service was unavailable to answer.
fn outcome_unknown(failure: &Failure) -> bool {
    match failure {
        Failure::Network | Failure::BadResponse => true,
        Failure::Api(e) => e.code == ErrorCode::Unavailable,
        Failure::Passkey(_) | Failure::Tampered => false,
    }
}

/// Runs `future` and delivers its message to [`App`]. Every call shares one
/// instantiation of yew's `send_future` (about 3 KB of wasm each otherwise).
fn spawn(link: &html::Scope<App>, future: impl Future<Output = Msg> + 'static) {
    link.send_future(Box::pin(future) as Pin<Box<dyn Future<Output = Msg>>>);
}

/// The records request widget.
pub struct App {
    pub(crate) lang: Lang,
    pub(crate) site: SiteState,
    pub(crate) input: RecordsRequest,
    pub(crate) field_errors: Vec<FieldError>,
    pub(crate) step: Step,
    pub(crate) passkey: Passkey,
    pub(crate) alert: Option<Failure>,
    pub(crate) refs: Refs,
    /// The proof-of-authority file input.
    pub(crate) proof: Proof,
    /// "Other" is chosen as the parent's relationship (typed, maybe still empty).
    pub(crate) relationship_other: bool,
    /// What happened to the saved answers, said on the current form step.
    pub(crate) progress_note: Option<ProgressNote>,
    /// "Clear my answers" was pressed and waits for confirmation.
    pub(crate) confirm_clear: bool,
    /// A signed finish was sent and its answer has not arrived: kept with the
    /// saved answers, so a reload keeps the request locked and its key.
    pub(crate) pending: Option<Pending>,
    /// Incremented whenever in-flight results become stale.
    pub(crate) epoch: u32,
    credential: Option<Credential>,
    email_proof: Option<EmailProof>,
    session: Option<Session>,
    /// Why the status view's sign-in shows again, when the requester was signed out.
    pub(crate) signed_out: Option<SignedOut>,
    focus: Option<Focus>,
    /// Focus was inside the widget before the update being rendered: if the
    /// render removed (or disabled) the focused control, it is put back on a
    /// stable one instead of falling to the page's `<body>`.
    had_focus: bool,
    /// Focus was lost while a file uploads; put back once the input is usable.
    refocus_after_upload: bool,
}

impl Component for App {
    type Message = Msg;
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link().send_message(Msg::LoadSite);
        if ctx.props().status_view {
            ctx.link().send_message(Msg::OpenStatus);
        }
        let restored = progress::restore(&ctx.props().site);
        let progress_note = restored
            .as_ref()
            .is_some_and(|r| r.input != RecordsRequest::default())
            .then_some(ProgressNote::Restored);
        let (step, input, pending) = restored
            .map_or((FormStep::Intro, RecordsRequest::default(), None), |r| {
                (r.step, r.input, r.pending)
            });
        // A finish of these answers went unanswered: the same language and
        // passkey sign again, so the verifier can match the key.
        let lang = pending.as_ref().map_or(ctx.props().lang, |p| p.lang);
        let credential = pending.as_ref().map(Credential::of);
        let step = if pending.is_some() {
            FormStep::Sign
        } else {
            step
        };
        App {
            lang,
            site: SiteState::Loading,
            input,
            field_errors: Vec::new(),
            step: Step::Form(step),
            passkey: Passkey::Preparing,
            alert: None,
            refs: Refs::default(),
            proof: Proof::default(),
            relationship_other: false,
            progress_note,
            confirm_clear: false,
            pending,
            epoch: 0,
            credential,
            email_proof: None,
            session: None,
            signed_out: None,
            focus: None,
            had_focus: false,
            refocus_after_upload: false,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        self.had_focus = self.focus_inside();
        match msg {
            Msg::SetLang(lang) => self.set_lang(ctx, lang),
            Msg::LoadSite => {
                self.site = SiteState::Loading;
                let (client, site) = (ctx.props().client.clone(), ctx.props().site.clone());
                spawn(ctx.link(), async move {
                    Msg::SiteLoaded(client.site(&site).await.map(Box::new))
                });
            }
            Msg::SiteLoaded(result) => {
                self.site = match result {
                    Ok(info) => SiteState::Ready(info),
                    Err(failure) => SiteState::Failed(failure),
                }
            }
            Msg::Set(set, value) => {
                set(&mut self.input, value);
                self.save_progress(ctx);
            }
            Msg::Change(change) => {
                change(&mut self.input);
                self.save_progress(ctx);
            }
            Msg::Next => self.next(ctx),
            Msg::Back => {
                if let Step::Form(step) = self.step {
                    self.go_to(ctx, step.back().unwrap_or(step));
                }
            }
            Msg::Edit => {
                if self.review_locked() {
                    return false;
                }
                self.epoch += 1;
                self.go_to(ctx, FormStep::Sign);
            }
            Msg::CodeSent(epoch, result) if epoch == self.epoch => self.code_sent(ctx, result),
            Msg::CodeInput(value) => match &mut self.step {
                Step::Email(check) => check.input = value,
                _ => return false,
            },
            Msg::VerifyCode => self.verify_code(ctx),
            Msg::CodeVerified(epoch, result) if epoch == self.epoch => {
                self.code_verified(ctx, result)
            }
            Msg::ResendReady(epoch) if epoch == self.epoch => match &mut self.step {
                Step::Email(check) => check.can_resend = true,
                _ => return false,
            },
            Msg::Resend => self.send_code(ctx, true),
            Msg::Retry if matches!(self.step, Step::Status(_)) => self.open_status(ctx),
            Msg::Retry => match self.passkey {
                Passkey::Stuck(Retry::Registration) => self.start_registration(ctx),
                Passkey::Stuck(Retry::Signing) => self.start_signing(ctx),
                _ => return false,
            },
            Msg::OpenStatus => {
                // Not while the browser's passkey dialog is open for a signature.
                if matches!(self.step, Step::Review(_)) && self.passkey.in_ceremony() {
                    return false;
                }
                self.open_status(ctx);
            }
            Msg::NewRequest => self.new_request(ctx),
            Msg::SignOut(generation) => {
                let listed = matches!(self.step, Step::Status(StatusView::List(_)));
                match generation {
                    None => self.sign_out(ctx, SignedOut::Requested),
                    Some(epoch) if listed && epoch == self.epoch => {
                        self.sign_out(ctx, SignedOut::Idle);
                    }
                    Some(_) => return false,
                }
            }
            Msg::SignedOut => return false,
            Msg::NormalRoute => {
                self.epoch += 1;
                self.go_to(ctx, FormStep::Intro);
            }
            msg @ (Msg::SignInReady(..)
            | Msg::SigningIn(..)
            | Msg::SignInAsserted(..)
            | Msg::SignedIn(..)
            | Msg::RequestsLoaded(..)
            | Msg::Download(_)
            | Msg::ReceiptLoaded(..)) => return self.status_update(ctx, msg),
            Msg::FileChosen(file) => self.file_chosen(ctx, file),
            Msg::FileUploaded(generation, result) => {
                if !self.proof.current(generation) {
                    return false;
                }
                self.proof.busy = false;
                match result {
                    Ok(attachment) => {
                        self.proof.done();
                        self.input.requester.attachments.push(attachment);
                        self.file_list_changed(ctx);
                    }
                    Err(ProofError::Busy(failure, retry_after)) => {
                        // Retried by itself while the field is on screen; then the error.
                        let on_step = matches!(self.step, Step::Form(FormStep::Who));
                        match self.proof.wait(retry_after).filter(|_| on_step) {
                            Some(secs) => spawn(ctx.link(), async move {
                                clock::sleep(secs.saturating_mul(1000) as i32).await;
                                Msg::RetryUpload(generation)
                            }),
                            None => {
                                self.proof.done();
                                self.proof.error = Some(ProofError::Failed(failure));
                            }
                        }
                    }
                    Err(e) => {
                        self.proof.done();
                        self.proof.error = Some(e);
                    }
                }
            }
            Msg::RetryUpload(generation) => {
                if !self.proof.current(generation) {
                    return false;
                }
                if !matches!(self.step, Step::Form(FormStep::Who)) {
                    self.proof.cancel();
                } else if let Some(file) = self.proof.retry() {
                    self.upload(ctx, file, generation);
                }
            }
            Msg::Relationship(chosen) => {
                self.relationship_other = chosen.is_none();
                let typed = &mut self.input.requester.relationship;
                match chosen {
                    Some(rel) => *typed = rel.words(self.lang).to_owned(),
                    None if Relationship::recognise(typed).is_some() => typed.clear(),
                    None => {}
                }
                self.save_progress(ctx);
            }
            Msg::ClearAnswers(None) => {
                self.confirm_clear = false;
                self.focus = Some(Focus::Clear);
            }
            Msg::ClearAnswers(Some(false)) => {
                self.confirm_clear = true;
                self.focus = Some(Focus::ClearConfirm);
            }
            Msg::ClearAnswers(Some(true)) => self.clear_answers(ctx),
            Msg::RemoveFile(i) => {
                self.proof.cancel();
                if i < self.input.requester.attachments.len() {
                    self.input.requester.attachments.remove(i);
                }
                self.file_list_changed(ctx);
            }
            msg => return self.ceremony(ctx, msg),
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let lang_buttons = Lang::ALL.map(|lang| {
            let pressed = lang == self.lang;
            html! {
                <button
                    type="button"
                    class="rp-lang-button"
                    lang={lang.tag()}
                    aria-pressed={if pressed { "true" } else { "false" }}
                    aria-disabled={self.review_locked().then_some("true")}
                    data-testid={format!("lang-{}", lang.tag())}
                    onclick={ctx.link().callback(move |_| Msg::SetLang(lang))}
                >{ i18n::language_name(lang) }</button>
            }
        });
        let step = match (&self.step, &self.site) {
            (Step::Form(step), SiteState::Ready(site)) => self.form_step(ctx, *step, site),
            (Step::Form(_), _) => steps::loading(self, ctx),
            (step, _) => self.later_step(ctx, step),
        };
        html! {
            <div class="rp" part="root" lang={self.lang.tag()} ref={self.refs.root.clone()}>
                <div class="rp-lang" part="language-switch" role="group" aria-label={i18n::text(self.lang).language}>
                    { for lang_buttons }
                </div>
                { step }
            </div>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        let had_focus = std::mem::take(&mut self.had_focus);
        if self.focus.is_none() && (had_focus || self.refocus_after_upload) && !self.focus_inside()
        {
            // The focused control went away (or was disabled) in this render.
            if self.proof.busy {
                self.refocus_after_upload = true;
                return;
            }
            self.refocus_after_upload = false;
            return self.rescue_focus();
        }
        let target = match self.focus.take() {
            Some(Focus::Heading) => &self.refs.heading,
            Some(Focus::Summary) => &self.refs.summary,
            Some(Focus::Code) => &self.refs.code,
            Some(Focus::Sign) => &self.refs.sign,
            Some(Focus::Clear) => &self.refs.clear,
            Some(Focus::ClearConfirm) => &self.refs.clear_confirm,
            None => return,
        };
        if let Some(element) = target.cast::<HtmlElement>() {
            // Focusing can only fail for detached elements; nothing to do then.
            let _ = element.focus();
        }
    }
}

impl App {
    /// True if an element inside the widget's shadow root has focus.
    fn focus_inside(&self) -> bool {
        use wasm_bindgen::JsCast as _;
        self.refs
            .root
            .cast::<web_sys::Node>()
            .and_then(|node| node.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok())
            .is_some_and(|root| root.active_element().is_some())
    }

    /// Focuses the nearest stable control of the current screen: "Sign my
    /// request" once the passkey exists, the code field, the file input, or
    /// else the step's heading.
    fn rescue_focus(&self) {
        let candidates = [
            &self.refs.sign,
            &self.refs.code,
            &self.refs.proof_file,
            &self.refs.heading,
        ];
        for candidate in candidates {
            let Some(element) = candidate.cast::<HtmlElement>() else {
                continue;
            };
            let _ = element.focus();
            if self.focus_inside() {
                return;
            }
        }
    }

    fn form_step(&self, ctx: &Context<Self>, step: FormStep, site: &SiteInfo) -> Html {
        match step {
            FormStep::Intro => steps::intro::view(self, ctx, site),
            FormStep::Who => steps::who::view(self, ctx, site),
            FormStep::Patient => steps::patient::view(self, ctx),
            FormStep::Records => steps::records::view(self, ctx, site),
            FormStep::Delivery => steps::delivery::view(self, ctx, site),
            FormStep::Consent => steps::consent::view(self, ctx, site),
            FormStep::Sign => steps::sign::view(self, ctx, site),
        }
    }

    fn later_step(&self, ctx: &Context<Self>, step: &Step) -> Html {
        match step {
            Step::Form(_) => Html::default(),
            Step::Email(check) => steps::email::view(self, ctx, check),
            Step::Review(review) => steps::review::view(self, ctx, review),
            Step::Done(done) => steps::done::view(self, done),
            Step::Status(view) => steps::status::view(self, ctx, view),
        }
    }

    /// The site, once loaded.
    pub(crate) fn site_info(&self) -> Option<&SiteInfo> {
        match &self.site {
            SiteState::Ready(info) => Some(info),
            _ => None,
        }
    }

    fn set_lang(&mut self, ctx: &Context<Self>, lang: Lang) {
        if self.review_locked() || lang == self.lang {
            return;
        }
        self.lang = lang;
        // A chosen relationship is written in the statement's language.
        self.input.requester.relationship_in(lang);
        self.save_progress(ctx);
        // …also in the request waiting for the email code, which is reviewed next.
        if let Step::Email(check) = &mut self.step {
            check.request.requester.relationship_in(lang);
        }
        // The statement is signed in the language it is shown in: re-render it
        // and, if a signing ceremony was prepared for the old text, prepare anew.
        let (Step::Review(review), SiteState::Ready(site)) = (&mut self.step, &self.site) else {
            return;
        };
        let mut request = review.document.request.clone();
        request.requester.relationship_in(lang);
        *review = Review::new(site, request, lang, None);
        if matches!(
            self.passkey,
            Passkey::PreparingSignature | Passkey::ReadyToSign(_) | Passkey::Stuck(Retry::Signing)
        ) {
            self.start_signing(ctx);
        }
    }

    /// "Clear my answers": forgets everything typed, here and in the tab's
    /// storage, and starts over at the introduction.
    fn clear_answers(&mut self, ctx: &Context<Self>) {
        progress::clear(&ctx.props().site);
        // Also the key of an unanswered finish: these answers are gone.
        self.pending = None;
        self.epoch += 1;
        self.input = RecordsRequest::default();
        self.proof.clear();
        self.relationship_other = false;
        self.email_proof = None;
        self.field_errors.clear();
        self.alert = None;
        self.confirm_clear = false;
        self.progress_note = Some(ProgressNote::Cleared);
        self.step = Step::Form(FormStep::Intro);
        self.focus = Some(Focus::Heading);
    }

    /// Shows form step `step`, its heading focused. While a finish is
    /// unanswered ([`App::pending`]) only the signature step is shown: the
    /// answers stay as they were signed.
    fn go_to(&mut self, ctx: &Context<Self>, step: FormStep) {
        let step = if self.pending.is_some() {
            FormStep::Sign
        } else {
            step
        };
        self.progress_note = None;
        self.confirm_clear = false;
        // Leaving the step: a busy upload is not retried behind the requester's back.
        self.proof.cancel();
        self.step = Step::Form(step);
        self.field_errors.clear();
        self.alert = None;
        self.focus = Some(Focus::Heading);
        self.save_progress(ctx);
    }

    /// Checks the size at once (before reading a byte), then reads, checks and
    /// uploads. A retry still waiting for another file is cancelled.
    fn file_chosen(&mut self, ctx: &Context<Self>, file: web_sys::File) {
        self.proof.cancel();
        self.proof.error = None;
        if let Err(problem) = check_size(file.size() as u64) {
            self.proof.error = Some(ProofError::File(problem));
            return;
        }
        let generation = self.proof.start(file.clone());
        self.upload(ctx, file, generation);
    }

    /// Reads, checks and uploads `file` (upload `generation`).
    fn upload(&mut self, ctx: &Context<Self>, file: web_sys::File, generation: u32) {
        self.proof.busy = true;
        let (client, site) = (ctx.props().client.clone(), ctx.props().site.clone());
        spawn(ctx.link(), async move {
            let result = steps::proof::upload(client, site.to_string(), file).await;
            Msg::FileUploaded(generation, result)
        });
    }

    /// After a file is added or removed: old per-file errors no longer apply.
    fn file_list_changed(&mut self, ctx: &Context<Self>) {
        self.proof.error = None;
        self.field_errors.retain(|e| {
            !matches!(
                e.field,
                Field::RequesterAttachment(_) | Field::RequesterAttachments
            )
        });
        self.save_progress(ctx);
    }

    fn save_progress(&self, ctx: &Context<Self>) {
        if let Step::Form(step) = self.step {
            progress::save(&ctx.props().site, step, &self.input, self.pending.as_ref());
        }
    }

    /// Saves [`App::pending`] with the answers, as of the signature step
    /// (where a reload returns to: the typed signature is never kept).
    fn save_pending(&self, ctx: &Context<Self>) {
        let site = &ctx.props().site;
        progress::save(site, FormStep::Sign, &self.input, self.pending.as_ref());
    }

    /// A signed finish is about to be sent: remember its key with the
    /// answers until its answer arrives.
    fn finish_sent(&mut self, ctx: &Context<Self>) {
        let (Some(review), Some(credential)) = (self.review_state(), &self.credential) else {
            return;
        };
        let Some(key) = review.idempotency_key.clone() else {
            return;
        };
        self.pending = Some(Pending {
            key,
            credential_id: credential.id.clone(),
            email: credential.email.clone(),
            lang: review.document.lang,
        });
        self.save_pending(ctx);
    }

    /// "Continue": the shared validation, limited to the fields shown so far.
    fn next(&mut self, ctx: &Context<Self>) {
        let (Step::Form(step), Some(site)) = (&self.step, self.site_info()) else {
            return;
        };
        let (step, offer) = (*step, site.offer());
        self.input.signed_on = clock::today().to_string();
        let errors = match self.input.validate_for(clock::today(), &offer) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        };
        let shown: Vec<FieldError> = errors
            .into_iter()
            .filter(|e| FormStep::of(e.field) as u8 <= step as u8)
            .collect();
        if let Some(first) = shown.first() {
            // An earlier answer may have become invalid (a role change, say): go there.
            let at = FormStep::of(first.field);
            if at != step {
                self.step = Step::Form(at);
            }
            self.field_errors = shown
                .into_iter()
                .filter(|e| FormStep::of(e.field) == at)
                .collect();
            self.alert = None;
            self.focus = Some(Focus::Summary);
            return;
        }
        if let Some(next) = step.next() {
            return self.go_to(ctx, next);
        }
        match self.input.validate_for(clock::today(), &offer) {
            Err(errors) => self.field_errors = errors,
            Ok(request) => {
                self.field_errors.clear();
                let email = &request.requester.email;
                let proven = self.credential.as_ref().is_some_and(|c| &c.email == email)
                    || self.email_proof.as_ref().is_some_and(|p| &p.email == email);
                // Without passkeys there is nothing to prove the address for.
                if proven || !passkey::supported() {
                    self.enter_review(ctx, request);
                } else {
                    self.check_email(ctx, request);
                }
            }
        }
    }

    /// Shows the review screen and prepares the passkey step.
    fn enter_review(&mut self, ctx: &Context<Self>, request: RecordsRequest) {
        let Some(site) = self.site_info() else { return };
        let email = request.requester.email.clone();
        let review = Review::new(site, request, self.lang, self.pending.as_ref());
        self.step = Step::Review(review);
        if let Some(pending) = &self.pending {
            // Signed again by the passkey that signed first: the verifier
            // matches the key per requester, and a passkey is one.
            self.credential = Some(Credential::of(pending));
        }
        self.alert = None;
        self.focus = Some(Focus::Heading);
        if !passkey::supported() {
            self.epoch += 1;
            self.passkey = Passkey::Unavailable;
            self.alert = Some(Failure::Passkey(PasskeyError::Unsupported));
        } else if self.credential.as_ref().is_some_and(|c| c.email == email) {
            self.start_signing(ctx);
        } else {
            self.credential = None;
            self.start_registration(ctx);
        }
    }

    /// Shows "Check your email" and sends a code.
    fn check_email(&mut self, ctx: &Context<Self>, request: RecordsRequest) {
        self.email_proof = None;
        self.step = Step::Email(EmailCheck {
            request,
            verification_id: None,
            input: String::new(),
            phase: CodePhase::Sending,
            code_error: None,
            can_resend: false,
            resent: false,
        });
        self.focus = Some(Focus::Heading);
        self.send_code(ctx, false);
    }

    fn send_code(&mut self, ctx: &Context<Self>, resend: bool) {
        let site_id = ctx.props().site.to_string();
        let lang = self.lang;
        let Step::Email(check) = &mut self.step else {
            return;
        };
        if check.phase != CodePhase::Sent && resend {
            return;
        }
        let body = SendEmailCode {
            site_id,
            email: check.request.requester.email.clone(),
            lang,
        };
        check.phase = CodePhase::Sending;
        check.code_error = None;
        check.can_resend = false;
        check.resent |= resend;
        check.input.clear();
        self.alert = None;
        self.epoch += 1;
        let (epoch, client) = (self.epoch, ctx.props().client.clone());
        spawn(ctx.link(), async move {
            Msg::CodeSent(epoch, client.send_email_code(&body).await)
        });
    }

    fn code_sent(&mut self, ctx: &Context<Self>, result: Result<EmailCodeSent, Failure>) {
        let Step::Email(check) = &mut self.step else {
            return;
        };
        check.phase = CodePhase::Sent;
        match result {
            Ok(sent) => {
                check.verification_id = Some(sent.verification_id);
                self.focus = Some(Focus::Code);
                let epoch = self.epoch;
                spawn(ctx.link(), async move {
                    crate::clock::sleep(RESEND_AFTER_MS).await;
                    Msg::ResendReady(epoch)
                });
            }
            Err(failure) => {
                check.can_resend = true;
                self.alert = Some(failure);
            }
        }
    }

    fn verify_code(&mut self, ctx: &Context<Self>) {
        let Step::Email(check) = &mut self.step else {
            return;
        };
        let Some(id) = check
            .verification_id
            .clone()
            .filter(|_| check.phase == CodePhase::Sent)
        else {
            return;
        };
        let code: String = check
            .input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            check.code_error = Some(CodeError::Format);
            self.focus = Some(Focus::Code);
            return;
        }
        check.phase = CodePhase::Verifying;
        check.code_error = None;
        self.alert = None;
        let (epoch, client) = (self.epoch, ctx.props().client.clone());
        spawn(ctx.link(), async move {
            let body = VerifyEmailCode { code };
            Msg::CodeVerified(epoch, client.verify_email_code(&id, &body).await)
        });
    }

    fn code_verified(&mut self, ctx: &Context<Self>, result: Result<EmailVerified, Failure>) {
        let Step::Email(check) = &mut self.step else {
            return;
        };
        check.phase = CodePhase::Sent;
        let code = match &result {
            Err(Failure::Api(e)) => Some(e.code),
            _ => None,
        };
        match (result, code) {
            (Ok(verified), _) => {
                let email = check.request.requester.email.clone();
                let request = check.request.clone();
                self.email_proof = Some(EmailProof {
                    email,
                    token: verified.email_token,
                });
                self.enter_review(ctx, request);
            }
            (Err(Failure::Api(e)), Some(ErrorCode::CodeIncorrect)) => {
                check.code_error = Some(CodeError::Incorrect(e.attempts_left.unwrap_or(0)));
                self.focus = Some(Focus::Code);
            }
            (Err(_), Some(ErrorCode::CodeExpired)) => {
                check.code_error = Some(CodeError::Expired);
                check.can_resend = true;
                self.focus = Some(Focus::Code);
            }
            (Err(_), Some(ErrorCode::TooManyAttempts)) => {
                check.code_error = Some(CodeError::TooManyAttempts);
                check.can_resend = true;
                self.focus = Some(Focus::Code);
            }
            (Err(failure), _) => self.alert = Some(failure),
        }
    }

    fn review_state(&self) -> Option<&Review> {
        match &self.step {
            Step::Review(review) => Some(review),
            _ => None,
        }
    }

    fn start_registration(&mut self, ctx: &Context<Self>) {
        let Some(review) = self.review_state() else {
            return;
        };
        let request = &review.document.request;
        let token = self
            .email_proof
            .as_ref()
            .filter(|proof| proof.email == request.requester.email);
        let Some(token) = token.map(|proof| proof.token.clone()) else {
            let request = request.clone();
            return self.check_email(ctx, request);
        };
        let body = StartRegistration {
            site_id: review.document.site.id.clone(),
            email_token: token,
            display_name: request.signer_name().to_owned(),
        };
        self.epoch += 1;
        self.passkey = Passkey::Preparing;
        let (epoch, client) = (self.epoch, ctx.props().client.clone());
        spawn(ctx.link(), async move {
            Msg::RegistrationReady(epoch, client.start_registration(&body).await)
        });
    }

    fn start_signing(&mut self, ctx: &Context<Self>) {
        let Some(review) = self.review_state() else {
            return;
        };
        let Some(credential) = &self.credential else {
            return self.start_registration(ctx);
        };
        let body = StartSigning {
            site_id: review.document.site.id.clone(),
            lang: review.document.lang,
            request: review.document.request.clone(),
            credential_id: credential.id.clone(),
            idempotency_key: review.idempotency_key.clone(),
            format: Some(recordpass_request::DOCUMENT_FORMAT.to_owned()),
        };
        self.epoch += 1;
        self.passkey = Passkey::PreparingSignature;
        let (epoch, client) = (self.epoch, ctx.props().client.clone());
        let session = self.session.as_ref().map(|s| s.token.clone());
        spawn(ctx.link(), async move {
            let started = client.start_signing(&body, session.as_deref()).await;
            Msg::SigningReady(epoch, started.map(Box::new))
        });
    }

    /// Advances the passkey ceremonies; stale or out-of-order results are dropped.
    fn ceremony(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let link = ctx.link();
        let client = ctx.props().client.clone();
        let current = self.epoch;
        match (msg, &self.passkey) {
            (Msg::RegistrationReady(epoch, result), Passkey::Preparing) if epoch == current => {
                match result {
                    Ok(started) => self.passkey = Passkey::ReadyToCreate(Rc::new(started)),
                    Err(failure) => self.fail(ctx, Stage::PrepareRegistration, failure),
                }
            }
            (Msg::Creating(epoch, result), Passkey::ReadyToCreate(started)) if epoch == current => {
                let ceremony = started.ceremony_id.clone();
                self.alert = None;
                match result {
                    Ok(promise) => {
                        self.passkey = Passkey::Creating(ceremony);
                        spawn(link, async move {
                            Msg::Created(epoch, passkey::created(promise).await)
                        });
                    }
                    Err(error) => self.fail(ctx, Stage::Create, Failure::Passkey(error)),
                }
            }
            (Msg::Created(epoch, result), Passkey::Creating(ceremony)) if epoch == current => {
                match result {
                    Ok(credential) => {
                        let ceremony = ceremony.clone();
                        let email = self
                            .review_state()
                            .map(|r| r.document.request.requester.email.clone());
                        self.passkey = Passkey::Saving;
                        spawn(link, async move {
                            let result = client.finish_registration(&ceremony, &credential).await;
                            Msg::Registered(epoch, email.unwrap_or_default(), result)
                        });
                    }
                    Err(error) => self.fail(ctx, Stage::Create, Failure::Passkey(error)),
                }
            }
            (Msg::Registered(epoch, email, result), Passkey::Saving) if epoch == current => {
                match result {
                    Ok(Registered { credential_id }) => {
                        // The token is used up; the passkey now stands for the address.
                        self.email_proof = None;
                        self.credential = Some(Credential {
                            id: credential_id,
                            email,
                        });
                        self.start_signing(ctx);
                    }
                    Err(failure) => self.fail(ctx, Stage::Create, failure),
                }
            }
            (Msg::SigningReady(epoch, result), Passkey::PreparingSignature) if epoch == current => {
                let checked = result.and_then(|started| {
                    let review = self.review_state().ok_or(Failure::Tampered)?;
                    if signs_exactly(&review.document, &started) {
                        Ok(started)
                    } else {
                        Err(Failure::Tampered)
                    }
                });
                match checked {
                    Ok(started) => {
                        self.passkey = Passkey::ReadyToSign(Rc::new(*started));
                        if !self.focus_inside() {
                            self.focus = Some(Focus::Sign);
                        }
                    }
                    Err(failure) => self.fail(ctx, Stage::PrepareSigning, failure),
                }
            }
            (Msg::Signing(epoch, result), Passkey::ReadyToSign(started)) if epoch == current => {
                let ceremony = started.ceremony_id.clone();
                self.alert = None;
                match result {
                    Ok(promise) => {
                        self.passkey = Passkey::Signing(ceremony);
                        spawn(link, async move {
                            Msg::Signed(epoch, passkey::asserted(promise).await)
                        });
                    }
                    Err(error) => self.fail(ctx, Stage::Sign, Failure::Passkey(error)),
                }
            }
            (Msg::Signed(epoch, result), Passkey::Signing(ceremony)) if epoch == current => {
                match result {
                    Ok(credential) => {
                        let ceremony = ceremony.clone();
                        self.passkey = Passkey::Submitting;
                        self.finish_sent(ctx);
                        spawn(link, async move {
                            Msg::Submitted(
                                epoch,
                                client.finish_signing(&ceremony, &credential).await,
                            )
                        });
                    }
                    Err(error) => self.fail(ctx, Stage::Sign, Failure::Passkey(error)),
                }
            }
            (Msg::Submitted(epoch, result), Passkey::Submitting) if epoch == current => {
                match result {
                    Ok(submitted) => {
                        let step = std::mem::replace(&mut self.step, Step::Form(FormStep::Intro));
                        if let Step::Review(review) = step {
                            self.step = Step::Done(Done { review, submitted });
                        }
                        // Submitted: nothing of the request stays in the tab.
                        progress::clear(&ctx.props().site);
                        self.pending = None;
                        self.epoch += 1;
                        self.alert = None;
                        self.focus = Some(Focus::Heading);
                    }
                    Err(failure) => {
                        if let Step::Review(review) = &mut self.step {
                            review.outcome_unknown |= outcome_unknown(&failure);
                            if !review.outcome_unknown {
                                // Refused, and no earlier finish may be stored: no key to keep.
                                self.pending = None;
                                self.save_pending(ctx);
                            }
                        }
                        self.fail(ctx, Stage::Sign, failure)
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// Forgets the session and the passkey in use, asks the verifier to end
    /// the session (should that call fail, the token ends by itself after 15
    /// minutes idle), and shows the sign-in again, saying why.
    fn sign_out(&mut self, ctx: &Context<Self>, why: SignedOut) {
        if let Some(session) = self.session.take() {
            let client = ctx.props().client.clone();
            spawn(ctx.link(), async move {
                let _ = client.sign_out(&session.token).await;
                Msg::SignedOut
            });
        }
        self.credential = None;
        self.open_status(ctx);
        self.signed_out = Some(why);
    }

    /// Shows the status view and prepares the sign-in ceremony (its options
    /// are fetched first so the browser is called right in the click).
    fn open_status(&mut self, ctx: &Context<Self>) {
        self.signed_out = None;
        self.proof.cancel();
        self.epoch += 1;
        self.alert = None;
        self.field_errors.clear();
        self.focus = Some(Focus::Heading);
        if !passkey::supported() {
            self.step = Step::Status(StatusView::NoPasskey);
            return;
        }
        if let Some(session) = &self.session {
            self.step = Step::Status(StatusView::Loading);
            let (epoch, client, token) = (
                self.epoch,
                ctx.props().client.clone(),
                session.token.clone(),
            );
            spawn(ctx.link(), async move {
                Msg::RequestsLoaded(epoch, client.my_requests(&token).await)
            });
            return;
        }
        self.step = Step::Status(StatusView::Preparing);
        let body = StartSignIn {
            site_id: ctx.props().site.to_string(),
        };
        let (epoch, client) = (self.epoch, ctx.props().client.clone());
        spawn(ctx.link(), async move {
            Msg::SignInReady(epoch, client.start_sign_in(&body).await)
        });
    }

    /// Advances sign-in, the list and receipt downloads; stale results are dropped.
    fn status_update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let Step::Status(view) = &mut self.step else {
            return false;
        };
        let current = self.epoch;
        let client = ctx.props().client.clone();
        let link = ctx.link();
        match msg {
            Msg::SignInReady(epoch, result) if epoch == current => match result {
                Ok(started) => *view = StatusView::Ready(Rc::new(started)),
                Err(failure) => {
                    *view = StatusView::Stuck;
                    self.alert = Some(failure);
                }
            },
            Msg::SigningIn(epoch, result) if epoch == current => {
                let StatusView::Ready(started) = view else {
                    return false;
                };
                let ceremony = started.ceremony_id.clone();
                self.alert = None;
                match result {
                    Ok(promise) => {
                        *view = StatusView::Waiting(ceremony);
                        spawn(link, async move {
                            Msg::SignInAsserted(epoch, passkey::asserted(promise).await)
                        });
                    }
                    Err(_) => {
                        *view = StatusView::NoPasskey;
                        self.focus = Some(Focus::Heading);
                    }
                }
            }
            Msg::SignInAsserted(epoch, result) if epoch == current => {
                let StatusView::Waiting(ceremony) = view else {
                    return false;
                };
                match result {
                    Ok(credential) => {
                        let ceremony = ceremony.clone();
                        *view = StatusView::Loading;
                        spawn(link, async move {
                            Msg::SignedIn(
                                epoch,
                                client.finish_sign_in(&ceremony, &credential).await,
                            )
                        });
                    }
                    Err(_) => {
                        // No passkey for this site here, or the dialog was closed.
                        *view = StatusView::NoPasskey;
                        self.focus = Some(Focus::Heading);
                    }
                }
            }
            Msg::SignedIn(epoch, result) if epoch == current => match result {
                Ok(signed_in) => {
                    self.credential = Some(Credential {
                        id: signed_in.credential_id,
                        email: signed_in.email,
                    });
                    let token = signed_in.session_token;
                    self.session = Some(Session {
                        token: token.clone(),
                    });
                    spawn(link, async move {
                        Msg::RequestsLoaded(epoch, client.my_requests(&token).await)
                    });
                }
                Err(Failure::Api(e)) if e.code == ErrorCode::PasskeyRejected => {
                    *view = StatusView::NoPasskey;
                    self.focus = Some(Focus::Heading);
                }
                Err(failure) => {
                    *view = StatusView::Stuck;
                    self.alert = Some(failure);
                }
            },
            Msg::RequestsLoaded(epoch, result) if epoch == current => match result {
                Ok(list) => {
                    *view = StatusView::List(list);
                    self.alert = None;
                    self.focus = Some(Focus::Heading);
                    spawn(link, async move {
                        crate::clock::sleep(LIST_SHOWN_MS).await;
                        Msg::SignOut(Some(epoch))
                    });
                }
                Err(failure) => {
                    if matches!(&failure, Failure::Api(e) if e.code == ErrorCode::SignInRequired) {
                        self.session = None;
                    }
                    *view = StatusView::Stuck;
                    self.alert = Some(failure);
                }
            },
            Msg::Download(number) => {
                let Some(session) = &self.session else {
                    return false;
                };
                let token = session.token.clone();
                spawn(link, async move {
                    let result = client.receipt(&token, &number).await;
                    Msg::ReceiptLoaded(number, result)
                });
                return false;
            }
            Msg::ReceiptLoaded(number, result) => match result {
                Ok(json) => {
                    if !crate::download::save(&format!("{number}.receipt.json"), &json) {
                        self.alert = Some(Failure::BadResponse);
                    }
                }
                Err(failure) => self.alert = Some(failure),
            },
            _ => return false,
        }
        true
    }

    /// "Start a new request": the form again, with the signed-in passkey's
    /// address, so signing needs no email code and no new passkey.
    fn new_request(&mut self, ctx: &Context<Self>) {
        let Some(credential) = &self.credential else {
            return;
        };
        self.epoch += 1;
        // A new request: an unanswered finish of the earlier one (now in the
        // list, or not stored) no longer locks the form.
        self.pending = None;
        self.input = RecordsRequest::default();
        self.input.requester.email = credential.email.clone();
        self.go_to(ctx, FormStep::Who);
    }

    /// Shows `failure` and gets the requester back to a state they can act on.
    fn fail(&mut self, ctx: &Context<Self>, stage: Stage, failure: Failure) {
        match &failure {
            Failure::Api(e) if e.code == ErrorCode::InvalidRequest && !e.fields.is_empty() => {
                // The verifier disagrees with a field: back to its step, next to it.
                let at = FormStep::of(e.fields[0].field);
                self.field_errors = e
                    .fields
                    .iter()
                    .filter(|f| FormStep::of(f.field) == at)
                    .copied()
                    .collect();
                self.epoch += 1;
                self.alert = None;
                self.step = Step::Form(at);
                self.focus = Some(Focus::Summary);
                return;
            }
            Failure::Api(e)
                if matches!(
                    e.code,
                    ErrorCode::EmailMismatch | ErrorCode::CredentialUnknown
                ) =>
            {
                self.credential = None;
                self.start_registration(ctx);
            }
            Failure::Api(e) if e.code == ErrorCode::SignInRequired => {
                // The returning requester's session ended: the passkey still
                // signs on its own, so prepare the signature without it.
                self.session = None;
                self.start_signing(ctx);
                return;
            }
            Failure::Api(e) if e.code == ErrorCode::EmailNotVerified => {
                // The proof expired or was used: prove the address again.
                self.email_proof = None;
                if let Some(review) = self.review_state() {
                    let request = review.document.request.clone();
                    self.check_email(ctx, request);
                }
            }
            Failure::Passkey(PasskeyError::Unsupported) => {
                self.epoch += 1;
                self.passkey = Passkey::Unavailable;
            }
            Failure::Tampered => self.passkey = Passkey::Stuck(Retry::Signing),
            _ => match stage {
                Stage::PrepareRegistration => self.passkey = Passkey::Stuck(Retry::Registration),
                Stage::PrepareSigning => self.passkey = Passkey::Stuck(Retry::Signing),
                // Ceremonies are single-use: prepare a fresh one so the button works again.
                Stage::Create => self.start_registration(ctx),
                Stage::Sign => self.start_signing(ctx),
            },
        }
        self.alert = Some(failure);
    }
}
