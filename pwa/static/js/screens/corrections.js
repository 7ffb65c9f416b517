// Manager: what leaves or comes back outside a plain sale (issue 16). Returns waiting for a
// decision (approve / reject), a return of a recent sale, waste / offered / staff drinks with
// a reason, the empties (consignes): a customer's empties refunded at the till, the empties on
// hand and what each supplier's containers come to, and stock sent to another bar. The return
// and refund forms are the till's (till.js). Redrawn when stock moves (live messages).

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, money, parseMoney } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";
import { problemText } from "../errors.js";
import { productName, productSelect, operationForm, returnForm as returnRequest, emptiesForm, wasteForm as wasteFormFor } from "./till.js";

function render(container) {
  const bar = store.bar;
  const pending = h("div", { id: "returns-pending" });
  const empties = h("div", { id: "empties-list" });
  const balance = h("div", { id: "empties-balance" });
  const returns = returnRequest(bar);
  const refunds = emptiesForm(bar);

  async function loadPending() {
    try {
      const { returns } = await api.get(`/api/bars/${bar.id}/returns?status=pending`);
      replace(pending, returns.length === 0 ? h("p", { class: "muted" }, t("corrections.no_pending")) :
        h("ul", { class: "low-list" }, returns.map((r) => h("li", { dataset: { returnId: r.id } },
          h("span", {}, `${r.items.map((l) => `${number(l.qty)} × ${productName(l.product_id)}`).join(", ")} — ${r.reason} — ${money(r.refund, r.currency)}`),
          h("button", { type: "button", class: "primary", onclick: () => decide(r.id, "approve") }, t("corrections.approve")),
          h("button", { type: "button", class: "ghost", onclick: () => decide(r.id, "reject") }, t("corrections.reject"))))));
    } catch (err) {
      replace(pending, h("p", { class: "error" }, problemText(err)));
    }
  }

  async function decide(id, how) {
    try {
      const result = await api.post(`/api/bars/${bar.id}/returns/${id}/${how}`, {});
      if (result.stock?.length) store.applyStock(result.stock, result.seq);
    } catch (err) {
      replace(pending, h("p", { class: "error" }, problemText(err)));
      return;
    }
    loadPending();
  }

  async function loadEmpties() {
    try {
      const { containers } = await api.get(`/api/bars/${bar.id}/containers`);
      refunds.fill(containers);
      replace(empties, containers.length === 0 ? h("p", { class: "muted" }, t("corrections.no_containers")) :
        h("table", { class: "data" }, h("tbody", {}, containers.map((c) => h("tr", {},
          h("th", { scope: "row" }, c.name), h("td", { class: "num", dataset: { empties: c.id } }, number(c.empties)))))));
      const { suppliers } = await api.get(`/api/bars/${bar.id}/empties/balance`);
      replace(balance, suppliers.length === 0 ? null : h("table", { class: "data" }, h("tbody", {}, suppliers.map((s) => h("tr", {},
        h("th", { scope: "row" }, s.supplier || "—"), h("td", {}, s.name),
        h("td", { class: "num" }, number(s.balance)), h("td", { class: "num" }, money(s.value, bar.currency)))))));
    } catch (err) {
      replace(empties, h("p", { class: "error" }, problemText(err)));
    }
  }

  const wasteForm = wasteFormFor(bar);

  // a new container: its deposit, and which stock item comes in it, how many per container
  const itemSelect = h("select", { name: "item" }, h("option", { value: "" }, "—"));
  const containerFeedback = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  const containerForm = h("form", { class: "panel", id: "container-form", novalidate: true },
    h("h2", {}, t("corrections.container_title")),
    h("label", { class: "field" }, h("span", {}, t("corrections.container_name")), h("input", { name: "name", maxlength: 100, required: true })),
    h("label", { class: "field small" }, h("span", {}, t("corrections.deposit")), h("input", { name: "deposit", inputmode: "decimal", required: true })),
    h("label", { class: "field" }, h("span", {}, t("corrections.holds")), itemSelect),
    h("label", { class: "field small" }, h("span", {}, t("corrections.per_container")), h("input", { type: "number", name: "per", min: 1, max: 1000, value: 1 })),
    containerFeedback,
    h("button", { type: "submit", class: "primary" }, t("corrections.container_submit")));
  containerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const deposit = parseMoney(containerForm.deposit.value, bar.currency);
    if (!containerForm.elements.name.value.trim() || !(deposit >= 0)) {
      containerFeedback.dataset.outcome = "error"; containerFeedback.textContent = t("corrections.incomplete"); return;
    }
    const body = { name: containerForm.elements.name.value.trim(), deposit };
    if (itemSelect.value) body.contents = [{ stock_item_id: itemSelect.value, qty: Number(containerForm.per.value) }];
    try {
      await api.post(`/api/bars/${bar.id}/containers`, body);
      containerFeedback.dataset.outcome = "ok";
      containerFeedback.textContent = t("common.saved");
      containerForm.reset();
      loadEmpties();
    } catch (err) {
      containerFeedback.dataset.outcome = "error";
      containerFeedback.textContent = problemText(err);
    }
  });
  api.get(`/api/bars/${bar.id}/stock-items`).then(({ stock_items: items }) => {
    replace(itemSelect, h("option", { value: "" }, "—"), items.filter((i) => i.active)
      .sort((a, b) => a.name.localeCompare(b.name)).map((i) => h("option", { value: i.id }, i.name)));
  }).catch(() => { /* the container can be made without contents */ });

  container.append(
    h("section", { class: "panel" }, h("h1", {}, t("nav.corrections")), h("h2", {}, t("corrections.pending_title")), pending),
    returns.form, wasteForm, refunds.form, transferForm(bar),
    h("section", { class: "panel" }, h("h2", {}, t("corrections.empties_stock")), empties, h("h2", {}, t("corrections.balance_title")), balance),
    containerForm);

  const reload = () => { loadPending(); returns.load(); loadEmpties(); };
  reload();
  // returns and empties change only through stock transactions (or a request, which the
  // periodic check picks up): redraw on live stock, and look for new requests every 20 s
  const timer = setInterval(loadPending, 20000);
  const off = store.on("stock", debounce(reload, 400));
  return () => { clearInterval(timer); off(); };
}

