// The login form (shown once: the session then lives in IndexedDB and refreshes itself), and
// the sign-up form a new owner starts from. Refusals are said in the user's language, beside
// the field they are about (errors.js).

import { login, signup } from "./auth.js";
import { t } from "./i18n.js";
import { h, replace } from "./ui.js";
import { showErrors, clearErrors, markField } from "./errors.js";

function field(label, attrs) {
  return h("label", { class: "field" }, h("span", {}, label), h("input", attrs));
}

export function renderLogin(main) {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const form = h("form", { class: "panel narrow login", novalidate: true },
    h("h1", {}, "BarTender"),
    h("p", { class: "muted" }, t("login.intro")),
    field(t("login.email"), { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email" }),
    field(t("login.password"), { type: "password", name: "password", autocomplete: "current-password", required: true }),
    error,
    h("button", { type: "submit", class: "primary big" }, t("login.submit")),
    h("p", { class: "switch-form" }, t("signup.question"), " ",
      h("button", { type: "button", class: "link", id: "show-signup", onclick: () => renderSignup(main) }, t("signup.link"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    clearErrors(form);
    try {
      await login(form.email.value.trim(), form.password.value);
    } catch (err) {
      showErrors(form, err, { summary: error });
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  form.email.focus();
}

export function renderSignup(main) {
  const error = h("p", { class: "error", role: "alert", id: "signup-error" });
  const form = h("form", { class: "panel narrow signup", id: "signup-form", novalidate: true },
    h("h1", {}, t("signup.title")),
    h("p", { class: "muted" }, t("signup.intro")),
    field(t("signup.name"), { name: "name", autocomplete: "name", required: true, maxlength: 200 }),
    field(t("login.email"), { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email" }),
    field(t("signup.password"), { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 8 }),
    error,
    h("button", { type: "submit", class: "primary big" }, t("signup.submit")),
    h("p", { class: "switch-form" }, t("signup.have_account"), " ",
      h("button", { type: "button", class: "link", id: "show-login", onclick: () => renderLogin(main) }, t("login.submit"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    error.textContent = "";
    const name = form.elements.name.value.trim();
    const email = form.email.value.trim();
    const password = form.password.value;
    // the checks the server would make, said before the round trip
    const missing = [[form.elements.name, !name], [form.email, !email]].filter(([, empty]) => empty);
    for (const [input] of missing) markField(input, t("error.field.required"));
    if (password.length < 8) markField(form.password, t("error.field.min_length", { n: 8 }));
    const first = form.querySelector("[aria-invalid]");
    if (first) { first.focus(); return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await signup(name, email, password);
    } catch (err) {
      showErrors(form, err, { summary: error });
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  form.elements.name.focus();
}
