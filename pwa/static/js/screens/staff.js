// Manager: the bar's team. Invite someone (a new account, or an existing one by email),
// change a role, remove a member (after a confirmation naming them). Only an owner may make
// managers; the owner stays owner.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api } from "../api.js";
import { problemText, showErrors, clearErrors, markField } from "../errors.js";

function render(container) {
  const list = h("table", { class: "data stack", id: "staff-table" });
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  const isOwner = store.bar.role === "owner";
  let justAdded = false;
  const roles = isOwner ? ["staff", "manager"] : ["staff"];

  const next = h("div", { id: "staff-next" });

  async function load() {
    const { members } = await api.get(`/api/bars/${store.bar.id}/staff`);
    // a new bar's first colleague: the next step is the first sale
    replace(next, members.length === 2 && justAdded ? h("p", {}, h("a", { class: "button primary", href: "#/sell" }, t("start.step.sale"))) : null);
    replace(list,
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("staff.name")), h("th", { scope: "col" }, t("staff.email")), h("th", { scope: "col" }, t("staff.role")), h("th", { scope: "col" }, ""))),
      h("tbody", {}, members.map((m) => {
        const editable = m.role !== "owner" && m.user_id !== store.session.user.id && (isOwner || m.role === "staff");
        const select = h("select", { "aria-label": t("staff.role_of", { name: m.name }), disabled: !editable },
          (editable ? roles : [m.role]).map((r) => h("option", { value: r, selected: r === m.role }, t(`role.${r}`))));
        select.addEventListener("change", () => act(() => api.patch(`/api/bars/${store.bar.id}/staff/${m.user_id}`, { role: select.value })));
        const actions = h("td", { class: "actions" });
        const removeButton = () => h("button", { type: "button", class: "ghost remove", onclick: () => confirmRemove(m, actions, removeButton) }, t("staff.remove"));
        if (editable) actions.append(removeButton());
        return h("tr", { dataset: { userId: m.user_id } }, h("th", { scope: "row" }, m.name),
          h("td", { "data-label": t("staff.email"), class: "wide" }, m.email),
          h("td", { "data-label": t("staff.role") }, select), actions);
      })));
  }

  // Removing someone takes a second tap on a button that names them: one stray tap never
  // locks a colleague out in the middle of a shift.
  function confirmRemove(m, cell, removeButton) {
    replace(cell, h("span", { class: "confirm-remove", role: "group", "aria-label": t("staff.remove_confirm", { name: m.name }) },
      h("span", {}, t("staff.remove_confirm", { name: m.name })),
      h("button", { type: "button", class: "ghost", onclick: () => replace(cell, removeButton()) }, t("common.cancel")),
      h("button", { type: "button", class: "danger confirm", onclick: () => act(() => api.delete(`/api/bars/${store.bar.id}/staff/${m.user_id}`)) },
        t("staff.remove_named", { name: m.name }))));
    cell.querySelector("button.confirm").focus();
  }

  async function act(work, form = null) {
    try {
      await work();
      message.dataset.outcome = "ok";
      message.textContent = t("common.saved");
    } catch (err) {
      if (form) showErrors(form, err, { summary: message });
      else { message.dataset.outcome = "error"; message.textContent = problemText(err); }
    }
    load().catch(() => null);
  }

  const form = h("form", { class: "panel-inner", id: "invite-form", novalidate: true },
    h("h2", {}, t("staff.invite")),
    h("div", { class: "row wrap" },
      h("label", { class: "field" }, h("span", {}, t("staff.email")), h("input", { name: "email", type: "email", required: true })),
      h("label", { class: "field" }, h("span", {}, t("staff.name")), h("input", { name: "name", maxlength: 100 })),
      h("label", { class: "field" }, h("span", {}, t("staff.password")), h("input", { name: "password", type: "password", minlength: 8, autocomplete: "new-password" })),
      h("label", { class: "field small" }, h("span", {}, t("staff.role")), h("select", { name: "role" }, roles.map((r) => h("option", { value: r }, t(`role.${r}`)))))),
    h("p", { class: "muted" }, t("staff.invite_hint")),
    h("button", { type: "submit", class: "primary" }, t("staff.add")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!form.email.value.trim()) { markField(form.email, t("error.field.required")); form.email.focus(); return; }
    const body = { email: form.email.value.trim(), role: form.role.value };
    if (form.name.value.trim()) body.name = form.name.value.trim();
    if (form.password.value) body.password = form.password.value;
    act(async () => { await api.post(`/api/bars/${store.bar.id}/staff`, body); justAdded = true; form.reset(); }, form);
  });

  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.staff")), message, next, h("div", { class: "scroll" }, list), form));
  load().catch((err) => { message.textContent = problemText(err); });
}

registerScreen({ id: "staff", titleKey: "nav.staff", icon: "👥", roles: ["owner", "manager"], order: 80, render });
