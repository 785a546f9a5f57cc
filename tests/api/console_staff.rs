//! Staff accounts through HTTP: revoking a lost device's passkey, invites that
//! neither re-enable nor change a role, two open invites for one new address,
//! and what a sign-in with a bad or unknown address leaves in the audit trail.

use recordpass_tests::TestVerifier;
use recordpass_verifier::console::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;

use crate::console::{StaffClient, console_url, invite};

async fn credential_ids(verifier: &TestVerifier, email: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT p.credential_id FROM staff_passkeys p JOIN staff s ON s.id = p.staff_id
         WHERE s.email = $1 ORDER BY p.credential_id",
    )
    .bind(email)
    .fetch_all(verifier.store.pool())
    .await
    .expect("passkeys")
}

/// The stored role of staff member `email`.
async fn role_of(verifier: &TestVerifier, email: &str) -> String {
    sqlx::query_scalar("SELECT role FROM staff WHERE email = $1")
        .bind(email)
        .fetch_one(verifier.store.pool())
        .await
        .expect("role")
}

async fn audit_events(verifier: &TestVerifier, action: &str) -> Vec<Value> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_log ORDER BY seq")
        .fetch_all(verifier.store.pool())
        .await
        .expect("audit");
    rows.iter()
        .map(|e| serde_json::from_str::<Value>(e).expect("event JSON"))
        .filter(|e| e["action"] == action)
        .collect()
}

async fn audit_count(verifier: &TestVerifier) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(verifier.store.pool())
        .await
        .expect("count")
}

/// Starts a sign-in for the client's address; returns the reply.
async fn sign_in_started(staff: &StaffClient<'_>) -> Value {
    let (status, started) = staff
        .post_json("/console/api/sign-in/start", &json!({"email": staff.email}))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    started
}

