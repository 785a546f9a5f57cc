//! The verification email, in English or Spanish: the code, a warning not to
//! share it, and nothing about the request (no health information beyond the
//! address itself).

use lettre::{
    Message,
    message::{Body, Mailbox, MultiPart, SinglePart, header},
};
use recordpass_request::Lang;

use super::codes::Code;
use crate::Error;

/// A message ready to send or to show in the demo outbox.
#[derive(Clone)]
pub struct Letter {
    /// Recipient (the normalised address).
    pub to: String,
    /// Language it is written in.
    pub lang: Lang,
    /// Subject line: no code and no hospital name, since lock screens show
    /// subjects (the name of, say, a behavioural-health hospital alone tells
    /// that its patient is one).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Letter { .. }")
    }
}

/// The code email for `hospital` (named in the body only), valid for `minutes`.
pub fn verification(to: &str, hospital: &str, lang: Lang, code: &Code, minutes: u64) -> Letter {
    let code = code.digits();
    let (subject, sentences) = match lang {
        Lang::En => (
            "Your records request code".to_owned(),
            [
                format!("Your {hospital} records request code is {code}."),
                format!("It expires in {minutes} minutes."),
                format!("Do not share this code. {hospital} staff will never ask for it."),
                "If you did not ask for this, ignore this email.".to_owned(),
            ],
        ),
        Lang::Es => (
            "Su código para la solicitud de registros".to_owned(),
            [
                format!("Su código para la solicitud de registros de {hospital} es {code}."),
                format!("Vence en {minutes} minutos."),
                format!("No comparta este código. El personal de {hospital} nunca se lo pedirá."),
                "Si usted no lo pidió, ignore este correo.".to_owned(),
            ],
        ),
    };
    let text = format!("{}\r\n", sentences.join(" "));
    let [first, rest @ ..] = &sentences;
    let first = escape(first).replace(code, &format!("<strong>{code}</strong>"));
    let html = format!(
        "<!DOCTYPE html>\r\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\r\n\
         <body><p>{first}</p>\r\n<p>{rest}</p></body></html>\r\n",
        lang = lang.tag(),
        title = escape(&subject),
        rest = escape(&rest.join(" ")),
    );
    Letter {
        to: to.to_owned(),
        lang,
        subject,
        text,
        html,
    }
}

