// Passkeys: the WebAuthn glue of the pages, and the only other script of the site.
//
// A `<form data-passkey="create|get" data-options="URL" hidden>` is shown when the browser
// has WebAuthn. On submit, the form's fields are posted to `data-options`, which answers with
// the options of a ceremony (JSON, as WebAuthn Level 3 serialises them) or `{"error": "…"}`;
// the browser asks the authenticator; its answer goes in the form's `answer` field and the form
// is submitted. Without JavaScript the forms stay hidden and the password path works as ever.
//
// A `<div data-passkey-reauth="URL" data-options="URL" data-csrf="…" hidden>` (beside a password
// field, inside another form) holds a button that does the same with a form of its own, posted
// to `data-passkey-reauth` with the page to come back to.

const fromBase64url = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
};

const toBase64url = (buffer) => {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  bytes.forEach((b) => {
    binary += String.fromCharCode(b);
  });
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

// The options as the browser's API takes them: the binary fields decoded.
const creationOptions = (json) => {
  const options = { ...json };
  options.challenge = fromBase64url(json.challenge);
  options.user = { ...json.user, id: fromBase64url(json.user.id) };
  options.excludeCredentials = (json.excludeCredentials || []).map((c) => ({
    ...c,
    id: fromBase64url(c.id),
  }));
  return options;
};

const requestOptions = (json) => {
  const options = { ...json };
  options.challenge = fromBase64url(json.challenge);
  options.allowCredentials = (json.allowCredentials || []).map((c) => ({
    ...c,
    id: fromBase64url(c.id),
  }));
  return options;
};

// The credential as JSON (WebAuthn Level 3's RegistrationResponseJSON and
// AuthenticationResponseJSON), built by hand for browsers without `toJSON()`.
const credentialJson = (credential) => {
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || null,
    clientExtensionResults: credential.getClientExtensionResults(),
    response,
  };
};

const showError = (container, message) => {
  const error = container.querySelector("[data-passkey-error]");
  if (!error) return;
  error.textContent = message || error.dataset.default;
  error.hidden = false;
};

const ceremony = async (form, container = form) => {
  const reply = await fetch(form.dataset.options, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
  });
  const json = await reply.json();
  if (!reply.ok || json.error) {
    showError(container, json.error);
    return;
  }
  const credential =
    form.dataset.passkey === "create"
      ? await navigator.credentials.create({ publicKey: creationOptions(json.publicKey || json) })
      : await navigator.credentials.get({ publicKey: requestOptions(json.publicKey || json) });
  form.querySelector("input[name=answer]").value = JSON.stringify(credentialJson(credential));
  form.submit();
};

const start = (form, button, container = form) => {
  button.disabled = true;
  ceremony(form, container)
    .catch((error) => {
      console.error("passkey:", error);
      showError(container);
    })
    .finally(() => {
      button.disabled = false;
    });
};

const hiddenField = (form, name, value) => {
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  form.append(input);
};

// The pages may load this script more than once (one per component that needs it).
if (window.PublicKeyCredential && !window.portcullisPasskeys) {
  window.portcullisPasskeys = true;
  document.querySelectorAll("form[data-passkey]").forEach((form) => {
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      start(form, form.querySelector("button[type=submit]") || document.createElement("button"));
    });
  });
  document.querySelectorAll("[data-passkey-reauth]").forEach((container) => {
    container.hidden = false;
    const button = container.querySelector("button");
    button.addEventListener("click", () => {
      const form = document.createElement("form");
      form.method = "post";
      form.action = container.dataset.passkeyReauth;
      form.dataset.passkey = "get";
      form.dataset.options = container.dataset.options;
      form.hidden = true;
      hiddenField(form, "csrf", container.dataset.csrf);
      hiddenField(form, "answer", "");
      hiddenField(form, "next", window.location.pathname + window.location.search);
      document.body.append(form);
      start(form, button, container);
    });
  });
}
