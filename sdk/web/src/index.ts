/**
 * `@faceproof/capture`: the faceproof web capture SDK. Importing it defines `<faceproof-capture>`.
 */
import { define } from "./element.js";

export { FaceproofCapture, define } from "./element.js";
export type { CaptureState, StateDetail, HintDetail, ErrorDetail, CompleteDetail } from "./element.js";
export type { CaptureContext, Challenge, ChallengeStep, Flow } from "./api.js";
export type { ClientTelemetry } from "./telemetry.js";
export type { Hint } from "./guidance.js";
export type { Lang } from "./i18n.js";
export { SDK_VERSION } from "./telemetry.js";

define();
