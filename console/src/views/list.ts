import { call, type SessionRow } from "../api";
import { fmtTime, h } from "../dom";
import { t, word } from "../i18n";

const API_NAMES = ["fpt", "silent", "advance"];
const OUTCOMES = ["passed", "refused", "unusable"];

function select(id: string, label: string, options: [string, string][], value: string) {
  const sel = h("select", { id, name: id });
  for (const [v, text] of options) sel.append(h("option", { value: v, selected: v === value }, text));
  return h("div", {}, h("label", { for: id }, label), sel);
}

function input(id: string, label: string, type: string, value: string) {
  return h("div", {}, h("label", { for: id }, label), h("input", { id, name: id, type, value }));
}

function dayMs(v: string, end: boolean): string {
  if (!v) return "";
  const ms = Date.parse(`${v}T00:00:00Z`);
  return Number.isNaN(ms) ? "" : String(end ? ms + 86_400_000 : ms);
}

/** `#/sessions?...`: the filters live in the URL, so a filtered list can be bookmarked. */
export async function listView(main: HTMLElement, params: URLSearchParams) {
  const p = (k: string) => params.get(k) ?? "";
  const any: [string, string] = ["", t("any")];
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": t("filter") },
    select("api", t("api"), [any, ...API_NAMES.map((a): [string, string] => [a, a])], p("api")),
    select("outcome", t("outcome"), [any, ...OUTCOMES.map((o): [string, string] => [o, word(o)])], p("outcome")),
    input("code", t("code"), "text", p("code")),
    select("need_review", t("need_review"), [any, ["true", t("yes")], ["false", t("no")]], p("need_review")),
    h("div", { class: "check" }, h("input", { id: "unreviewed", type: "checkbox", checked: p("unreviewed") === "true" }), h("label", { for: "unreviewed" }, t("unreviewed"))),
    input("from_day", t("from"), "date", p("from_day")),
    input("to_day", t("to"), "date", p("to_day")),
    input("reference", t("reference"), "text", p("reference")),
    h("button", { class: "primary", type: "submit" }, t("filter")),
    h("button", { type: "button", onclick: () => (location.hash = "#/sessions") }, t("reset")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const id of ["api", "outcome", "code", "need_review", "from_day", "to_day", "reference"]) {
      const v = (form.querySelector(`#${id}`) as HTMLInputElement).value.trim();
      if (v) q.set(id, v);
    }
    if ((form.querySelector("#unreviewed") as HTMLInputElement).checked) q.set("unreviewed", "true");
    location.hash = `#/sessions?${q}`;
  });
  const body = h("tbody");
  const table = h(
    "table",
    {},
    h("caption", { class: "sr-only" }, t("sessions_title")),
    h("thead", {}, h("tr", {}, ...["created", "api", "outcome", "codes", "need_review", "review", "reference"].map((k) => h("th", { scope: "col" }, t(k as any))))),
    body,
  );
  const more = h("button", { type: "button", id: "more", hidden: true }, t("more"));
  const empty = h("p", { hidden: true }, t("none_found"));
  main.replaceChildren(h("h1", { tabindex: "-1" }, t("sessions_title")), form, table, empty, more);

  const q = new URLSearchParams();
  for (const k of ["api", "outcome", "code", "need_review", "unreviewed", "reference"]) if (p(k)) q.set(k, p(k));
  if (dayMs(p("from_day"), false)) q.set("from", dayMs(p("from_day"), false));
  if (dayMs(p("to_day"), true)) q.set("to", dayMs(p("to_day"), true));
  q.set("limit", "25");
  let shown = 0;
  const load = async (after?: string) => {
    if (after) q.set("after", after);
    const page = await call<{ sessions: SessionRow[]; next: string | null }>("GET", `sessions?${q}`);
    for (const r of page.sessions) {
      body.append(
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/sessions/${r.id}` }, fmtTime(r.created_at_ms))),
          h("td", {}, r.api),
          h("td", {}, r.outcome ? h("span", { class: `pill ${r.outcome}` }, word(r.outcome)) : "–"),
          h("td", {}, ...r.codes.map((c) => h("span", { class: "pill" }, c))),
          h("td", {}, r.need_review ? h("span", { class: "pill review" }, t("need_review")) : ""),
          h("td", {}, r.review ? h("span", { class: `pill ${r.review}` }, word(r.review)) : ""),
          h("td", {}, r.reference ?? ""),
        ),
      );
    }
    shown += page.sessions.length;
    empty.hidden = shown > 0;
    more.hidden = !page.next;
    more.onclick = () => page.next && load(page.next);
  };
  await load();
}
