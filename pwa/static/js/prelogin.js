// The first visit's login form, rendered by the server (pwa/templates/index.html), made usable
// before the app's modules arrive: on a phone network they take seconds more
// (docs/benchmarks.md), and this module needs only auth.js, db.js and locks.js, which the shell
// asks for first. It only logs in: auth.js keeps the session in IndexedDB as the app's own form
// does, and main.js, once it starts, opens the bar from it (or takes this form over, with what
// was typed, when nobody has logged in yet). Messages come from the form's data attributes,
// already in the user's language.

import { login } from "./auth.js";

const form = document.querySelector("form.prelogin");
if (form) {
  const button = form.querySelector("button[type=submit]");
  const status = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "";
    try {
      await login(form.email.value.trim(), form.password.value);
    } catch (err) {
      const kind = err.status === 429 ? "throttled" : err.status ? "wrong" : "network";
      status.textContent = form.dataset[kind];
      button.disabled = false;
    }
  });
  button.disabled = false;
}
