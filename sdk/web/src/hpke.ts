/**
 * HPKE sealing for the silent API, exactly docs/api-silent.md (envelope format 2): base mode,
 * DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, info "faceproof silent v2"; the
 * video and the photo are the first and second messages of ONE sender context, both with the AAD
 * `0x02 || sealed_at` (Unix ms, u64 big-endian), so the server opens the photo only with this
 * request's video, refuses a pair sealed outside its time window and judges a pair once.
 * Wire form: encrypted_video = base64(aad || enc || seal(video)), encrypted_image = base64(seal(photo)).
 */
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";

export const INFO = "faceproof silent v2";
export const VERSION = 2;

const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

/** The envelope pair of one request, sealed now (`sealedAtMs`: the client's clock). */
export async function sealPair(
  publicKeyB64: string,
  video: ArrayBuffer,
  photo: ArrayBuffer,
  sealedAtMs: number = Date.now(),
): Promise<{ encrypted_video: string; encrypted_image: string }> {
  const recipientPublicKey = await suite.kem.deserializePublicKey(fromBase64(publicKeyB64).buffer as ArrayBuffer);
  const sender = await suite.createSenderContext({
    recipientPublicKey,
    info: new TextEncoder().encode(INFO).buffer as ArrayBuffer,
  });
  const aad = new Uint8Array(9);
  aad[0] = VERSION;
  new DataView(aad.buffer).setBigUint64(1, BigInt(Math.max(0, Math.floor(sealedAtMs))), false);
  const videoCt = new Uint8Array(await sender.seal(video, aad.buffer as ArrayBuffer));
  const photoCt = new Uint8Array(await sender.seal(photo, aad.buffer as ArrayBuffer));
  const enc = new Uint8Array(sender.enc);
  const v = new Uint8Array(aad.length + enc.length + videoCt.length);
  v.set(aad, 0);
  v.set(enc, aad.length);
  v.set(videoCt, aad.length + enc.length);
  return { encrypted_video: toBase64(v), encrypted_image: toBase64(photoCt) };
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
