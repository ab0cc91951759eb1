import { ApiError, call } from "../api";
import { signalChart } from "../charts";
import { announce, fmtTime, h, s } from "../dom";
import { t, word } from "../i18n";

const num = (v: unknown, d = 3) => (typeof v === "number" ? v.toFixed(d) : "–");

function kv(pairs: [string, Node | string][]) {
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of pairs) dl.append(h("dt", {}, k), h("dd", {}, v));
  return dl;
}

function card(title: string, ...content: (Node | string | null)[]) {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...content);
}

function images(id: string, artefacts: any[]) {
  const names: [string, string][] = [["detection", t("best_frame")], ["far", t("far")], ["near", t("near")]];
  const have = names.filter(([n]) => artefacts.some((a) => a.name === n && a.available));
  if (!have.length) return h("p", {}, t("no_images"));
  return h(
    "div",
    { class: "images" },
    ...have.map(([n, label]) =>
      h("figure", {}, h("img", { src: `/console/api/sessions/${id}/artefacts/${n}`, alt: `${label} (${id})` }), h("figcaption", {}, label)),
    ),
  );
}

/** The worst moment of each code on the clip's time axis; with the clip, a button seeks it. */
function timeline(v: any, id: string, artefacts: any[]) {
  const dur = Math.max(v?.media?.duration_seconds ?? 0, ...((v?.codes ?? []) as any[]).map((c) => c.at_seconds ?? 0));
  const moments = ((v?.codes ?? []) as any[]).filter((c) => typeof c.at_seconds === "number");
  const clip = artefacts.some((a) => a.name === "clip" && a.available);
  const video = clip ? h("video", { controls: true, preload: "metadata", src: `/console/api/sessions/${id}/artefacts/clip`, width: 360 }) : null;
  const out = h("div", { class: "timeline" });
  if (dur > 0 && moments.length) {
    const width = 600;
    const svg = s("svg", { width, height: 30 + moments.length * 18, role: "img", "aria-label": `${t("timeline")}: ${moments.map((m) => `${m.code} ${m.at_seconds.toFixed(2)} s`).join("; ")}` });
    svg.append(s("line", { x1: 10, x2: width - 10, y1: 12, y2: 12, stroke: "#57606a" }));
    svg.append(s("text", { x: 10, y: 26 }, "0 s"));
    svg.append(s("text", { x: width - 50, y: 26 }, `${dur.toFixed(1)} s`));
    moments.forEach((m, i) => {
      const x = 10 + ((width - 20) * m.at_seconds) / dur;
      svg.append(s("circle", { cx: x, cy: 12, r: 5, fill: m.severity === "error" ? "#b42318" : "#8a5a00" }));
      svg.append(s("text", { x: Math.min(x, width - 160), y: 44 + i * 18 }, `${m.code} @ ${m.at_seconds.toFixed(2)} s`));
    });
    out.append(svg);
    if (video) {
      out.append(
        h("div", { class: "row-actions" }, ...moments.map((m) =>
          h("button", { type: "button", class: "mark", onclick: () => { video.currentTime = m.at_seconds; void video.play().catch(() => {}); } }, `${t("play_at")} ${m.at_seconds.toFixed(2)} s (${m.code})`),
        )),
      );
    }
  }
  if (video) out.append(video);
  out.append(h("p", { class: "notice" }, t("timeline_missing")));
  return out;
}

function reviewForm(id: string, reasons: { approved: string[]; rejected: string[] }, reload: () => void) {
  const err = h("p", { class: "error", role: "alert" });
  const reasonSel = h("select", { id: "reason", required: true });
  const fill = (d: "approved" | "rejected") => reasonSel.replaceChildren(...reasons[d].map((r) => h("option", { value: r }, word(r))));
  const radio = (value: string, label: string, checked: boolean) =>
    h("span", { class: "radio" }, h("input", { type: "radio", name: "decision", id: `d-${value}`, value, checked, onchange: () => fill(value as any) }), " ", h("label", { for: `d-${value}`, class: "inline" }, label), " ");
  fill("approved");
  const form = h(
    "form",
    { "aria-label": t("decide") },
    h("fieldset", {}, h("legend", {}, t("decision")), radio("approved", t("approve"), true), radio("rejected", t("reject"), false)),
    h("label", { for: "reason" }, t("reason")),
    reasonSel,
    h("label", { for: "note" }, t("note")),
    h("textarea", { id: "note", rows: 3, cols: 50, maxlength: 2000 }),
    h("div", { class: "row-actions" }, h("button", { class: "primary", type: "submit" }, t("submit"))),
    err,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const decision = (form.querySelector("input[name=decision]:checked") as HTMLInputElement).value;
    try {
      await call("POST", `sessions/${id}/review`, { decision, reason: reasonSel.value, note: (form.querySelector("#note") as HTMLTextAreaElement).value });
      announce(t("decided"));
      reload();
    } catch (x) {
      err.textContent = x instanceof Error ? x.message : t("error");
    }
  });
  return form;
}

