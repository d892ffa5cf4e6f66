// PKCS#12 handling of the ELSTER login page: open the certificate file with
// the PIN, pick the key and its certificate, and sign the challenge.
//
// node-forge does the PKCS#12 work because it reads both the modern
// (PBES2/AES) and the older (3DES/RC2) file formats; WebCrypto has no 3DES
// or RC2. The signature itself is made by WebCrypto with a non-extractable
// key, so the key material lives in forge objects only until sign returns.

import forge from 'node-forge/lib/forge';
import 'node-forge/lib/asn1';
import 'node-forge/lib/pkcs12';
import 'node-forge/lib/x509';
import 'node-forge/lib/sha256';
import 'node-forge/lib/sha512';
import 'node-forge/lib/util';

const maxChain = 8;

// PageError carries the key of the message the page shows.
export class PageError extends Error {
  constructor(key) {
    super(key);
    this.key = key;
  }
}

function bytesToBinary(bytes) {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return s;
}

function binaryToBytes(s) {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    out[i] = s.charCodeAt(i) & 0xff;
  }
  return out;
}

export function bytesToBase64(bytes) {
  return btoa(bytesToBinary(bytes));
}

// openPKCS12 decrypts the file and returns the RSA key and the certificates.
export function openPKCS12(fileBytes, pin) {
  let p12Asn1;
  try {
    p12Asn1 = forge.asn1.fromDer(bytesToBinary(fileBytes));
  } catch (e) {
    throw new PageError('notPkcs12');
  }
  let p12;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(p12Asn1, false, pin);
  } catch (e) {
    const msg = String(e && e.message);
    // A failed MAC check or a key that does not decrypt is a wrong PIN; a
    // file that cannot be parsed at all is something else.
    if (/MAC could not be verified|wrong password|Invalid password|Too few bytes|Cannot read|unpad|decrypt/i.test(msg)) {
      throw new PageError('wrongPin');
    }
    throw new PageError('notPkcs12');
  }
  const keyBags = []
    .concat(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] || [])
    .concat(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] || []);
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] || [];
  const keys = keyBags.filter((b) => b.key).map((b) => b.key);
  if (keys.length !== 1) {
    throw new PageError(keyBags.length === 0 ? 'noKey' : 'unsupportedKey');
  }
  const key = keys[0];
  const certs = certBags.map((b) => ({
    cert: b.cert,
    der: b.cert
      ? forge.asn1.toDer(forge.pki.certificateToAsn1(b.cert)).getBytes()
      : forge.asn1.toDer(b.asn1).getBytes(),
  }));
  const leafIndex = certs.findIndex(
    (c) => c.cert && c.cert.publicKey && c.cert.publicKey.n && c.cert.publicKey.n.equals(key.n) && c.cert.publicKey.e.equals(key.e),
  );
  if (leafIndex < 0) {
    throw new PageError('noCertificate');
  }
  const leaf = certs[leafIndex];
  const others = certs.filter((_, i) => i !== leafIndex).slice(0, maxChain - 1);
  return { key, leaf, others };
}

function commonName(name) {
  const f = name && name.getField('CN');
  return f ? String(f.value) : '';
}

// checkCertificate gives the person an early, specific message. It is only a
// hint: the broker checks everything again and is the one that decides.
export function checkCertificate(leaf, others, caNames, now) {
  const c = leaf.cert;
  if (now > c.validity.notAfter) {
    throw new PageError('expired');
  }
  if (now < c.validity.notBefore) {
    throw new PageError('notYetValid');
  }
  if (caNames.length > 0) {
    const issuers = [commonName(c.issuer)];
    for (const o of others) {
      if (o.cert) {
        issuers.push(commonName(o.cert.issuer), commonName(o.cert.subject));
      }
    }
    // A file with the leaf alone cannot show its path to a configured root;
    // then only the broker can tell, and the page does not guess.
    const known = issuers.some((n) => n && caNames.includes(n));
    if (!known && others.length > 0) {
      throw new PageError('notElster');
    }
  }
}

export async function sign(key, alg, challenge) {
  const pkcs8 = forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))).getBytes();
  const params = alg === 'PS256' ? { name: 'RSA-PSS', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  let cryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('pkcs8', binaryToBytes(pkcs8), params, false, ['sign']);
  } catch (e) {
    throw new PageError('unsupportedKey');
  }
  const data = new TextEncoder().encode(challenge);
  const signParams = alg === 'PS256' ? { name: 'RSA-PSS', saltLength: 32 } : { name: 'RSASSA-PKCS1-v1_5' };
  return new Uint8Array(await crypto.subtle.sign(signParams, cryptoKey, data));
}

