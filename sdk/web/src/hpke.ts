/**
 * HPKE sealing for the silent API, exactly docs/api-silent.md: base mode, DHKEM(X25519,
 * HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, info per field, empty AAD; the wire form is
 * standard base64 of enc (32 bytes) followed by the ciphertext.
 */
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";

export const INFO = {
  encrypted_video: "faceproof silent v1 video",
  encrypted_image: "faceproof silent v1 image",
} as const;

const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

export async function seal(publicKeyB64: string, field: keyof typeof INFO, bytes: ArrayBuffer): Promise<string> {
  const recipientPublicKey = await suite.kem.deserializePublicKey(fromBase64(publicKeyB64).buffer as ArrayBuffer);
  const sender = await suite.createSenderContext({
    recipientPublicKey,
    info: new TextEncoder().encode(INFO[field]).buffer as ArrayBuffer,
  });
  const ct = new Uint8Array(await sender.seal(bytes));
  const enc = new Uint8Array(sender.enc);
  const out = new Uint8Array(enc.length + ct.length);
  out.set(enc, 0);
  out.set(ct, enc.length);
  return toBase64(out);
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    s += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
