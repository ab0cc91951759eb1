// The demo page: loads a <faceproof-capture> for a capture token and shows what it reports.
// Automated use: ?flow=advance|fpt|silent&token=fct_...&auto=1&lang=vi|en[&timeout=SECONDS]
// starts without a click; at the end #result holds the final response JSON and <body> gets
// data-state="done" or "error" (the error code in data-error).
import "/sdk/faceproof-capture.js";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const body = document.body;

for (const k of ["flow", "token", "lang"]) if (params.get(k)) $(k).value = params.get(k);

function log(type, detail) {
  const li = document.createElement("li");
  li.textContent = `${type}: ${JSON.stringify(detail)}`;
  $("events").append(li);
  $("events").scrollTop = $("events").scrollHeight;
}

function mount(autoStart) {
  $("slot").replaceChildren();
  const el = document.createElement("faceproof-capture");
  if ($("lang").value) el.setAttribute("lang", $("lang").value);
  if (params.get("timeout")) el.setAttribute("timeout", params.get("timeout"));
  el.setAttribute("token", $("token").value.trim());
  el.addEventListener("state", (e) => {
    log("state", e.detail);
    if (!["done", "error"].includes(e.detail.state)) body.dataset.state = e.detail.state;
  });
  el.addEventListener("hint", (e) => log("hint", e.detail.hint));
  el.addEventListener("challenge", (e) => log("challenge step", e.detail));
  // a real page would ask its backend for a new token with challenge_kind "head_turn" here
  el.addEventListener("alternative", (e) => log("alternative requested", e.detail));
  el.addEventListener("complete", (e) => {
    log("complete", { status: e.detail.status, timings: e.detail.timings });
    $("result").textContent = JSON.stringify(e.detail.response, null, 2);
    body.dataset.captureMs = String(e.detail.timings.capture_ms);
    body.dataset.uploadMs = String(e.detail.timings.upload_ms);
    body.dataset.state = "done";
    delete body.dataset.error;
  });
  el.addEventListener("error", (e) => {
    log("error", { code: e.detail.code, message: e.detail.message });
    $("result").textContent = JSON.stringify(e.detail.response ?? { code: e.detail.code, message: e.detail.message }, null, 2);
    body.dataset.error = e.detail.code;
    body.dataset.state = "error";
  });
  $("slot").append(el);
  if (autoStart) el.start();
}

$("setup").addEventListener("submit", (e) => {
  e.preventDefault();
  mount(false);
});

if (params.get("token")) mount(params.get("auto") === "1");
