import { call } from "../api";
import { announce, fmtTime, h } from "../dom";
import { t } from "../i18n";

export async function auditView(main: HTMLElement) {
  const result = h("p", { role: "status", id: "verify-result" });
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true }, t("older"));
  main.replaceChildren(
    h("h1", { tabindex: "-1" }, t("audit_title")),
    h("div", { class: "row-actions" }, h("button", {
      type: "button",
      class: "primary",
      id: "verify",
      onclick: async () => {
        const r = await call("GET", "audit/verify");
        result.textContent = r.ok ? `${t("chain_ok")}: ${r.entries} — ${r.head.slice(0, 16)}…` : `${t("chain_broken")} ${r.first_broken.seq}: ${r.first_broken.reason}`;
        result.className = r.ok ? "passed" : "error";
        announce(result.textContent);
      },
    }, t("verify"))),
    result,
    h("table", {}, h("caption", { class: "sr-only" }, t("audit_title")),
      h("thead", {}, h("tr", {}, ...(["seq", "at", "actor", "action", "subject", "hash"] as const).map((k) => h("th", { scope: "col" }, t(k))))), body),
    more,
  );
  const load = async (before?: number) => {
    const r = await call("GET", `audit?limit=50${before ? `&before=${before}` : ""}`);
    for (const e of r.entries)
      body.append(h("tr", {}, h("td", {}, String(e.seq)), h("td", {}, fmtTime(e.at_ms)), h("td", {}, e.actor_email ?? e.actor), h("td", {}, e.action),
        h("td", {}, e.action.startsWith("session") || e.action.startsWith("review") || e.action.startsWith("artefact") ? h("a", { href: `#/sessions/${e.subject}` }, e.subject) : e.subject),
        h("td", {}, h("code", { title: e.hash }, e.hash.slice(0, 12)))));
    const lastSeq = r.entries.length ? r.entries[r.entries.length - 1].seq : 1;
    more.hidden = r.entries.length < 50 || lastSeq <= 1;
    more.onclick = () => load(lastSeq);
  };
  await load();
}
