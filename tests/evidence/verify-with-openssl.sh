#!/usr/bin/env bash
# Checks a Recordpass evidence bundle (recordpass.evidence.v1) with standard tools
# only: jq, base64, sha256sum, od, cmp and the openssl CLI. It follows
# docs/evidence.md step by step and shares nothing with the verifier's code.
#
#   verify-with-openssl.sh BUNDLE.json [SEAL_PUBLIC_KEY.pem]
#
# SEAL_PUBLIC_KEY.pem is the key published at the verifier's
# /.well-known/recordpass-seal-key (`jq -j .public_key_pem`); without it the seal
# is checked against the key inside the bundle, which proves integrity only.
# Prints one line per check; exits 1 if any fails.
set -uo pipefail

bundle=${1:?usage: verify-with-openssl.sh BUNDLE.json [SEAL_PUBLIC_KEY.pem]}
seal_pem=${2:-}
for tool in jq base64 sha256sum od cmp openssl; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
jq -e '.format == "recordpass.evidence.v1"' "$bundle" >/dev/null ||
  { echo "✗ format             not a recordpass.evidence.v1 bundle"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
pass() { printf '✓ %-20s %s\n' "$1" "$2"; }
fail() { printf '✗ %-20s %s\n' "$1" "$2"; failures=$((failures + 1)); }
field() { jq -j "$1" "$bundle"; }
b64url_decode() {
  local s
  s=$(printf '%s' "$1" | tr '_-' '/+')
  while (( ${#s} % 4 )); do s+='='; done
  printf '%s' "$s" | base64 -d
}
b64url_encode() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# 1. The document: exact bytes, and their SHA-256 is the digest.
field .document.canonical >"$work/document.json"
field .document.b64 | base64 -d >"$work/document-from-b64.json"
if cmp -s "$work/document.json" "$work/document-from-b64.json"; then
  pass document_bytes "$(wc -c <"$work/document.json") bytes; canonical and b64 agree"
else
  fail document_bytes "document.canonical and document.b64 differ"
fi
digest=$(sha256sum <"$work/document.json" | cut -d' ' -f1)
if [[ $digest == "$(field .digest.hex)" ]]; then
  pass document_digest "sha256sum = $digest"
else
  fail document_digest "sha256sum is $digest, bundle says $(field .digest.hex)"
fi

# 2. challenge = SHA-256("recordpass-sign-v1" ‖ digest ‖ nonce), as in clientDataJSON.
{
  printf '%s' 'recordpass-sign-v1'
  openssl dgst -sha256 -binary "$work/document.json"
  b64url_decode "$(field .signing.nonce_b64url)"
} >"$work/signing-input.bin"
challenge=$(openssl dgst -sha256 -binary "$work/signing-input.bin" | b64url_encode)
field .webauthn.client_data_json_b64 | base64 -d >"$work/client-data.json"
if [[ $challenge == "$(jq -j .challenge "$work/client-data.json")" &&
      $challenge == "$(field .signing.challenge_b64url)" ]]; then
  pass challenge "clientDataJSON.challenge = $challenge"
else
  fail challenge "clientDataJSON.challenge is not SHA-256(label ‖ digest ‖ nonce) = $challenge"
fi
if [[ $(jq -j .type "$work/client-data.json") == webauthn.get ]]; then
  pass client_data "webauthn.get from $(jq -j .origin "$work/client-data.json")"
else
  fail client_data "clientDataJSON.type is not webauthn.get"
fi

# 3. authenticatorData: rpIdHash (bytes 0..32) and flags (byte 32: UP 0x01, UV 0x04).
field .webauthn.authenticator_data_b64 | base64 -d >"$work/authenticator-data.bin"
head -c 32 "$work/authenticator-data.bin" >"$work/rp-id-hash.bin"
printf '%s' "$(field .webauthn.rp_id)" | openssl dgst -sha256 -binary >"$work/rp-id-expected.bin"
if cmp -s "$work/rp-id-hash.bin" "$work/rp-id-expected.bin"; then
  pass rp_id_hash "SHA-256(\"$(field .webauthn.rp_id)\")"
else
  fail rp_id_hash "authenticatorData is not for rp_id $(field .webauthn.rp_id)"
fi
flags=$(od -An -tu1 -j32 -N1 "$work/authenticator-data.bin" | tr -d ' ')
if (( (flags & 1) && (flags & 4) )); then
  pass user_flags "UP and UV set (flags byte $flags)"
else
  fail user_flags "user present / verified flags missing (flags byte ${flags:-none})"
fi

# 4. The passkey signature over authenticatorData ‖ SHA-256(clientDataJSON).
field .webauthn.public_key_spki_pem >"$work/passkey.pem"
field .webauthn.signature_b64 | base64 -d >"$work/signature.der"
{
  cat "$work/authenticator-data.bin"
  openssl dgst -sha256 -binary "$work/client-data.json"
} >"$work/signed-data.bin"
# The passkey's algorithm picks the hash: ES384 signs with SHA-384 (the client
# data hash inside the signed bytes is SHA-256 whatever the algorithm).
case $(field .webauthn.alg) in
  ES384) hash=-sha384 ;;
  *) hash=-sha256 ;;
esac
out=$(openssl dgst "$hash" -verify "$work/passkey.pem" -signature "$work/signature.der" \
  "$work/signed-data.bin" 2>&1)
if [[ $out == "Verified OK" ]]; then
  pass passkey_signature "openssl dgst: Verified OK"
else
  fail passkey_signature "openssl dgst: ${out%%$'\n'*}"
fi

# 5. The seal: Ed25519 over the canonical bundle without seal.signature_b64.
#    jq -S -c is RFC 8785 here: ASCII keys, integer numbers, no U+007F in strings.
jq -S -j -c 'del(.seal.signature_b64)' "$bundle" >"$work/sealed.json"
field .seal.signature_b64 | base64 -d >"$work/seal.sig"
if [[ -n $seal_pem ]]; then
  cp "$seal_pem" "$work/seal.pem"
  name=seal_key_pinned
  key_id=$(openssl pkey -pubin -in "$work/seal.pem" -outform DER | sha256sum | cut -c1-16)
  [[ $key_id == "$(field .seal.key_id)" ]] ||
    fail seal_key_pinned "sealed with key $(field .seal.key_id), not the pinned key $key_id"
else
  field .seal.public_key_pem >"$work/seal.pem"
  name=seal
  echo "! no seal key given: checking against the key inside the bundle (integrity only)"
fi
out=$(openssl pkeyutl -verify -pubin -inkey "$work/seal.pem" -rawin -in "$work/sealed.json" \
  -sigfile "$work/seal.sig" 2>&1)
if [[ $out == *"Signature Verified Successfully"* ]]; then
  pass "$name" "openssl pkeyutl: Signature Verified Successfully"
else
  fail "$name" "openssl pkeyutl: ${out%%$'\n'*}"
fi

if (( failures )); then
  echo "BUNDLE NOT VERIFIED: $failures check(s) failed"
  exit 1
fi
echo "bundle verified with openssl"
