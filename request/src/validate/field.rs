//! Stable, nested field identifiers such as `patient.date_of_birth` or
//! `scope.date_ranges[0].end`, as they appear in the JSON request body.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A part of a postal address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressPart {
    /// `street`.
    Street,
    /// `city`.
    City,
    /// `state`.
    State,
    /// `postal_code`.
    PostalCode,
}

impl AddressPart {
    /// Every part, in form order.
    pub const ALL: [AddressPart; 4] = [
        AddressPart::Street,
        AddressPart::City,
        AddressPart::State,
        AddressPart::PostalCode,
    ];

    fn key(self) -> &'static str {
        match self {
            AddressPart::Street => "street",
            AddressPart::City => "city",
            AddressPart::State => "state",
            AddressPart::PostalCode => "postal_code",
        }
    }
}

/// A request field; serialised as its dotted path (see [`Field::path`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is documented by its path
pub enum Field {
    /// `email` of an email-code request (not part of [`crate::RecordsRequest`]).
    Email,
    /// `display_name` of a registration request.
    DisplayName,
    RequesterRole,
    RequesterName,
    RequesterRelationship,
    RequesterAuthority,
    RequesterEmail,
    RequesterPhone,
    /// `requester.attachments`: the list as a whole (a representative's proof is missing).
    RequesterAttachments,
    RequesterAttachment(usize),
    PatientLegalName,
    PatientFormerName(usize),
    PatientDateOfBirth,
    PatientAddress(AddressPart),
    PatientPhone,
    PatientEmail,
    PatientMrn,
    ScopeRecordKinds,
    ScopeDateRanges,
    ScopeDateRangeStart(usize),
    ScopeDateRangeEnd(usize),
    ScopeSensitive,
    DeliveryMethod,
    DeliveryAppName,
    DeliveryAddress(AddressPart),
    RecipientName,
    RecipientSendTo,
    AuthorizationPurpose,
    AuthorizationExpiresOn,
    ConsentElectronicRecords,
    Signature,
    SignedOn,
}

impl Field {
    /// The dotted path, e.g. `scope.date_ranges[0].end`.
    pub fn path(self) -> String {
        use Field::*;
        let fixed = match self {
            Email => "email",
            DisplayName => "display_name",
            RequesterRole => "requester.role",
            RequesterName => "requester.name",
            RequesterRelationship => "requester.relationship",
            RequesterAuthority => "requester.authority",
            RequesterEmail => "requester.email",
            RequesterPhone => "requester.phone",
            RequesterAttachments => "requester.attachments",
            RequesterAttachment(i) => return format!("requester.attachments[{i}]"),
            PatientLegalName => "patient.legal_name",
            PatientFormerName(i) => return format!("patient.former_names[{i}]"),
            PatientDateOfBirth => "patient.date_of_birth",
            PatientAddress(p) => return format!("patient.address.{}", p.key()),
            PatientPhone => "patient.phone",
            PatientEmail => "patient.email",
            PatientMrn => "patient.mrn",
            ScopeRecordKinds => "scope.record_kinds",
            ScopeDateRanges => "scope.date_ranges",
            ScopeDateRangeStart(i) => return format!("scope.date_ranges[{i}].start"),
            ScopeDateRangeEnd(i) => return format!("scope.date_ranges[{i}].end"),
            ScopeSensitive => "scope.sensitive",
            DeliveryMethod => "delivery.method",
            DeliveryAppName => "delivery.app_name",
            DeliveryAddress(p) => return format!("delivery.address.{}", p.key()),
            RecipientName => "recipient.name",
            RecipientSendTo => "recipient.send_to",
            AuthorizationPurpose => "authorization.purpose",
            AuthorizationExpiresOn => "authorization.expires_on",
            ConsentElectronicRecords => "consent.electronic_records",
            Signature => "signature",
            SignedOn => "signed_on",
        };
        fixed.to_owned()
    }

    /// Parses a path made by [`Field::path`].
    pub fn from_path(path: &str) -> Option<Field> {
        use Field::*;
        let indexed = |prefix: &str, suffix: &str| -> Option<usize> {
            path.strip_prefix(prefix)?
                .strip_suffix(suffix)?
                .parse()
                .ok()
        };
        if let Some(i) = indexed("requester.attachments[", "]") {
            return Some(RequesterAttachment(i));
        }
        if let Some(i) = indexed("patient.former_names[", "]") {
            return Some(PatientFormerName(i));
        }
        if let Some(i) = indexed("scope.date_ranges[", "].start") {
            return Some(ScopeDateRangeStart(i));
        }
        if let Some(i) = indexed("scope.date_ranges[", "].end") {
            return Some(ScopeDateRangeEnd(i));
        }
        for part in AddressPart::ALL {
            if path == format!("patient.address.{}", part.key()) {
                return Some(PatientAddress(part));
            }
            if path == format!("delivery.address.{}", part.key()) {
                return Some(DeliveryAddress(part));
            }
        }
        Field::FIXED.into_iter().find(|f| f.path() == path)
    }

    /// Fields without an index or a part.
    const FIXED: [Field; 26] = [
        Field::Email,
        Field::DisplayName,
        Field::RequesterRole,
        Field::RequesterName,
        Field::RequesterRelationship,
        Field::RequesterAuthority,
        Field::RequesterEmail,
        Field::RequesterPhone,
        Field::RequesterAttachments,
        Field::PatientLegalName,
        Field::PatientDateOfBirth,
        Field::PatientPhone,
        Field::PatientEmail,
        Field::PatientMrn,
        Field::ScopeRecordKinds,
        Field::ScopeDateRanges,
        Field::ScopeSensitive,
        Field::DeliveryMethod,
        Field::DeliveryAppName,
        Field::RecipientName,
        Field::RecipientSendTo,
        Field::AuthorizationPurpose,
        Field::AuthorizationExpiresOn,
        Field::ConsentElectronicRecords,
        Field::Signature,
        Field::SignedOn,
    ];
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.path())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Field::from_path(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown field {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let samples = Field::FIXED.into_iter().chain([
            Field::PatientFormerName(2),
            Field::RequesterAttachment(1),
            Field::ScopeDateRangeStart(0),
            Field::ScopeDateRangeEnd(11),
            Field::PatientAddress(AddressPart::PostalCode),
            Field::DeliveryAddress(AddressPart::Street),
        ]);
        for field in samples {
            assert_eq!(Field::from_path(&field.path()), Some(field), "{field}");
            let json = serde_json::to_string(&field).expect("serialises");
            assert_eq!(serde_json::from_str::<Field>(&json).expect("parses"), field);
        }
        assert_eq!(
            Field::ScopeDateRangeEnd(0).path(),
            "scope.date_ranges[0].end"
        );
        assert_eq!(Field::from_path("scope.date_ranges[x].end"), None);
        assert_eq!(Field::from_path("patient"), None);
    }
}
