// The browser half of passkeys: the least JavaScript the WebAuthn API needs. The server's
// options arrive as JSON and go through the credential API's own JSON helpers
// (parseCreationOptionsFromJSON, parseRequestOptionsFromJSON, toJSON), so no base64 code
// lives here. Loaded by the wasm bundle as a module from this site (no inline script).

// The autofill request waiting on the username field, if any: only one request may be
// pending at a time, so the passkey button stops it first.
let autofill = null;

// Whether this browser can make and use passkeys with JSON options.
export function passkeysSupported() {
  return typeof PublicKeyCredential !== 'undefined'
    && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function'
    && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
}

// Whether the username field can offer passkeys among its autofill suggestions.
export async function autofillSupported() {
  return passkeysSupported()
    && typeof PublicKeyCredential.isConditionalMediationAvailable === 'function'
    && await PublicKeyCredential.isConditionalMediationAvailable();
}

// Makes a passkey with the server's options; resolves to the answer as JSON.
export async function createPasskey(optionsJson) {
  stopAutofill();
  const { publicKey } = JSON.parse(optionsJson);
  const credential = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(publicKey),
  });
  return JSON.stringify(credential.toJSON());
}

// Signs the server's challenge with a passkey the person picks in the browser's dialog.
export async function usePasskey(optionsJson) {
  stopAutofill();
  const { publicKey } = JSON.parse(optionsJson);
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey),
  });
  return JSON.stringify(credential.toJSON());
}

// The same, offered among the username field's autofill suggestions; waits until the person
// picks a passkey there, or until stopAutofill (which rejects it with an AbortError).
export async function autofillPasskey(optionsJson) {
  stopAutofill();
  const controller = new AbortController();
  autofill = controller;
  const { publicKey } = JSON.parse(optionsJson);
  try {
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey),
      mediation: 'conditional',
      signal: controller.signal,
    });
    return JSON.stringify(credential.toJSON());
  } finally {
    if (autofill === controller) {
      autofill = null;
    }
  }
}

export function stopAutofill() {
  if (autofill) {
    autofill.abort();
    autofill = null;
  }
}
