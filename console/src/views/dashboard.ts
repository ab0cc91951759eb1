import { call } from "../api";
import { dayLabel, dayStacks, hbars } from "../charts";
import { fmtTime, h } from "../dom";
import { t } from "../i18n";

export async function dashboardView(main: HTMLElement) {
  const { dashboard: d } = await call("GET", "dashboard?days=14");
  const first = Math.floor(d.from_ms / 86_400_000);
  const last = Math.floor(d.to_ms / 86_400_000);
  const apis = ["fpt", "silent", "advance"];
  const days = [];
  const rates = [];
  for (let day = first; day < last; day++) {
    const rows = d.volume.filter((v: any) => v.day === day);
    const parts: Record<string, number> = {};
    for (const r of rows) parts[r.api] = r.total;
    days.push({ day, parts });
    const total = rows.reduce((a: number, r: any) => a + r.total, 0);
    const passed = rows.reduce((a: number, r: any) => a + r.passed, 0);
    if (total) rates.push({ label: dayLabel(day), value: passed / total, text: `${Math.round((100 * passed) / total)} % (${passed}/${total})` });
  }
  const b = d.backlog;
  main.replaceChildren(
    h("h1", { tabindex: "-1" }, t("dashboard_title")),
    h(
      "div",
      { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, t("backlog")), h("p", {}, h("span", { class: "big" }, String(b.open)), ` ${t("backlog_open")}`), b.oldest_at_ms ? h("p", {}, `${t("oldest")}: ${fmtTime(b.oldest_at_ms)}`) : null,
        hbars(t("backlog"), [t("age_1h"), t("age_1d"), t("age_7d"), t("age_old")].map((label, i) => ({ label, value: b.by_age[i] })), { width: 420, colour: "#8a5a00" })),
      h("section", { class: "card" }, h("h2", {}, t("decisions")), hbars(t("decisions"), [{ label: t("approved"), value: d.reviews[0] }, { label: t("rejected"), value: d.reviews[1] }], { width: 420, colour: "#6e40c9" })),
    ),
    h("section", { class: "card" }, h("h2", {}, t("volume")), dayStacks(t("volume"), days, apis)),
    h("section", { class: "card" }, h("h2", {}, t("pass_rate")), rates.length ? hbars(t("pass_rate"), rates, { max: 1, colour: "#1a7f37" }) : h("p", {}, "–")),
    h("section", { class: "card" }, h("h2", {}, t("top_codes")), d.top_codes.length ? hbars(t("top_codes"), d.top_codes.map((c: any) => ({ label: c.code, value: c.count })), { colour: "#b42318" }) : h("p", {}, "–")),
  );
}