impl Letter {
    /// The MIME message: `multipart/alternative`, both parts quoted-printable UTF-8.
    pub fn to_message(&self, from: &Mailbox) -> Result<Message, Error> {
        let bad = |e: &dyn std::fmt::Display| Error::Internal(format!("email: {e}"));
        let to: Mailbox = self.to.parse().map_err(|e| bad(&e))?;
        let part = |content_type: header::ContentType, body: &str| {
            Body::new_with_encoding(
                body.to_owned(),
                header::ContentTransferEncoding::QuotedPrintable,
            )
            .map(|body| SinglePart::builder().header(content_type).body(body))
            .map_err(|_| Error::Internal("email: cannot encode".into()))
        };
        let alternative = MultiPart::alternative()
            .singlepart(part(header::ContentType::TEXT_PLAIN, &self.text)?)
            .singlepart(part(header::ContentType::TEXT_HTML, &self.html)?);
        let message_id = format!("<{}@{}>", uuid::Uuid::new_v4(), from.email.domain());
        Message::builder()
            .from(from.clone())
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(message_id))
            .raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str("Content-Language"),
                self.lang.tag().to_owned(),
            ))
            .raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .multipart(alternative)
            .map_err(|e| bad(&e))
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_says_the_code_and_nothing_else_in_either_language() {
        let code = Code::generate();
        let en = verification(
            "ana@example.org",
            "Riverside <General>",
            Lang::En,
            &code,
            10,
        );
        assert_eq!(
            en.text,
            format!(
                "Your Riverside <General> records request code is {}. It expires in 10 minutes. \
                 Do not share this code. Riverside <General> staff will never ask for it. \
                 If you did not ask for this, ignore this email.\r\n",
                code.digits()
            )
        );
        assert_eq!(en.subject, "Your records request code");
        assert!(!en.subject.contains(code.digits()));
        assert!(
            en.html
                .contains(&format!("<strong>{}</strong>", code.digits()))
        );
        assert!(en.html.contains("Riverside &lt;General&gt;") && !en.html.contains("<General>"));
        let es = verification("ana@example.org", "Riverside", Lang::Es, &code, 10);
        assert!(
            es.text
                .starts_with("Su código para la solicitud de registros de Riverside es ")
        );
        assert!(es.html.contains("lang=\"es\""));
        assert_eq!(es.subject, "Su código para la solicitud de registros");
        assert!(
            es.html
                .contains("<title>Su código para la solicitud de registros</title>")
        );
        assert!(
            es.text
                .contains("No comparta este código. El personal de Riverside nunca se lo pedirá.")
        );

        let from: Mailbox = "Records <records@example-hospital.org>"
            .parse()
            .expect("from");
        let raw =
            String::from_utf8(en.to_message(&from).expect("message").formatted()).expect("utf8");
        assert!(raw.contains("multipart/alternative") && raw.contains("Content-Language: en"));
        assert!(
            raw.contains("@example-hospital.org>"),
            "Message-ID in the sender's domain"
        );
    }

    mod addresses {
        use super::*;
        use proptest::prelude::*;
        use recordpass_request::validate_email;

        /// Characters addresses are made of, and many they must not contain.
        fn any_char() -> impl Strategy<Value = char> {
            let common: Vec<char> = ('a'..='z').chain('0'..='9').chain(['.', '-']).collect();
            let rest: Vec<char> = (' '..='~')
                .chain(['é', 'ß', '中', '☃', '\u{A0}', '\u{200B}', '\u{202E}', '\t'])
                .collect();
            prop_oneof![
                8 => proptest::sample::select(common),
                2 => proptest::sample::select(rest),
            ]
        }

        fn part(max: usize) -> impl Strategy<Value = String> {
            proptest::collection::vec(any_char(), 0..max).prop_map(String::from_iter)
        }

        /// Sends a code to `email` as [`verification`] does.
        fn can_send_to(email: &str) -> Result<(), String> {
            let address: lettre::Address = email.parse().map_err(|e| format!("Address: {e}"))?;
            let letter = verification(email, "Riverside", Lang::En, &Code::generate(), 10);
            let from: Mailbox = "Records <records@example-hospital.org>"
                .parse()
                .expect("from");
            let message = letter
                .to_message(&from)
                .map_err(|e| format!("Message: {e}"))?;
            let envelope_to = message.envelope().to();
            if envelope_to != [address] {
                return Err(format!("envelope: {envelope_to:?}"));
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// The shared rule (also the widget's) accepts only addresses the
            /// mailer can send to: a `202` is never followed by silence.
            #[test]
            fn every_address_the_rule_accepts_can_be_sent_to(
                local in part(12),
                domain in part(16),
                tld in prop_oneof![Just("org"), Just("de"), Just("xn--p1ai")],
            ) {
                let email = format!("{local}@{domain}.{tld}");
                if let Ok(normalised) = validate_email(&email) {
                    prop_assert_eq!(can_send_to(&normalised), Ok(()), "{}", normalised);
                }
            }
        }

        #[test]
        fn what_the_reviewer_found_is_refused_and_ordinary_addresses_are_sent_to() {
            for bad in [
                "jane.@example.com",
                "jane..doe@example.com",
                "a(b)@example.com",
                "a@b@example.com",
            ] {
                assert!(can_send_to(bad).is_err(), "lettre refuses {bad}");
                assert!(validate_email(bad).is_err(), "so does the rule: {bad}");
            }
            for good in [
                "jane.doe+records@example.com",
                "o'brien@example.ie",
                "josé@bücher.de",
            ] {
                let normalised = validate_email(good).expect("accepted");
                assert_eq!(can_send_to(&normalised), Ok(()), "{good}");
            }
        }
    }
}