export async function detailView(main: HTMLElement, id: string) {
  main.replaceChildren(h("p", {}, t("loading")));
  const d = await call("GET", `sessions/${encodeURIComponent(id)}`);
  const v = d.verdict ?? {};
  const se = d.session;
  const live = v.liveness;
  const outcome = d.verdict ? (live?.is_live && !(v.codes ?? []).some((c: any) => c.severity === "error") ? "passed" : live ? "refused" : "unusable") : "unusable";
  const blockMsg = h("p", { role: "status" });
  const parts: (Node | null)[] = [
    h("h1", { tabindex: "-1" }, `${t("detail_title")} ${se.id}`),
    kv([
      [t("created"), fmtTime(se.created_at_ms)],
      [t("api"), `${se.api} (${se.kind})`],
      [t("outcome"), h("span", { class: `pill ${outcome}` }, word(outcome))],
      [t("reference"), se.reference ?? "–"],
      [t("review"), d.reviews.length ? h("span", { class: `pill ${d.reviews[d.reviews.length - 1].decision}` }, word(d.reviews[d.reviews.length - 1].decision)) : "–"],
    ]),
    card(t("images"), images(se.id, d.artefacts)),
  ];
  const grid = h("div", { class: "grid" });
  grid.append(
    card(
      t("reasons_title"),
      (v.codes ?? []).length
        ? h("ul", {}, ...(v.codes as any[]).map((c) => h("li", {}, h("strong", {}, c.code), ` (${c.severity}) ${c.measure} = ${num(c.value)} / ${t("threshold")} ${num(c.threshold)}${typeof c.at_seconds === "number" ? ` @ ${c.at_seconds.toFixed(2)} s` : ""}`)))
        : h("p", {}, "–"),
    ),
  );
  if (live)
    grid.append(card(t("liveness"), kv([[t("spoof_prob"), num(live.spoof_prob)], [t("threshold"), num(live.threshold)], [t("is_live"), live.is_live ? t("yes") : t("no")], [t("need_review"), live.need_to_review ? t("yes") : t("no")], [t("attack_type"), live.attack_type ?? "–"]])));
  if (v.match)
    grid.append(card(t("match"), kv([[t("similarity"), num(v.match.similarity, 1)], [t("threshold"), num(v.match.threshold)], [t("is_match"), v.match.is_match ? t("yes") : t("no")], [t("far_rate"), `${v.match.far.far.toExponential(2)} (${v.match.far.method})`]])));
  if (v.deepfake) grid.append(card(t("deepfake"), kv([["p", num(v.deepfake.prob)], [t("threshold"), num(v.deepfake.threshold)]])));
  if (v.challenge)
    grid.append(card(t("challenge"), kv([["kind", String(v.challenge.kind)], [t("challenge_passed"), v.challenge.passed ? t("yes") : t("no")], ["score", num(v.challenge.score)], ["lag", `${num(v.challenge.lag_ms, 0)} ms`]])));
  parts.push(grid);
  const signals = [...(live?.signals ?? []), ...(v.deepfake?.signals ?? []).map((x: any) => ({ ...x, name: `deepfake:${x.name}` }))];
  if (signals.length) parts.push(card(t("signals_title"), h("p", {}, t("signals_caption")), signalChart(t("signals_title"), signals)));
  parts.push(card(t("timeline"), timeline(v, se.id, d.artefacts)));
  const vr = d.vendor_response;
  const vrNote = { as_sent: t("vendor_as_sent"), as_sent_without_images: t("vendor_without_images"), summary: t("vendor_summary"), none: t("vendor_none") }[vr.kind as string] ?? "";
  parts.push(card(t("vendor"), h("p", {}, vrNote), vr.body ? h("pre", { tabindex: "0", "aria-label": t("vendor") }, JSON.stringify(vr.body, null, 2)) : null));
  parts.push(
    card(
      t("reviews"),
      d.reviews.length
        ? h("ul", { id: "reviews" }, ...d.reviews.map((r: any) => h("li", {}, h("span", { class: `pill ${r.decision}` }, word(r.decision)), ` ${word(r.reason)} — ${r.operator_email ?? r.operator_id}, ${fmtTime(r.created_at_ms)}${r.note ? `: ${r.note}` : ""}`)))
        : h("p", { id: "reviews" }, t("no_reviews")),
      reviewForm(se.id, d.reasons, () => void detailView(main, id)),
      h(
        "div",
        { class: "row-actions" },
        h("button", {
          type: "button",
          class: "danger",
          onclick: async () => {
            try {
              await call("POST", `sessions/${se.id}/blocklist`, {});
            } catch (x) {
              blockMsg.textContent = x instanceof ApiError ? `${x.status}: ${x.message}` : t("error");
            }
          },
        }, t("blocklist")),
      ),
      blockMsg,
    ),
  );
  main.replaceChildren(...parts.filter((p): p is Node => p !== null));
  (main.querySelector("h1") as HTMLElement).focus();
}
