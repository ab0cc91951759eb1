// The operator console: a hash-routed page (#/dashboard, #/sessions, #/sessions/ID, #/audit),
// no framework. The session cookie is HttpOnly; the CSRF token comes from /me after a reload.

import { ApiError, call, setCsrf, type Operator } from "./api";
import { h } from "./dom";
import { getLang, setLang, t } from "./i18n";
import { auditView } from "./views/audit";
import { dashboardView } from "./views/dashboard";
import { detailView } from "./views/detail";
import { listView } from "./views/list";
import { loginView, passwordView } from "./views/login";

let me: Operator | null = null;

function header() {
  const top = document.getElementById("top")!;
  const skip = document.querySelector(".skip");
  if (skip) skip.textContent = t("skip");
  document.title = t("title");
  const lang = h("button", { type: "button", lang: getLang() === "en" ? "vi" : "en", onclick: () => { setLang(getLang() === "en" ? "vi" : "en"); route(); } }, t("lang_switch"));
  if (!me || me.must_change) {
    top.replaceChildren(h("strong", {}, t("title")), h("nav", { "aria-label": "main" }), lang);
    return;
  }
  const link = (href: string, text: string) => h("a", { href, "aria-current": location.hash.startsWith(href) ? "page" : undefined }, text);
  top.replaceChildren(
    h("strong", {}, t("title")),
    h("nav", { "aria-label": "main" }, link("#/dashboard", t("nav_dashboard")), link("#/sessions", t("nav_sessions")), me.role === "admin" ? link("#/audit", t("nav_audit")) : null),
    h("span", { class: "who" }, `${me.email} (${me.role})`),
    lang,
    h("button", { type: "button", onclick: async () => { await call("POST", "logout", {}).catch(() => {}); me = null; location.hash = "#/login"; route(); } }, t("logout")),
  );
}

async function route() {
  document.documentElement.lang = getLang();
  const main = document.getElementById("main")!;
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  if (!me) {
    try {
      const r = await call("GET", "me");
      me = r.operator;
      setCsrf(r.csrf);
    } catch {
      me = null;
    }
  }
  header();
  if (!me) {
    loginView(main, (op) => { me = op; location.hash = op.must_change ? "#/password" : "#/dashboard"; route(); });
    return;
  }
  if (me.must_change) {
    passwordView(main, () => { me = null; location.hash = "#/dashboard"; route(); });
    return;
  }
  // Each navigation renders into its own slot. A view still waiting on the server when the
  // operator moves on (a slow detail, then a click to the list) finishes into a slot that is no
  // longer in the page, instead of painting over the newer view.
  const slot = h("div", { class: "view" });
  main.replaceChildren(slot);
  const current = () => slot.isConnected;
  try {
    const parts = (path || "/dashboard").split("/").filter(Boolean);
    if (parts[0] === "sessions" && parts[1]) await detailView(slot, parts[1]);
    else if (parts[0] === "sessions") await listView(slot, new URLSearchParams(query ?? ""));
    else if (parts[0] === "audit" && me.role === "admin") await auditView(slot);
    else await dashboardView(slot);
    if (!current()) return;
    const h1 = slot.querySelector("h1");
    if (h1 instanceof HTMLElement && document.activeElement === document.body) h1.focus();
  } catch (x) {
    if (!current()) return;
    if (x instanceof ApiError && x.status === 401) {
      me = null;
      return route();
    }
    slot.replaceChildren(h("h1", {}, t("error")), h("p", { class: "error", role: "alert" }, x instanceof Error ? x.message : String(x)));
  }
  document.body.dataset.view = (path || "/dashboard").split("/")[1] ?? "";
}

window.addEventListener("hashchange", () => void route());
void route();
