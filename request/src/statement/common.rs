//! Sentences every instrument shares: who asks, which records, delivery,
//! consent and signature.

use super::{Edition, esign};
use crate::{DeliveryMethod, Lang, RecordsRequest, Role, SensitiveCategory, SiteIdentity};

/// What a statement is rendered from.
pub(super) struct Context<'a> {
    pub site: &'a SiteIdentity,
    pub req: &'a RecordsRequest,
    pub lang: Lang,
    pub edition: Edition,
}

impl Context<'_> {
    fn en(&self) -> bool {
        self.lang == Lang::En
    }

    /// True for the wording of `recordpass.request.v2` documents.
    pub fn v2(&self) -> bool {
        self.edition == Edition::V2
    }

    /// `current`, or what `recordpass.request.v2` said instead.
    pub fn pick<'s>(&self, v2: &'s str, current: &'s str) -> &'s str {
        if self.v2() { v2 } else { current }
    }

    /// The patient, identified well enough to match the chart.
    pub fn patient(&self) -> String {
        let p = &self.req.patient;
        let en = self.en();
        let mut out = if en {
            format!("{}, born {}", p.legal_name, p.date_of_birth)
        } else {
            format!(
                "{}, con fecha de nacimiento {}",
                p.legal_name, p.date_of_birth
            )
        };
        if !p.former_names.is_empty() {
            let names = join(
                p.former_names.iter().map(String::as_str).collect(),
                self.lang,
            );
            out += &if en {
                format!(", also known as {names}")
            } else {
                format!(", también conocido(a) como {names}")
            };
        }
        if !p.mrn.is_empty() {
            out += &if en {
                format!(", medical record number {}", p.mrn)
            } else {
                format!(", número de expediente {}", p.mrn)
            };
        }
        if !p.address.is_empty() {
            out += &if en {
                format!(", living at {}", p.address.one_line())
            } else {
                format!(", con domicilio en {}", p.address.one_line())
            };
        }
        if !p.phone.is_empty() {
            out += &if en {
                format!(", phone {}", p.phone)
            } else {
                format!(", teléfono {}", p.phone)
            };
        }
        if !p.email.is_empty() {
            out += &if en {
                format!(", email {}", p.email)
            } else {
                format!(", correo {}", p.email)
            };
        }
        out
    }

    /// "I, NAME, am …": the signer and their authority (164.508(c)(1)(vi)).
    pub fn who(&self) -> String {
        let mut who = self.who_is_signing();
        who.push_str(&self.proof_of_authority());
        who
    }

    /// " Proof of authority attached: NAME (TYPE, SIZE, SHA-256 HEX); …", or
    /// nothing without files: the statement names each file and its digest.
    fn proof_of_authority(&self) -> String {
        let files = &self.req.requester.attachments;
        if files.is_empty() {
            return String::new();
        }
        let list: Vec<String> = files
            .iter()
            .map(|f| {
                format!(
                    "{} ({}, {}, SHA-256 {})",
                    f.name,
                    f.media_type.label(),
                    f.size_text(),
                    f.sha256
                )
            })
            .collect();
        let lead = match self.lang {
            Lang::En => "Proof of authority attached",
            Lang::Es => "Prueba de autoridad adjunta",
        };
        format!(" {lead}: {}.", list.join("; "))
    }

    fn who_is_signing(&self) -> String {
        let r = &self.req.requester;
        let (name, patient) = (self.req.signer_name(), self.patient());
        match (self.lang, r.role) {
            (Lang::En, Role::Patient) => format!("I, {name}, am the patient: {patient}."),
            (Lang::En, Role::ParentOrGuardian) => format!(
                "I, {name}, am the patient's {} and act as the parent or guardian of the patient, a minor: {patient}.",
                r.relationship
            ),
            (Lang::En, Role::LegalRepresentative) => format!(
                "I, {name}, am the {} of the patient{}, {patient}. My authority: {}.",
                self.pick("legal representative", "personal representative"),
                self.pick(
                    "",
                    " (a person with legal authority to make health care decisions for them)"
                ),
                r.authority
            ),
            (Lang::En, Role::Executor) => format!(
                "I, {name}, am the executor or administrator of the estate of the patient, {patient}. My authority: {}.",
                r.authority
            ),
            (Lang::Es, Role::Patient) => format!("Yo, {name}, soy el (la) paciente: {patient}."),
            (Lang::Es, Role::ParentOrGuardian) => format!(
                "Yo, {name}, soy {} del (de la) paciente y actúo como padre, madre o {} del (de la) paciente, menor de edad: {patient}.",
                r.relationship,
                self.pick("tutor", "tutor(a)"),
            ),
            (Lang::Es, Role::LegalRepresentative) => format!(
                "Yo, {name}, soy el (la) {} del (de la) paciente{}, {patient}. Mi autoridad: {}.",
                self.pick("representante legal", "representante personal"),
                self.pick(
                    "",
                    " (persona con autoridad legal para tomar decisiones de salud por él o ella)"
                ),
                r.authority
            ),
            (Lang::Es, Role::Executor) => format!(
                "Yo, {name}, soy el (la) albacea o administrador(a) {} del (de la) paciente, {patient}. Mi autoridad: {}.",
                self.pick("del patrimonio", "de la sucesión"),
                r.authority
            ),
        }
    }

    /// For parents: records of care the minor could consent to alone may need the minor's authorization.
    pub fn minor_note(&self) -> Option<String> {
        (self.req.requester.role == Role::ParentOrGuardian).then(|| match self.lang {
            Lang::En => "I understand that records of care the minor could lawfully consent to alone, or that I agreed to keep confidential, may be released only with the minor's own authorization.".to_owned(),
            Lang::Es => "Entiendo que los registros de atención que el (la) menor podía aceptar legalmente por sí mismo(a), o que acepté mantener confidenciales, solo se pueden entregar con la autorización del (de la) propio(a) menor.".to_owned(),
        })
    }

    /// The record kinds and dates, e.g. "lab test results, from all dates".
    pub fn records(&self) -> String {
        let s = &self.req.scope;
        let kinds = join(
            s.record_kinds.iter().map(|k| k.label(self.lang)).collect(),
            self.lang,
        );
        format!("{kinds}, {}", self.dates())
    }

    /// "from all dates" or "from A to B and from C to D".
    pub fn dates(&self) -> String {
        let s = &self.req.scope;
        if s.all_dates {
            return match self.lang {
                Lang::En => "from all dates".into(),
                Lang::Es => "de todas las fechas".into(),
            };
        }
        let ranges = s
            .date_ranges
            .iter()
            .map(|r| match self.lang {
                Lang::En => format!("from {} to {}", r.start, r.end),
                Lang::Es => format!("del {} al {}", r.start, r.end),
            })
            .collect::<Vec<_>>();
        join(ranges.iter().map(String::as_str).collect(), self.lang)
    }

    /// The sensitive categories explicitly included, psychotherapy notes aside
    /// (they have their own authorization).
    pub fn sensitive(&self) -> String {
        let list: Vec<&str> = self
            .req
            .scope
            .sensitive
            .iter()
            .filter(|c| **c != SensitiveCategory::PsychotherapyNotes)
            .map(|c| match (self.lang, c, self.v2()) {
                (Lang::Es, SensitiveCategory::SubstanceUse, true) => {
                    "registros de tratamiento por consumo de sustancias (protegidos por 42 CFR Parte 2)"
                }
                _ => c.label(self.lang),
            })
            .collect();
        match (self.lang, list.is_empty()) {
            (Lang::En, true) => "I do not ask for substance-use disorder treatment records, HIV or sexually transmitted infection information, mental health records or genetic testing results.".into(),
            (Lang::Es, true) => format!(
                "No pido registros de tratamiento {} consumo de sustancias, información sobre VIH o infecciones de transmisión sexual, registros de salud mental ni resultados de pruebas genéticas.",
                self.pick("por", "de trastornos por"),
            ),
            (Lang::En, false) => format!("I specifically choose to include: {}.", join(list, self.lang)),
            (Lang::Es, false) => format!("Elijo expresamente incluir: {}.", join(list, self.lang)),
        }
    }

    /// How the records reach the requester themselves.
    pub fn delivery_to_me(&self) -> String {
        let d = &self.req.delivery;
        let email = &self.req.requester.email;
        let label = d.method.label(self.lang);
        let detail = match (self.lang, d.method) {
            (Lang::En, DeliveryMethod::SecureDownload) => {
                format!(", with the link sent to {email}")
            }
            (Lang::Es, DeliveryMethod::SecureDownload) => {
                format!(", con el enlace enviado a {email}")
            }
            (Lang::En, DeliveryMethod::Email) => format!(", to {email}"),
            (Lang::Es, DeliveryMethod::Email) => format!(", a {email}"),
            (Lang::En, DeliveryMethod::PatientApp) => format!(", to the app {}", d.app_name),
            (Lang::Es, DeliveryMethod::PatientApp) => format!(", a la aplicación {}", d.app_name),
            (Lang::En, DeliveryMethod::Mail) => format!(", to {}", d.address.one_line()),
            (Lang::Es, DeliveryMethod::Mail) => format!(", a {}", d.address.one_line()),
            (_, DeliveryMethod::PickUp | DeliveryMethod::Disc) => String::new(),
        };
        format!("{label}{detail}")
    }

    /// How HIM can reach the requester.
    pub fn contact(&self) -> String {
        let r = &self.req.requester;
        match (self.lang, r.phone.is_empty()) {
            (Lang::En, true) => format!("Contact me at {}.", r.email),
            (Lang::En, false) => format!("Contact me at {} or {}.", r.email, r.phone),
            (Lang::Es, true) => format!("Comuníquense conmigo en {}.", r.email),
            (Lang::Es, false) => format!("Comuníquense conmigo en {} o al {}.", r.email, r.phone),
        }
    }

    /// The E-SIGN consent the requester gave, word for word, in quotation marks.
    pub fn consent(&self) -> String {
        let intro = match self.lang {
            Lang::En => "Before signing, I agreed to the following:",
            Lang::Es => "Antes de firmar, acepté lo siguiente:",
        };
        let text = esign::disclosure(&self.site.name, self.lang, self.edition);
        match (self.lang, self.edition) {
            (_, Edition::V2) => format!("{intro} {text}"),
            (Lang::En, Edition::V3) => format!("{intro} \u{201c}{text}\u{201d}"),
            (Lang::Es, Edition::V3) => format!("{intro} \u{ab}{text}\u{bb}"),
        }
    }

    /// The typed signature and date.
    pub fn signature(&self) -> String {
        let (sig, on) = (&self.req.signature, &self.req.signed_on);
        match self.lang {
            Lang::En => format!(
                "Signed electronically by {sig} on {on}, by typing my name and confirming with my passkey. I intend this to be my signature."
            ),
            Lang::Es => format!(
                "Firmado electrónicamente por {sig} el {on}, al escribir mi nombre y confirmar con mi llave de acceso (passkey). Es mi intención que valga como mi firma."
            ),
        }
    }
}

/// "a, b and c" / "a, b y c".
pub(super) fn join(items: Vec<&str>, lang: Lang) -> String {
    let and = match lang {
        Lang::En => "and",
        Lang::Es => "y",
    };
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}
