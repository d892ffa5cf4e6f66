// Script of the ELSTER certificate login page.
//
// It opens the person's PKCS#12 certificate file in the browser, signs the
// login challenge with the private key through WebCrypto and posts only the
// certificate chain, the signature and the challenge to the broker. The file,
// the PIN and the private key never leave the browser: the inputs that hold
// them have no name attribute and live in a form that is never submitted.

import { PageError, bytesToBase64, checkCertificate, openPKCS12, sign } from './pkcs12.js';

const maxFileBytes = 64 * 1024;

function $(id) {
  return document.getElementById(id);
}

function addHidden(form, name, value) {
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = name;
  input.value = value;
  form.appendChild(input);
}

function setup() {
  const root = $('elster');
  const local = $('elster-local');
  const post = $('elster-post');
  if (!root || !local || !post) {
    return;
  }
  const fileInput = $('elster-file');
  const pinInput = $('elster-pin');
  const submit = $('elster-submit');
  const errorBox = $('elster-error');
  const status = $('elster-status');
  const alg = root.dataset.alg === 'PS256' ? 'PS256' : 'RS256';
  let caNames = [];
  try {
    caNames = JSON.parse(root.dataset.caNames || '[]');
  } catch (e) {
    caNames = [];
  }

  const message = (key) => root.dataset['msg' + key.charAt(0).toUpperCase() + key.slice(1)] || root.dataset.msgFailed || key;
  const showError = (key) => {
    errorBox.textContent = message(key);
    errorBox.dataset.code = key;
    errorBox.hidden = false;
    status.hidden = true;
    submit.disabled = false;
    // The focus goes to the message (it has tabindex -1), not back to the
    // page's start: keyboard and screen-reader users land on what went
    // wrong, next to the fields to correct.
    errorBox.focus();
  };

  if (!window.crypto || !window.crypto.subtle) {
    showError('noWebCrypto');
    submit.disabled = true;
    return;
  }

  local.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      showError('noFile');
      return;
    }
    if (file.size > maxFileBytes) {
      showError('notPkcs12');
      return;
    }
    submit.disabled = true;
    status.textContent = message('working');
    status.hidden = false;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const pin = pinInput.value;
      // Let the status text paint before the synchronous decryption.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const { key, leaf, others } = openPKCS12(bytes, pin);
      checkCertificate(leaf, others, caNames, new Date());
      const challenge = post.elements.namedItem('challenge').value;
      const signature = await sign(key, alg, challenge);
      pinInput.value = '';
      fileInput.value = '';
      addHidden(post, 'alg', alg);
      addHidden(post, 'signature', bytesToBase64(signature));
      addHidden(post, 'chain', btoa(leaf.der));
      for (const o of others) {
        addHidden(post, 'chain', btoa(o.der));
      }
      status.textContent = message('sending');
      post.submit();
    } catch (e) {
      showError(e instanceof PageError ? e.key : 'failed');
    }
  });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', setup);
} else {
  setup();
}