fn allowed_ids(started: &Value) -> Vec<String> {
    started["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .expect("allowCredentials")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Finishes `started` with the client's passkey.
async fn sign_in_finish(staff: &mut StaffClient<'_>, started: &Value) -> (StatusCode, Value) {
    let options = serde_json::from_value(started["options"].clone()).expect("options");
    let credential = staff
        .passkey
        .do_authentication(console_url(staff.verifier), options)
        .expect("soft passkey signs");
    let body = json!({"ceremony_id": started["ceremony_id"], "credential": credential});
    staff.post_json("/console/api/sign-in/finish", &body).await
}

async fn enrol_started(staff: &StaffClient<'_>, link: &str) -> (StatusCode, Value) {
    let token = link.split_once('#').expect("token in fragment").1;
    staff
        .post_json("/console/api/enrol/start", &json!({"token": token}))
        .await
}

async fn enrol_finish(staff: &mut StaffClient<'_>, started: &Value) -> (StatusCode, Value) {
    let options = serde_json::from_value(started["options"].clone()).expect("options");
    let credential = staff
        .passkey
        .do_registration(console_url(staff.verifier), options)
        .expect("soft passkey registers");
    let body = json!({"ceremony_id": started["ceremony_id"], "credential": credential});
    staff.post_json("/console/api/enrol/finish", &body).await
}

#[tokio::test]
async fn a_revoked_passkey_no_longer_signs_in_and_its_owners_sessions_end() {
    let verifier = TestVerifier::start().await;
    let admin = StaffClient::enrolled(&verifier, "lead@example.org", Role::Admin).await;
    let email = "hana@example.org";
    let mut phone = StaffClient::enrolled(&verifier, email, Role::Specialist).await;
    let lost = credential_ids(&verifier, email).await;
    assert_eq!(lost.len(), 1);
    let lost = lost[0].clone();
    // A second passkey (a laptop) through an invite with the same role.
    let mut laptop = StaffClient::new(&verifier, email);
    laptop
        .enrol(&invite(&verifier, email, Role::Specialist).await)
        .await;
    let kept: Vec<String> = credential_ids(&verifier, email)
        .await
        .into_iter()
        .filter(|c| *c != lost)
        .collect();
    assert_eq!(kept.len(), 1);

    // The Staff page lists both passkeys with a Revoke button, no key material.
    let (status, page) = admin.get("/console/staff").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for id in [&lost, &kept[0]] {
        assert!(page.contains(&format!("value=\"{id}\"")), "{page}");
    }
    assert!(page.contains("Revoke passkey"), "{page}");
    assert!(!page.contains("cred\""), "{page}");

    // A sign-in begun with the lost phone before the revoke.
    let pending = sign_in_started(&phone).await;
    assert!(allowed_ids(&pending).contains(&lost));

    // Only admins revoke.
    let (status, _) = laptop
        .form(
            "/console/staff/passkeys/revoke",
            &[("credential_id", &lost)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(credential_ids(&verifier, email).await.len(), 2);

    let (status, reply) = admin
        .form(
            "/console/staff/passkeys/revoke",
            &[("credential_id", &lost)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{reply}");
    assert_eq!(credential_ids(&verifier, email).await, kept);
    // Every session of the member ended, on both devices.
    assert_eq!(phone.get("/console").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/console").await.0, StatusCode::UNAUTHORIZED);
    // The lost phone cannot finish what it began, nor is it offered again.
    let (status, reply) = sign_in_finish(&mut phone, &pending).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["code"], "credential_unknown");
    assert_eq!(phone.get("/console").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(allowed_ids(&sign_in_started(&phone).await), kept);
    // The other passkey still signs in.
    assert_eq!(laptop.sign_in().await, StatusCode::OK);
    assert_eq!(laptop.get("/console").await.0, StatusCode::OK);

    let revoked = audit_events(&verifier, "staff_passkey_revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["actor"], "lead@example.org");
    assert_eq!(revoked[0]["target"], email);
    assert_eq!(revoked[0]["detail"]["credential_id"], json!(lost));
    // Unknown ids are 404 and change nothing.
    let (status, _) = admin
        .form(
            "/console/staff/passkeys/revoke",
            &[("credential_id", &lost)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_last_admin_keeps_a_passkey_and_cannot_be_demoted_by_an_invite() {
    let verifier = TestVerifier::start().await;
    let email = "lead@example.org";
    let admin = StaffClient::enrolled(&verifier, email, Role::Admin).await;
    let only = credential_ids(&verifier, email).await;
    let (status, page) = admin
        .form(
            "/console/staff/passkeys/revoke",
            &[("credential_id", &only[0])],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("last active admin"), "{page}");
    assert_eq!(credential_ids(&verifier, email).await, only);
    // Re-inviting the last admin as a specialist is refused; the role stays.
    let (status, page) = admin
        .form(
            "/console/staff/invite",
            &[("email", email), ("role", "specialist")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("already staff as admin"), "{page}");
    assert_eq!(role_of(&verifier, email).await, "admin");
    // With a second passkey the admin may revoke the first (their own
    // session ends; the other passkey signs in).
    let mut second = StaffClient::new(&verifier, email);
    second
        .enrol(&invite(&verifier, email, Role::Admin).await)
        .await;
    let (status, _) = admin
        .form(
            "/console/staff/passkeys/revoke",
            &[("credential_id", &only[0])],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(admin.get("/console").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(second.sign_in().await, StatusCode::OK);
    assert_eq!(second.get("/console/staff").await.0, StatusCode::OK);
}

#[tokio::test]
async fn invites_neither_re_enable_a_member_nor_change_their_role() {
    let verifier = TestVerifier::start().await;
    let admin = StaffClient::enrolled(&verifier, "lead@example.org", Role::Admin).await;
    let email = "hana@example.org";
    let _hana = StaffClient::enrolled(&verifier, email, Role::Specialist).await;
    // A link made while Hana is active, then Hana is disabled.
    let early_link = invite(&verifier, email, Role::Specialist).await;
    let (status, _) = admin
        .form(
            "/console/staff/access",
            &[("email", email), ("action", "disable")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A new invite for a disabled member is refused with what to do.
    let (status, page) = admin
        .form(
            "/console/staff/invite",
            &[("email", email), ("role", "specialist")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("re-enable"), "{page}");
    // The link made before cannot enrol (or re-enable) either.
    let mut device = StaffClient::new(&verifier, email);
    let (status, reply) = enrol_started(&device, &early_link).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(reply["code"], "invalid_transition");
    let disabled: Option<i64> =
        sqlx::query_scalar("SELECT disabled_at FROM staff WHERE email = $1")
            .bind(email)
            .fetch_one(verifier.store.pool())
            .await
            .expect("staff");
    assert!(disabled.is_some(), "still disabled");
    let real = credential_ids(&verifier, email).await;
    assert_eq!(real.len(), 1);
    // Sign-in still gets only the decoy.
    let offered = allowed_ids(&sign_in_started(&device).await);
    assert!(!offered.contains(&real[0]), "{offered:?}");

    // Re-enabled explicitly, the early link works and keeps the role.
    let (status, _) = admin
        .form(
            "/console/staff/access",
            &[("email", email), ("action", "enable")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    device.enrol(&early_link).await;
    assert_eq!(credential_ids(&verifier, email).await.len(), 2);

    // Another role through an invite is refused, at invite and at enrolment.
    let (status, page) = admin
        .form(
            "/console/staff/invite",
            &[("email", email), ("role", "auditor")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("already staff as specialist"), "{page}");
    assert_eq!(role_of(&verifier, email).await, "specialist");
    assert!(audit_events(&verifier, "staff_enabled").await.len() == 1);
}

#[tokio::test]
async fn two_open_invites_for_one_new_address_add_two_passkeys_to_one_member() {
    let verifier = TestVerifier::start().await;
    let email = "new@example.org";
    let first_link = invite(&verifier, email, Role::Specialist).await;
    let second_link = invite(&verifier, email, Role::Specialist).await;
    let mut phone = StaffClient::new(&verifier, email);
    let mut laptop = StaffClient::new(&verifier, email);
    // Both ceremonies start before either finishes.
    let (status, first) = enrol_started(&phone, &first_link).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second) = enrol_started(&laptop, &second_link).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (status, reply) = enrol_finish(&mut phone, &first).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (status, reply) = enrol_finish(&mut laptop, &second).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE email = $1")
        .bind(email)
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
    assert_eq!(members, 1);
    assert_eq!(credential_ids(&verifier, email).await.len(), 2);
    assert_eq!(phone.sign_in().await, StatusCode::OK);
    assert_eq!(laptop.sign_in().await, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_refuses_malformed_addresses_before_anything_is_stored() {
    let verifier = TestVerifier::start().await;
    let hana = StaffClient::new(&verifier, "hana@example.org");
    let before = audit_count(&verifier).await;
    let long = format!("{}@example.org", "a".repeat(250));
    let huge = format!("{}@example.org", "b".repeat(60_000));
    for email in [long.as_str(), huge.as_str(), "not an address", "", "a@b@c"] {
        let (status, reply) = hana
            .post_json("/console/api/sign-in/start", &json!({"email": email}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{} chars: {reply}",
            email.len()
        );
        assert_eq!(reply["code"], "invalid_request");
        assert_eq!(reply["fields"][0]["field"], "email");
    }
    let ceremonies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_ceremonies")
        .fetch_one(verifier.store.pool())
        .await
        .expect("count");
    assert_eq!(ceremonies, 0);
    assert_eq!(audit_count(&verifier).await, before);
}

#[tokio::test]
async fn failed_sign_ins_name_a_disabled_member_but_only_a_hash_of_a_stranger() {
    let verifier = TestVerifier::start().await;
    let mut admin = StaffClient::enrolled(&verifier, "lead@example.org", Role::Admin).await;
    let _hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    let (status, _) = admin
        .form(
            "/console/staff/access",
            &[("email", "hana@example.org"), ("action", "disable")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let stranger = "Patient.Person@Example.org";
    for address in ["hana@example.org", stranger, stranger] {
        let client = StaffClient::new(&verifier, address);
        let decoy = sign_in_started(&client).await;
        // Any real assertion will do: the decoy ceremony can only fail.
        let real = sign_in_started(&admin).await;
        let options = serde_json::from_value(real["options"].clone()).expect("options");
        let credential = admin
            .passkey
            .do_authentication(console_url(&verifier), options)
            .expect("soft passkey signs");
        let body = json!({"ceremony_id": decoy["ceremony_id"], "credential": credential});
        let (status, reply) = client.post_json("/console/api/sign-in/finish", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
        assert_eq!(reply["code"], "credential_unknown");
    }
    let failed = audit_events(&verifier, "sign_in_failed").await;
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert_eq!(failed[0]["actor"], "hana@example.org");
    assert_eq!(failed[0]["detail"]["reason"], "access disabled");
    for event in &failed[1..] {
        let text = event.to_string().to_lowercase();
        assert!(!text.contains("patient.person"), "{text}");
        assert!(!text.contains("@example.org"), "{text}");
        assert!(
            event["actor"]
                .as_str()
                .is_some_and(|a| a.starts_with("not-staff:")),
            "{text}"
        );
        assert_eq!(event["detail"]["reason"], "no staff account");
    }
    // The same address gets the same pseudonym, so repeats can be told apart.
    assert_eq!(failed[1]["actor"], failed[2]["actor"]);
}

#[tokio::test]
async fn roles_change_only_through_the_role_form_and_never_ones_own() {
    let verifier = TestVerifier::start().await;
    let lead = StaffClient::enrolled(&verifier, "lead@example.org", Role::Admin).await;
    let hana = StaffClient::enrolled(&verifier, "hana@example.org", Role::Specialist).await;
    // A specialist may not change roles, not even their own.
    let (status, _) = hana
        .form(
            "/console/staff/role",
            &[("email", "hana@example.org"), ("role", "admin")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The admin cannot demote themselves (the last admin stays one).
    let (status, page) = lead
        .form(
            "/console/staff/role",
            &[("email", "lead@example.org"), ("role", "auditor")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert_eq!(role_of(&verifier, "lead@example.org").await, "admin");
    // Changing another member's role works at once and is audited.
    let (status, _) = lead
        .form(
            "/console/staff/role",
            &[("email", "hana@example.org"), ("role", "admin")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(role_of(&verifier, "hana@example.org").await, "admin");
    assert_eq!(hana.get("/console/staff").await.0, StatusCode::OK);
    let changed = audit_events(&verifier, "staff_role_changed").await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["actor"], "lead@example.org");
    assert_eq!(changed[0]["target"], "hana@example.org");
    assert_eq!(
        changed[0]["detail"],
        json!({"from": "specialist", "to": "admin"})
    );
    // Now the lead may be demoted by the other admin.
    let (status, _) = hana
        .form(
            "/console/staff/role",
            &[("email", "lead@example.org"), ("role", "specialist")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(lead.get("/console/staff").await.0, StatusCode::FORBIDDEN);
}