/** Stock sent to another bar this person manages (both change in one transaction); the
 * destination's product defaults to the one of the same name. Nothing when there is none. */
function transferForm(bar) {
  const others = (store.session?.memberships || [])
    .filter((m) => m.bar_id !== bar.id && ["owner", "manager"].includes(m.role));
  if (others.length === 0) return null;
  const target = h("select", { name: "to_product", required: true });
  const source = productSelect("product");
  const to = h("select", { name: "to", required: true }, others.map((m) => h("option", { value: m.bar_id }, m.bar_name)));
  async function loadTargets() {
    try {
      const { products } = await api.get(`/api/bars/${to.value}/products`);
      const wanted = store.products.get(source.value)?.name;
      replace(target, h("option", { value: "" }, "—"), products.map((p) =>
        h("option", { value: p.id, selected: p.name === wanted ? true : null }, p.name)));
    } catch { replace(target, h("option", { value: "" }, "—")); }
  }
  to.addEventListener("change", loadTargets);
  source.addEventListener("change", loadTargets);
  loadTargets();
  return operationForm("transfer-form", "corrections.transfer_title",
    [h("label", { class: "field" }, h("span", {}, t("corrections.transfer_to")), to),
      h("label", { class: "field" }, h("span", {}, t("corrections.product")), source),
      h("label", { class: "field" }, h("span", {}, t("corrections.transfer_as")), target),
      h("label", { class: "field small" }, h("span", {}, t("corrections.qty")), h("input", { type: "number", name: "qty", min: 1, max: 100000, value: 1 }))],
    "corrections.transfer_submit",
    () => "transfers",
    (form) => (form.product.value && form.to_product.value ? {
      to_bar_id: form.to.value,
      items: [{ product_id: form.product.value, to_product_id: form.to_product.value, qty: Number(form.qty.value) }],
    } : null),
    (r) => t("corrections.transfer_done", { bar: others.find((m) => m.bar_id === r.to_bar_id)?.bar_name || "" }));
}

registerScreen({ id: "corrections", titleKey: "nav.corrections", icon: "↩️", roles: ["owner", "manager"], order: 55, render });
