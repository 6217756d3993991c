// Passkeys that unlock the vault (issue 20): WebAuthn with the PRF extension (WebAuthn Level 3).
// The vault keeps, per passkey, a random salt; the authenticator's PRF output for that salt wraps
// the vault key (crates/core/src/vault/keys.rs). Both calls resolve with "credential.prf", each
// unpadded base64url, and reject with "no-prf" for an authenticator without the extension, or the
// browser's error name (NotAllowedError when the citizen cancels). Imported on demand by lazy.js
// for src/services/passkey.rs; copied beside the wallet's files by Trunk (index.html).
const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const text = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = () => crypto.getRandomValues(new Uint8Array(32));

const failed = (error) => {
  throw (error && error.name) || "failed";
};
// "credential.prf" when the authenticator gave the PRF's output, else "".
const answer = (credential) => {
  const prf = credential.getClientExtensionResults().prf;
  const first = prf && prf.results && prf.results.first;
  return first ? `${text(credential.rawId)}.${text(first)}` : "";
};

/** Asks for one of `passkeys` (JSON: [[credential id, salt], ...]) and its PRF output for its salt. */
export async function getPasskey(passkeys) {
  const list = JSON.parse(passkeys);
  const evalByCredential = {};
  for (const [id, salt] of list) evalByCredential[id] = { first: bytes(salt) };
  const publicKey = {
    challenge: random(),
    allowCredentials: list.map(([id]) => ({ type: "public-key", id: bytes(id) })),
    userVerification: "required",
    extensions: { prf: { evalByCredential } },
  };
  return answer(await navigator.credentials.get({ publicKey }).catch(failed)) || failed({ name: "no-prf" });
}

/** Creates a passkey named `label` for the vault `user` (base64url) and evaluates its PRF with `salt`. */
export async function createPasskey(label, user, salt) {
  const publicKey = {
    rp: { name: "Souverain" },
    user: { id: bytes(user), name: label, displayName: label },
    challenge: random(),
    pubKeyCredParams: [-8, -7, -257].map((alg) => ({ type: "public-key", alg })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
    extensions: { prf: { eval: { first: bytes(salt) } } },
  };
  const credential = await navigator.credentials.create({ publicKey }).catch(failed);
  const prf = credential.getClientExtensionResults().prf;
  if (!prf || !prf.enabled) failed({ name: "no-prf" });
  // Many authenticators only say at creation that the PRF is enabled: then evaluate it once now.
  return answer(credential) || getPasskey(JSON.stringify([[text(credential.rawId), salt]]));
}
