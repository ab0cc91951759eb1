/**
 * The device id the uploads name (`x-faceproof-device`): 32 random hex digits kept in the page's
 * local storage, so the server can count failed liveness attempts per phone rather than per
 * address (users behind one carrier NAT must not lock each other out). It is not a credential and
 * identifies nothing but this browser profile on this origin; the server keeps only a hash of it.
 */
export const DEVICE_HEADER = "x-faceproof-device";

const STORAGE_KEY = "faceproof.device";
const ID_FORMAT = /^[0-9a-f]{32}$/;

let fallback: string | null = null;

function fresh(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This browser's device id; where storage is blocked, one id for the page's lifetime. */
export function deviceId(): string {
  try {
    const kept = localStorage.getItem(STORAGE_KEY);
    if (kept && ID_FORMAT.test(kept)) return kept;
    const id = fresh();
    localStorage.setItem(STORAGE_KEY, id);
    return id;
  } catch {
    fallback ??= fresh();
    return fallback;
  }
}
