// The login form (shown once: the session then lives in IndexedDB and refreshes itself).

import { login } from "./auth.js";
import { t } from "./i18n.js";
import { h, replace } from "./ui.js";

export function renderLogin(main) {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const form = h("form", { class: "panel narrow login", novalidate: true },
    h("h1", {}, "BarTender"),
    h("p", { class: "muted" }, t("login.intro")),
    h("label", { class: "field" }, h("span", {}, t("login.email")),
      h("input", { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email" })),
    h("label", { class: "field" }, h("span", {}, t("login.password")),
      h("input", { type: "password", name: "password", autocomplete: "current-password", required: true })),
    error,
    h("button", { type: "submit", class: "primary big" }, t("login.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    try {
      await login(form.email.value.trim(), form.password.value);
    } catch (err) {
      const type = err.problem?.type;
      error.textContent = type === "invalid_credentials" ? t("login.wrong")
        : type === "too_many_attempts" ? t("login.throttled")
        : err.problem ? (err.problem.detail || err.problem.title) : t("error.network");
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  form.email.focus();
}
