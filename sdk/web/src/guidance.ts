/**
 * Turns one detection into one hint. Pure: the element feeds it detections and shows the hint.
 * The browser only guides; every limit here is a comfort margin for the server's own checks, not a
 * decision (the server measures again on the uploaded media).
 */
import type { Face } from "./blazeface.js";

/** What the user should do now; `good` means the frame can be used. */
export type Hint =
  | "rotate_portrait"
  | "no_face"
  | "multiple_faces"
  | "too_dark"
  | "too_bright"
  | "move_closer"
  | "move_back"
  | "move_left"
  | "move_right"
  | "move_up"
  | "move_down"
  | "hold_still"
  | "good";

/** The oval the face must fill: centre in frame fractions, face width as a fraction of the frame's short side. */
export interface OvalTarget {
  cx: number;
  cy: number;
  minWidth: number;
  maxWidth: number;
}

/** ADVANCE far step: the small oval (face box 122 px of 480 measured for a far clip). */
export const FAR_OVAL: OvalTarget = { cx: 0.5, cy: 0.47, minWidth: 0.16, maxWidth: 0.42 };
/** ADVANCE near step: the large oval. */
export const NEAR_OVAL: OvalTarget = { cx: 0.5, cy: 0.47, minWidth: 0.48, maxWidth: 0.95 };
/** FPT and silent: one medium oval. */
export const VIDEO_OVAL: OvalTarget = { cx: 0.5, cy: 0.47, minWidth: 0.28, maxWidth: 0.8 };

/** Face-box mean luma below this is too dark, above the next too bright (0-255). */
export const MIN_FACE_LUMA = 45;
export const MAX_FACE_LUMA = 220;
/** Face centre within this fraction of the frame of the oval centre. */
export const CENTRE_TOLERANCE = 0.14;
/** Between two detections the face centre may move this fraction of the short side and count as still. */
export const STILL_TOLERANCE = 0.035;

export interface FrameFacts {
  faces: Face[];
  faceLuma: number;
  width: number;
  height: number;
  /** A phone held sideways (coarse pointer and landscape viewport). */
  landscapePhone: boolean;
}

/** Mirrored display: the user sees their right on the screen's right. */
export function hintFor(f: FrameFacts, target: OvalTarget, previous: Face | null): Hint {
  if (f.landscapePhone) return "rotate_portrait";
  if (f.faces.length === 0) return "no_face";
  if (f.faces.length > 1) return "multiple_faces";
  const face = f.faces[0];
  if (f.faceLuma < MIN_FACE_LUMA) return "too_dark";
  if (f.faceLuma > MAX_FACE_LUMA) return "too_bright";
  const side = Math.min(f.width, f.height);
  const width = (face.x1 - face.x0) / side;
  if (width < target.minWidth) return "move_closer";
  if (width > target.maxWidth) return "move_back";
  // display x of the face centre (the preview is mirrored)
  const cx = 1 - (face.x0 + face.x1) / 2 / f.width;
  const cy = (face.y0 + face.y1) / 2 / f.height;
  if (cx < target.cx - CENTRE_TOLERANCE) return "move_right";
  if (cx > target.cx + CENTRE_TOLERANCE) return "move_left";
  if (cy < target.cy - CENTRE_TOLERANCE) return "move_down";
  if (cy > target.cy + CENTRE_TOLERANCE) return "move_up";
  if (previous) {
    const moved = Math.hypot(
      (face.x0 + face.x1 - previous.x0 - previous.x1) / 2,
      (face.y0 + face.y1 - previous.y0 - previous.y1) / 2,
    );
    if (moved / side > STILL_TOLERANCE) return "hold_still";
  }
  return "good";
}

/**
 * Why a step ran out of time, from the count of each blocking hint seen during it: several faces as
 * soon as they were seen in a fifth of the frames (the user must fix that first), else the most
 * frequent blocking hint. The error code says why; `timeout` when nothing specific blocked.
 */
export function timeoutCode(counts: Partial<Record<Hint, number>>): string {
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  let last: Hint | null = null;
  if (total > 0 && (counts.multiple_faces ?? 0) / total >= 0.2) last = "multiple_faces";
  else {
    let best = 0;
    for (const [h, n] of Object.entries(counts) as [Hint, number][]) {
      if (n > best) {
        best = n;
        last = h;
      }
    }
  }
  switch (last) {
    case "no_face":
    case "multiple_faces":
    case "too_dark":
    case "too_bright":
      return last;
    case "move_closer":
      return "face_too_far";
    default:
      return "timeout";
  }
}
