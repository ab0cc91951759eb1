/**
 * Message catalogues. Every text the element shows comes from here, so a language is one object.
 * Keys are the hint and error codes the element emits (stable, documented in docs/sdk.md).
 */

export type Lang = "en" | "vi";

export const LANGS: readonly Lang[] = ["en", "vi"];

const en = {
  title: "Face check",
  intro: "We will record a few seconds of video of your face. Keep your face inside the oval.",
  start: "Start",
  cancel: "Cancel",
  retry: "Try again",
  more_time: "More time",
  switch_camera: "Switch camera",
  use_head_turn: "Use head movements instead",
  flash_warning:
    "Warning: the screen will change colour up to 3 times per second while recording. If flashing light affects you, use head movements instead.",
  head_turn_needed: "Head movements were requested: ask for a new session to continue.",
  // states
  state_loading: "Preparing the camera…",
  state_ready: "Ready when you are.",
  state_positioning: "Fit your face in the oval.",
  state_recording: "Recording… keep your face in the oval.",
  state_uploading: "Sending…",
  state_done: "Done. Thank you.",
  state_error: "Something went wrong.",
  state_timeout: "Time is up.",
  // hints
  no_face: "No face found. Look at the camera.",
  multiple_faces: "Only one person should be in view.",
  move_closer: "Move closer.",
  move_back: "Move back a little.",
  move_left: "Move your face left.",
  move_right: "Move your face right.",
  move_up: "Move your face up.",
  move_down: "Move your face down.",
  hold_still: "Hold still.",
  too_dark: "Too dark. Find more light.",
  too_bright: "Too bright. Avoid direct light behind or on you.",
  rotate_portrait: "Turn your phone upright.",
  good: "Good. Hold still.",
  far_step: "Step 1 of 2: face in the small oval.",
  near_step: "Step 2 of 2: come closer, face in the large oval.",
  turn_left: "Turn your head to your left.",
  turn_right: "Turn your head to your right.",
  turn_up: "Tilt your head up.",
  look_straight: "Look straight at the camera.",
  colour_step: "Keep still while the colours change.",
  // errors
  camera_denied: "Camera access was refused. Allow the camera in the browser settings and try again.",
  camera_unavailable: "No camera could be opened.",
  camera_frame_rate: "The camera is too slow (under 15 frames per second).",
  camera_lost: "The camera stopped during the capture.",
  token_refused: "This session is not valid any more. Ask for a new one.",
  unauthorized: "This session is not valid any more. Ask for a new one.",
  too_many_attempts: "Too many attempts. Wait a few minutes, then try again.",
  upload_failed: "Sending failed.",
  network: "Network error.",
  model_failed: "The face guide could not be loaded.",
  recording_unsupported: "This browser cannot record video.",
  timeout: "Time is up.",
  cancelled: "Cancelled.",
  face_too_far: "Move closer.",
  internal: "Unexpected error.",
} as const;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

const vi: Catalogue = {
  title: "Xác thực khuôn mặt",
  intro: "Chúng tôi sẽ quay vài giây video khuôn mặt của bạn. Giữ khuôn mặt trong khung hình bầu dục.",
  start: "Bắt đầu",
  cancel: "Hủy",
  retry: "Thử lại",
  more_time: "Thêm thời gian",
  switch_camera: "Đổi camera",
  use_head_turn: "Dùng cử động đầu thay thế",
  flash_warning:
    "Cảnh báo: màn hình sẽ đổi màu tối đa 3 lần mỗi giây khi quay. Nếu ánh sáng nhấp nháy ảnh hưởng đến bạn, hãy dùng cử động đầu.",
  head_turn_needed: "Đã chọn cử động đầu: hãy yêu cầu một phiên mới để tiếp tục.",
  state_loading: "Đang chuẩn bị camera…",
  state_ready: "Sẵn sàng khi bạn sẵn sàng.",
  state_positioning: "Đưa khuôn mặt vào khung bầu dục.",
  state_recording: "Đang quay… giữ khuôn mặt trong khung.",
  state_uploading: "Đang gửi…",
  state_done: "Hoàn tất. Cảm ơn bạn.",
  state_error: "Đã xảy ra lỗi.",
  state_timeout: "Đã hết thời gian.",
  no_face: "Không thấy khuôn mặt. Hãy nhìn vào camera.",
  multiple_faces: "Chỉ một người được xuất hiện trong khung hình.",
  move_closer: "Lại gần hơn.",
  move_back: "Lùi ra xa một chút.",
  move_left: "Dịch khuôn mặt sang trái.",
  move_right: "Dịch khuôn mặt sang phải.",
  move_up: "Dịch khuôn mặt lên trên.",
  move_down: "Dịch khuôn mặt xuống dưới.",
  hold_still: "Giữ yên.",
  too_dark: "Quá tối. Hãy tìm chỗ sáng hơn.",
  too_bright: "Quá sáng. Tránh ánh sáng chiếu thẳng.",
  rotate_portrait: "Hãy xoay điện thoại theo chiều dọc.",
  good: "Tốt. Giữ yên.",
  far_step: "Bước 1/2: khuôn mặt trong khung bầu dục nhỏ.",
  near_step: "Bước 2/2: lại gần, khuôn mặt trong khung bầu dục lớn.",
  turn_left: "Quay đầu sang bên trái của bạn.",
  turn_right: "Quay đầu sang bên phải của bạn.",
  turn_up: "Ngẩng đầu lên.",
  look_straight: "Nhìn thẳng vào camera.",
  colour_step: "Giữ yên trong khi màn hình đổi màu.",
  camera_denied: "Quyền truy cập camera bị từ chối. Hãy cho phép camera trong cài đặt trình duyệt và thử lại.",
  camera_unavailable: "Không mở được camera.",
  camera_frame_rate: "Camera quá chậm (dưới 15 khung hình mỗi giây).",
  camera_lost: "Camera đã dừng trong khi quay.",
  token_refused: "Phiên này không còn hợp lệ. Hãy yêu cầu phiên mới.",
  unauthorized: "Phiên này không còn hợp lệ. Hãy yêu cầu phiên mới.",
  too_many_attempts: "Bạn đã thử quá nhiều lần. Vui lòng đợi vài phút rồi thử lại.",
  upload_failed: "Gửi không thành công.",
  network: "Lỗi mạng.",
  model_failed: "Không tải được bộ hướng dẫn khuôn mặt.",
  recording_unsupported: "Trình duyệt này không quay được video.",
  timeout: "Đã hết thời gian.",
  cancelled: "Đã hủy.",
  face_too_far: "Lại gần hơn.",
  internal: "Lỗi không mong muốn.",
};

const CATALOGUES: Record<Lang, Catalogue> = { en, vi };

/** The first supported language among `preferred` (BCP 47 tags, e.g. navigator.languages), else English. */
export function pickLang(preferred: readonly string[]): Lang {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if ((LANGS as readonly string[]).includes(base)) return base as Lang;
  }
  return "en";
}

export function catalogue(lang: Lang): Catalogue {
  return CATALOGUES[lang];
}

/** Text for a code; unknown codes fall back to the generic error text. */
export function message(lang: Lang, key: string): string {
  const c = CATALOGUES[lang] as Record<string, string>;
  return c[key] ?? c.internal;
}
