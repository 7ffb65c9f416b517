// Manager: the bar's team. Invite someone (a new account, or an existing one by email),
// change a role, remove a member. Only an owner may make managers; the owner stays owner.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api } from "../api.js";

function render(container) {
  const list = h("table", { class: "data", id: "staff-table" });
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  const isOwner = store.bar.role === "owner";
  const roles = isOwner ? ["staff", "manager"] : ["staff"];

  async function load() {
    const { members } = await api.get(`/api/bars/${store.bar.id}/staff`);
    replace(list,
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("staff.name")), h("th", { scope: "col" }, t("staff.email")), h("th", { scope: "col" }, t("staff.role")), h("th", { scope: "col" }, ""))),
      h("tbody", {}, members.map((m) => {
        const editable = m.role !== "owner" && m.user_id !== store.session.user.id && (isOwner || m.role === "staff");
        const select = h("select", { "aria-label": t("staff.role_of", { name: m.name }), disabled: !editable },
          (editable ? roles : [m.role]).map((r) => h("option", { value: r, selected: r === m.role }, t(`role.${r}`))));
        select.addEventListener("change", () => act(() => api.patch(`/api/bars/${store.bar.id}/staff/${m.user_id}`, { role: select.value })));
        return h("tr", { dataset: { userId: m.user_id } }, h("th", { scope: "row" }, m.name), h("td", {}, m.email), h("td", {}, select),
          h("td", {}, editable ? h("button", { type: "button", class: "ghost", onclick: () => act(() => api.delete(`/api/bars/${store.bar.id}/staff/${m.user_id}`)) }, t("staff.remove")) : null));
      })));
  }

  async function act(work) {
    try {
      await work();
      message.textContent = t("common.saved");
    } catch (err) {
      message.textContent = err.problem?.type === "already_member" ? t("staff.already") : (err.problem?.detail || t("error.network"));
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
    const body = { email: form.email.value.trim(), role: form.role.value };
    if (form.name.value.trim()) body.name = form.name.value.trim();
    if (form.password.value) body.password = form.password.value;
    act(async () => { await api.post(`/api/bars/${store.bar.id}/staff`, body); form.reset(); });
  });

  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.staff")), message, h("div", { class: "scroll" }, list), form));
  load().catch(() => { message.textContent = t("error.network"); });
}

registerScreen({ id: "staff", titleKey: "nav.staff", icon: "👥", roles: ["owner", "manager"], order: 80, render });
