// Manager: record a delivery of several products at once (with the supplier's reference,
// which the server uses to refuse the same delivery note entered twice).

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, tn, number } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api, uuid4 } from "../api.js";
import { showErrors, clearErrors } from "../errors.js";
import { emptyState } from "./start.js";

function render(container) {
  const lines = h("div", { class: "lines", id: "delivery-lines" });
  const message = h("p", { class: "feedback", id: "delivery-feedback", role: "status", "aria-live": "polite" });
  const nextStep = h("p", { id: "delivery-next-step" });
  let rowsMade = 0;
  let requestId = uuid4(); // one id per delivery: a double tap or a retry cannot restock twice

  function productOptions() {
    return [...store.products.values()].filter((p) => p.active)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => h("option", { value: p.id }, `${p.name} (${number(p.stock)})`));
  }

  function addLine() {
    const index = lines.children.length + 1;
    const key = ++rowsMade; // names stay unique when rows are removed: errors find their row
    const row = h("div", { class: "line-row" },
      h("label", { class: "field" }, h("span", {}, t("delivery.product", { n: index })),
        h("select", { name: `product-${key}`, required: true }, h("option", { value: "" }, "—"), productOptions())),
      h("label", { class: "field small" }, h("span", {}, t("delivery.qty")),
        h("input", { type: "number", name: `qty-${key}`, min: 1, max: 100000, inputmode: "numeric", required: true })),
      h("button", { type: "button", class: "ghost", "aria-label": t("delivery.remove_line"), onclick: () => row.remove() },
        h("span", { "aria-hidden": "true" }, "✕ "), t("common.remove")));
    lines.append(row);
    row.querySelector("select").focus();
  }

  const form = h("form", { class: "panel", id: "delivery-form", novalidate: true },
    h("h1", {}, t("nav.delivery")),
    lines,
    h("button", { type: "button", class: "ghost", id: "add-line", onclick: addLine }, t("delivery.add_line")),
    h("div", { class: "row" },
      h("label", { class: "field" }, h("span", {}, t("delivery.supplier")), h("input", { name: "supplier", maxlength: 200 })),
      h("label", { class: "field" }, h("span", {}, t("delivery.reference")), h("input", { name: "reference", maxlength: 100 }))),
    message,
    nextStep,
    h("button", { type: "submit", class: "primary big" }, t("delivery.submit")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const merged = new Map();
    for (const row of lines.children) {
      const id = row.querySelector("select").value;
      const qty = Number(row.querySelector("input").value);
      if (!id || !Number.isInteger(qty) || qty < 1) continue;
      merged.set(id, (merged.get(id) || 0) + qty);
    }
    if (merged.size === 0) { message.dataset.outcome = "error"; message.textContent = t("delivery.empty"); return; }
    clearErrors(form);
    const body = { id: requestId, items: [...merged].map(([product_id, qty]) => ({ product_id, qty })) };
    if (form.supplier.value.trim()) body.supplier = form.supplier.value.trim();
    if (form.reference.value.trim()) body.reference = form.reference.value.trim();
    const first = [...store.products.values()].every((p) => p.stock === 0); // a new bar's
    try {
      const result = await api.post(`/api/bars/${store.bar.id}/deliveries`, body);
      store.applyStock(result.stock, result.seq);
      message.dataset.outcome = "ok";
      message.textContent = tn("delivery.done", merged.size);
      // a new bar's first stock: its next step is the team
      replace(nextStep, first ? h("a", { class: "button primary", id: "delivery-next", href: "#/staff" }, t("start.step.staff")) : null);
      requestId = uuid4();
      form.reset();
      replace(lines);
      addLine();
    } catch (err) {
      // items[i] of the body is a product, possibly typed on several rows: its first row
      const names = {};
      body.items.forEach((item, i) => {
        const row = [...lines.children].find((r) => r.querySelector("select").value === item.product_id);
        const [select, qty] = row ? [row.querySelector("select").name, row.querySelector("input").name] : [];
        Object.assign(names, { [`items[${i}].product_id`]: select, [`items[${i}].qty`]: qty });
      });
      showErrors(form, err, { summary: message, names });
    }
  });
  if (![...store.products.values()].some((p) => p.active)) {
    container.append(emptyState("products"));
    return null;
  }
  container.append(form);
  addLine();
  const off = store.on("products", () => {
    for (const select of lines.querySelectorAll("select")) {
      const value = select.value;
      replace(select, h("option", { value: "" }, "—"), productOptions());
      select.value = value;
    }
  });
  return off;
}

registerScreen({ id: "delivery", titleKey: "nav.delivery", icon: "🚚", roles: ["owner", "manager"], order: 30, render });
