//! Returning requesters: sign in with the passkey created for an earlier
//! request ([`sign_in`]), hold a short-lived bearer session ([`session`]),
//! see one's own requests and download their signed receipts ([`requests`]).

pub mod requests;
pub mod session;
pub mod sign_in;
