import { ApiError, call, setCsrf, type Operator } from "../api";
import { announce, h } from "../dom";
import { t } from "../i18n";

/** The login form; resolves to the operator once logged in. */
export function loginView(main: HTMLElement, done: (op: Operator) => void) {
  const err = h("p", { class: "error", role: "alert" });
  const field = (id: string, label: string, type: string, extra: Record<string, string> = {}) => [
    h("label", { for: id }, label),
    h("input", { id, name: id, type, required: id !== "totp", ...extra }),
  ];
  const form = h(
    "form",
    { class: "login", "aria-labelledby": "login-h" },
    ...field("tenant", t("tenant"), "text", { autocomplete: "organization" }),
    ...field("email", t("email"), "email", { autocomplete: "username" }),
    ...field("password", t("password"), "password", { autocomplete: "current-password" }),
    ...field("totp", t("totp"), "text", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}" }),
    h("div", { class: "row-actions" }, h("button", { class: "primary", type: "submit" }, t("login"))),
    err,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (n: string) => (form.querySelector(`#${n}`) as HTMLInputElement).value;
    err.textContent = "";
    try {
      const r = await call("POST", "login", { tenant: v("tenant"), email: v("email"), password: v("password"), totp: v("totp") || undefined });
      setCsrf(r.csrf);
      done(r.operator);
    } catch (x) {
      err.textContent = x instanceof ApiError && x.code === "LOCKED" ? t("locked") : t("login_refused");
      announce(err.textContent);
    }
  });
  main.replaceChildren(h("h1", { id: "login-h" }, t("login_title")), form);
  (form.querySelector("#tenant") as HTMLInputElement).focus();
}

/** The password change (forced while the one-time password is in use). */
export function passwordView(main: HTMLElement, done: () => void) {
  const err = h("p", { class: "error", role: "alert" });
  const field = (id: string, label: string, auto: string) => [
    h("label", { for: id }, label),
    h("input", { id, type: "password", required: true, autocomplete: auto, minlength: id === "current" ? 1 : 12 }),
  ];
  const form = h(
    "form",
    { class: "login" },
    ...field("current", t("current_password"), "current-password"),
    ...field("new", t("new_password"), "new-password"),
    ...field("confirm", t("confirm_password"), "new-password"),
    h("div", { class: "row-actions" }, h("button", { class: "primary", type: "submit" }, t("save"))),
    err,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (n: string) => (form.querySelector(`#${n}`) as HTMLInputElement).value;
    if (v("new") !== v("confirm")) {
      err.textContent = t("mismatch");
      return;
    }
    try {
      await call("POST", "password", { current: v("current"), new: v("new") });
      announce(t("saved"));
      done();
    } catch (x) {
      err.textContent = x instanceof Error ? x.message : t("error");
    }
  });
  main.replaceChildren(h("h1", {}, t("password_title")), h("p", { class: "notice" }, t("password_hint")), form);
  (form.querySelector("#current") as HTMLInputElement).focus();
}
