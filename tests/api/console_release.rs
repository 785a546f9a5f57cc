//! Releasing and denying through the console's HTTP routes: no release under
//! an expired authorization (45 CFR 164.508(b)(2)(i)), denials that say
//! whether review applies (164.524(d)(2)(ii)), and a denial overturned on
//! review reopened and carried out (164.524(d)(4)).

use recordpass_request::{Lang, RecordsRequest, RequestStatus, examples};
use recordpass_tests::TestVerifier;
use recordpass_verifier::console::Role;
use reqwest::StatusCode;
use time::Duration;

use crate::client::{Requester, ana_request, dated};
use crate::console::{StaffClient, submitted};
use crate::console_exports::audit_events;
use crate::console_races::status_of;
use crate::returning::{Account, my_requests, register, sign_in, sign_in_language};

const DAY: i64 = 24 * 60 * 60;

/// Uploads `request`'s proof and signs it with `account`; returns its number.
async fn signed(
    who: &mut Requester<'_>,
    account: &Account,
    request: &RecordsRequest,
    lang: Lang,
) -> String {
    who.upload_attachments(request).await;
    sign_in_language(who, account, request, None, lang).await
}

/// Records mailed to a law office under an authorization that ends the day
/// after signing: the request page shows the end date and that it comes
/// before the due date; on day 20 the page says it expired and Fulfilled is
/// refused with the date, nothing changes and nothing is disclosed. The same
/// request with a year-long authorization is released that day.
#[tokio::test]
async fn an_expired_authorization_cannot_be_released_and_the_page_shows_its_end() {
    let verifier = TestVerifier::start().await;
    let access = submitted(&verifier).await;
    let mut maya = Requester::new(&verifier);
    let account = register(&mut maya, "maya@example.org").await;
    let today = verifier.clock.now().date();
    let tomorrow = today + Duration::days(1);
    let mut short = dated(examples::representative_authorization());
    short.authorization.expires_on = tomorrow.to_string();
    let long = dated(examples::representative_authorization());
    let short = signed(&mut maya, &account, &short, Lang::En).await;
    let long_ends = (today + Duration::days(365)).to_string();
    let long = signed(&mut maya, &account, &long, Lang::En).await;

    let mut hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let page = |number: &str| format!("/console/requests/{number}");
    let (status, detail) = hana.get(&page(&short)).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert!(
        detail.contains(&format!(
            "<dt>Authorization expires</dt><dd id=\"authorization-expires\">{tomorrow} \
             <strong class=\"bad\">— ends before the due date"
        )),
        "{detail}"
    );
    let (_, detail) = hana.get(&page(&long)).await;
    assert!(
        detail.contains(&format!("id=\"authorization-expires\">{long_ends}</dd>")),
        "{detail}"
    );
    let (_, detail) = hana.get(&page(&access)).await;
    assert!(
        !detail.contains("Authorization expires"),
        "right of access: {detail}"
    );
    for number in [&short, &long] {
        let (status, body) = hana
            .form(&format!("{}/status", page(number)), &[("to", "in_review")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }

    // Day 20: the authorization ended on day 1.
    verifier.clock.advance(20 * DAY);
    assert_eq!(hana.sign_in().await, StatusCode::OK);
    let (_, detail) = hana.get(&page(&short)).await;
    assert!(
        detail.contains(&format!(
            "id=\"authorization-expires\">{tomorrow} <strong class=\"bad\">— expired: records \
             may not be released under it"
        )),
        "{detail}"
    );
    let (status, body) = hana
        .form(&format!("{}/status", page(&short)), &[("to", "fulfilled")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains(&format!(
            "The authorization expired on {tomorrow}; a new signed authorization is needed \
             before release."
        )),
        "{body}"
    );
    assert_eq!(status_of(&verifier, &short).await, "in_review");
    let (status, body) = hana
        .form(&format!("{}/status", page(&long)), &[("to", "fulfilled")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(status_of(&verifier, &long).await, "fulfilled");
    // Closed: the date stays, without a warning.
    let (_, detail) = hana.get(&page(&long)).await;
    assert!(
        detail.contains(&format!("id=\"authorization-expires\">{long_ends}</dd>")),
        "{detail}"
    );

    // Only the valid release is a disclosure; the refused one left no trace.
    let auditor = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let (status, disclosures) = auditor.get("/console/disclosures").await;
    assert_eq!(status, StatusCode::OK, "{disclosures}");
    assert!(disclosures.contains(&page(&long)), "{disclosures}");
    assert!(!disclosures.contains(&page(&short)), "{disclosures}");
    let events = audit_events(&verifier).await;
    let fulfilled = |number: &str| {
        events.iter().any(|e| {
            e.contains("\"action\":\"status_change\"")
                && e.contains(&format!("\"target\":\"{number}\""))
                && e.contains("\"to\":\"fulfilled\"")
        })
    };
    assert!(fulfilled(&long) && !fulfilled(&short));
}

/// A denial must say whether its ground can be reviewed; the requester's
/// notice is worded from the answer, in the language they signed. A denial
/// overturned on review is reopened (by an admin, audited as
/// `reopened_after_review`), the requester is told the reviewer's decision,
/// and the request can then be fulfilled. Nothing else reopens.
#[tokio::test]
async fn a_denial_says_whether_review_applies_and_one_overturned_on_review_is_reopened() {
    let verifier = TestVerifier::start().await;
    let mut ana = Requester::new(&verifier);
    let account = register(&mut ana, "ana@example.org").await;
    let request = ana_request();
    let reviewable = sign_in_language(&mut ana, &account, &request, None, Lang::En).await;
    let final_es = sign_in_language(&mut ana, &account, &request, None, Lang::Es).await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let admin = StaffClient::enrolled(&verifier, "lead@example.org", Role::Admin).await;
    let auditor = StaffClient::enrolled(&verifier, "aud@example.org", Role::Auditor).await;
    let page = |number: &str| format!("/console/requests/{number}");
    for number in [&reviewable, &final_es] {
        let (status, _) = hana
            .form(&format!("{}/status", page(number)), &[("to", "in_review")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (_, detail) = hana.get(&page(&reviewable)).await;
    assert!(
        detail.contains("name=\"reviewable\" value=\"yes\"")
            && detail.contains("name=\"reviewable\" value=\"no\""),
        "{detail}"
    );
    assert!(
        detail.contains("id=\"rights-not-reviewable\">This denial is for a reason the law does not allow to be reviewed"),
        "{detail}"
    );

    // Without the answer (or with another one) nothing changes.
    let deny = |answer: &'static str| {
        vec![
            ("to", "denied"),
            ("text", "the records are part of a research study"),
            ("reviewable", answer),
        ]
    };
    for answer in ["", "maybe"] {
        let (status, body) = hana
            .form(&format!("{}/status", page(&reviewable)), &deny(answer))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer:?}: {body}");
        assert!(
            body.contains("say whether the ground of this denial can be reviewed"),
            "{body}"
        );
    }
    assert_eq!(status_of(&verifier, &reviewable).await, "in_review");
    let (status, body) = hana
        .form(&format!("{}/status", page(&reviewable)), &deny("yes"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, body) = hana
        .form(&format!("{}/status", page(&final_es)), &deny("no"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");

    // Only a denied request reopens, and only with the decision; auditors cannot.
    let reopen = |number: &str| format!("{}/reopen", page(number));
    let decision = "Dr. Imani Okafor reviewed the denial on 2026-12-03 and decided the records \
                    must be given to you.";
    let (status, body) = admin.form(&reopen(&reviewable), &[("text", "  ")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("write the reviewer&#39;s decision"), "{body}");
    assert_eq!(
        auditor
            .form(&reopen(&reviewable), &[("text", decision)])
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, detail) = admin.get(&page(&reviewable)).await;
    assert!(detail.contains("id=\"reopen-form\""), "{detail}");
    let (status, body) = admin
        .form(&reopen(&reviewable), &[("text", decision)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, body) = admin
        .form(&reopen(&reviewable), &[("text", decision)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "reopened once: {body}");
    assert!(
        body.contains("only a denied request can be reopened after review; this one is In review"),
        "{body}"
    );
    let (status, body) = hana
        .form(
            &format!("{}/status", page(&reviewable)),
            &[("to", "fulfilled")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the overturned denial is carried out: {body}"
    );

    // What the requester reads, in the language each request was signed in.
    let session = sign_in(&mut ana, &account).await;
    let mine = my_requests(&verifier, &session.session_token).await;
    let messages = |number: &str| {
        let r = mine
            .requests
            .iter()
            .find(|r| r.request_number == number)
            .expect("listed");
        (
            r.status,
            r.messages
                .iter()
                .map(|m| m.text.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (status, texts) = messages(&reviewable);
    assert_eq!(status, RequestStatus::Fulfilled);
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(
        texts[1].contains(
            "You may ask for this denial to be reviewed by another licensed health care \
             professional, chosen by the hospital, who did not take part in the decision; write \
             to the medical records department to ask."
        ),
        "{texts:?}"
    );
    assert!(
        !texts[1].contains("where the law gives you that right"),
        "{texts:?}"
    );
    assert_eq!(
        texts[2],
        format!(
            "Review of the denial of request {reviewable}.\n\nThe reviewer decided that the \
             denial does not stand: the hospital is working on your request again.\n\n{decision}"
        )
    );
    let (status, texts) = messages(&final_es);
    assert_eq!(status, RequestStatus::Denied);
    let denial = texts.last().expect("the denial notice");
    assert!(
        denial.starts_with(&format!("Aviso de negativa de la solicitud {final_es}.")),
        "{denial}"
    );
    assert!(
        denial.contains(
            "Esta negativa se basa en una razón que la ley no permite revisar, así que no puede \
             pedir que se revise. Aun así, puede presentar una queja ante la Oficina de Privacidad"
        ),
        "{denial}"
    );
    assert!(
        !denial.contains("registros médicos para pedirlo"),
        "{denial}"
    );

    // A closed request other than a denial does not reopen.
    let (status, _) = admin
        .form(&reopen(&reviewable), &[("text", decision)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let events = audit_events(&verifier).await;
    let reopened: Vec<&String> = events
        .iter()
        .filter(|e| e.contains("\"action\":\"reopened_after_review\""))
        .collect();
    assert_eq!(reopened.len(), 1, "{reopened:?}");
    assert!(
        reopened[0].contains("\"actor\":\"lead@example.org\"")
            && reopened[0].contains("\"from\":\"denied\"")
            && reopened[0].contains("\"to\":\"in_review\""),
        "{reopened:?}"
    );
    for (number, answer) in [(&reviewable, "true"), (&final_es, "false")] {
        assert!(
            events
                .iter()
                .any(|e| e.contains(&format!("\"target\":\"{number}\""))
                    && e.contains(&format!("\"reviewable\":{answer}"))),
            "{number}: the denial's answer is audited"
        );
    }
}
