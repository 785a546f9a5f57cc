//! Format and delivery, the third-party recipient, and authorization terms.

use serde::{Deserialize, Serialize};

use super::{Address, Lang, collapse_whitespace};

/// How the records are delivered.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// Electronic: a secure download link sent by email.
    #[default]
    SecureDownload,
    /// Electronic: attached to an email (unencrypted email, at the requester's choice).
    Email,
    /// Electronic: to a health app the patient uses.
    PatientApp,
    /// Paper copies by postal mail.
    Mail,
    /// Paper copies picked up at the hospital.
    PickUp,
    /// A disc (CD or DVD) of images, picked up at the hospital.
    Disc,
}

impl DeliveryMethod {
    /// Every method, in menu order.
    pub const ALL: [DeliveryMethod; 6] = [
        DeliveryMethod::SecureDownload,
        DeliveryMethod::Email,
        DeliveryMethod::PatientApp,
        DeliveryMethod::Mail,
        DeliveryMethod::PickUp,
        DeliveryMethod::Disc,
    ];

    /// The stable snake_case id used in JSON and configuration.
    pub fn id(self) -> &'static str {
        use DeliveryMethod::*;
        match self {
            SecureDownload => "secure_download",
            Email => "email",
            PatientApp => "patient_app",
            Mail => "mail",
            PickUp => "pick_up",
            Disc => "disc",
        }
    }

    /// The method with this [`DeliveryMethod::id`].
    pub fn from_id(id: &str) -> Option<DeliveryMethod> {
        DeliveryMethod::ALL.into_iter().find(|m| m.id() == id)
    }

    /// True for electronic copies (the only form a third-party directive covers).
    pub fn is_electronic(self) -> bool {
        matches!(
            self,
            DeliveryMethod::SecureDownload | DeliveryMethod::Email | DeliveryMethod::PatientApp
        )
    }

    /// True for the methods that can reach a third party the requester names.
    pub fn reaches_recipient(self) -> bool {
        matches!(
            self,
            DeliveryMethod::SecureDownload | DeliveryMethod::Email | DeliveryMethod::Mail
        )
    }

    /// Plain-language label.
    pub fn label(self, lang: Lang) -> &'static str {
        use DeliveryMethod::*;
        match (lang, self) {
            (Lang::En, SecureDownload) => "electronic copy through a secure download link",
            (Lang::En, Email) => "electronic copy attached to an email",
            (Lang::En, PatientApp) => "electronic copy sent to a health app",
            (Lang::En, Mail) => "paper copy by mail",
            (Lang::En, PickUp) => "paper copy picked up in person",
            (Lang::En, Disc) => "images on a disc (CD or DVD), picked up in person",
            (Lang::Es, SecureDownload) => "copia electrónica mediante un enlace de descarga seguro",
            (Lang::Es, Email) => "copia electrónica adjunta a un correo electrónico",
            (Lang::Es, PatientApp) => "copia electrónica enviada a una aplicación de salud",
            (Lang::Es, Mail) => "copia en papel por correo postal",
            (Lang::Es, PickUp) => "copia en papel recogida en persona",
            (Lang::Es, Disc) => "imágenes en un disco (CD o DVD), recogido en persona",
        }
    }
}

/// How the records reach the requester (or the recipient).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Delivery {
    /// The chosen method.
    pub method: DeliveryMethod,
    /// For [`DeliveryMethod::PatientApp`]: the app's name.
    pub app_name: String,
    /// For [`DeliveryMethod::Mail`] to the requester: where to mail.
    pub address: Address,
}

impl Delivery {
    pub(crate) fn normalized(&self) -> Delivery {
        let method = self.method;
        Delivery {
            method,
            app_name: if method == DeliveryMethod::PatientApp {
                collapse_whitespace(&self.app_name)
            } else {
                String::new()
            },
            address: if method == DeliveryMethod::Mail {
                self.address.normalized()
            } else {
                Address::default()
            },
        }
    }
}

/// A person or organisation the requester names to receive the records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Recipient {
    /// Name of the person or organisation.
    pub name: String,
    /// Where to send: a postal address, or an email address for electronic copies.
    pub send_to: String,
}

impl Recipient {
    pub(crate) fn normalized(&self) -> Recipient {
        Recipient {
            name: collapse_whitespace(&self.name),
            send_to: collapse_whitespace(&self.send_to),
        }
    }
}

/// The terms an authorization needs (45 CFR 164.508(c)(1)(iv)–(v)).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Authorization {
    /// Each purpose of the disclosure; empty means "at the request of the individual".
    pub purpose: String,
    /// The date the authorization expires, `YYYY-MM-DD`.
    pub expires_on: String,
}

impl Authorization {
    pub(crate) fn normalized(&self) -> Authorization {
        Authorization {
            purpose: collapse_whitespace(&self.purpose),
            expires_on: self.expires_on.trim().to_owned(),
        }
    }
}
