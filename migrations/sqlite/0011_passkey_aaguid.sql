-- The authenticator model (AAGUID) reported when the passkey was created, so
-- every signature's evidence can name it even without attestation.
ALTER TABLE passkeys ADD COLUMN aaguid TEXT;
