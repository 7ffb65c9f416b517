// Manager: record a delivery of several products at once (with the supplier's reference,
// which the server uses to refuse the same delivery note entered twice).

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, tn, number } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api, uuid4 } from "../api.js";
import { showErrors, clearErrors } from "../errors.js";
import { emptyState } from "./start.js";
import { loadShelf, shelfItems, stockOf, packFields, readQuantity, quantityBody } from "./shelf.js";
import { deliveryEmpties } from "./till.js";

function render(container) {
  const lines = h("div", { class: "lines", id: "delivery-lines" });
  const message = h("p", { class: "feedback", id: "delivery-feedback", role: "status", "aria-live": "polite" });
  const nextStep = h("p", { id: "delivery-next-step" });
  let rowsMade = 0;
  let requestId = uuid4(); // one id per delivery: a double tap or a retry cannot restock twice
  let shelf = null; // stock items and recipes, once read: until then, products as their own items
  const empties = deliveryEmpties(store.bar); // containers in and empties handed back (issue 16)

  function choices() {
    if (shelf) return shelfItems(shelf);
    return [...store.products.values()].filter((p) => p.active)
      .sort((a, b) => a.name.localeCompare(b.name)).map((p) => ({ ...p, packs: [] }));
  }
  const itemOf = (id) => choices().find((item) => item.id === id);

  function productOptions() {
    return choices().map((item) => h("option", { value: item.id }, `${item.name} (${number(stockOf(item))})`));
  }

  /** The row's pack fields follow the item chosen: "10 casiers" in one line. */
  function drawPacks(row) {
    const key = row.dataset.key;
    const item = itemOf(row.querySelector("select").value);
    packFields(row.querySelector(".pack-fields"), item, key);
    row.querySelector(".units-label").textContent = item?.packs.length
      ? t("shelf.units_of", { unit: item.base_unit }) : t("delivery.qty");
  }

  function addLine() {
    const index = lines.children.length + 1;
    const key = ++rowsMade; // names stay unique when rows are removed: errors find their row
    const row = h("div", { class: "line-row", dataset: { key } },
      h("label", { class: "field" }, h("span", {}, t("delivery.product", { n: index })),
        h("select", { name: `product-${key}`, required: true, onchange: () => drawPacks(row) }, h("option", { value: "" }, "—"), productOptions())),
      h("span", { class: "pack-fields" }), // "10 casiers", before the loose units
      h("label", { class: "field small" }, h("span", { class: "units-label" }, t("delivery.qty")),
        h("input", { type: "number", name: `qty-${key}`, min: 0, max: 100000, inputmode: "numeric" })),
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
    empties.el,
    message,
    nextStep,
    h("button", { type: "submit", class: "primary big" }, t("delivery.submit")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // plain quantities of one item typed on several rows are added up; packs go as typed
    const merged = new Map();
    const sent = []; // [row, line] in body order, for the refusals
    for (const row of lines.children) {
      const id = row.querySelector("select").value;
      const item = itemOf(id);
      const quantity = readQuantity(item, row, row.dataset.key, row.querySelector(`[name=qty-${row.dataset.key}]`));
      if (!id || !item || !quantity || !(quantity.total >= 1)) continue;
      const named = store.products.has(id) ? { product_id: id } : { stock_item_id: id }; // v1.2 lines stay as they were
      const how = quantityBody(quantity, "qty");
      if (how.qty !== undefined && merged.has(id)) { merged.get(id).qty += how.qty; continue; }
      const line = { ...named, ...how };
      if (how.qty !== undefined) merged.set(id, line);
      sent.push([row, line]);
    }
    if (sent.length === 0) { message.dataset.outcome = "error"; message.textContent = t("delivery.empty"); return; }
    clearErrors(form);
    const body = { id: requestId, items: sent.map(([, line]) => line) };
    if (form.supplier.value.trim()) body.supplier = form.supplier.value.trim();
    if (form.reference.value.trim()) body.reference = form.reference.value.trim();
    const containers = empties.read();
    if (containers) body.containers = containers;
    const first = [...store.products.values()].every((p) => p.stock === 0); // a new bar's
    try {
      const result = await api.post(`/api/bars/${store.bar.id}/deliveries`, body);
      store.applyStock(result.stock, result.seq);
      message.dataset.outcome = "ok";
      message.textContent = tn("delivery.done", new Set(body.items.map((l) => l.product_id || l.stock_item_id)).size);
      // a new bar's first stock: its next step is the team
      replace(nextStep, first ? h("a", { class: "button primary", id: "delivery-next", href: "#/staff" }, t("start.step.staff")) : null);
      requestId = uuid4();
      form.reset();
      replace(lines);
      addLine();
      reload();
    } catch (err) {
      // items[i] of the body came from a row (the first one, for rows added up)
      const names = {};
      sent.forEach(([row], i) => {
        const key = row.dataset.key;
        const select = `product-${key}`;
        const qty = `qty-${key}`;
        Object.assign(names, {
          [`items[${i}].product_id`]: select, [`items[${i}].stock_item_id`]: select, [`items[${i}].qty`]: qty,
          [`items[${i}].units`]: qty, [`items[${i}].packs`]: `packs-${key}`, [`items[${i}].pack`]: `pack-${key}`,
        });
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
  function redraw() {
    for (const row of lines.children) {
      const select = row.querySelector(`[name=product-${row.dataset.key}]`);
      const value = select.value;
      replace(select, h("option", { value: "" }, "—"), productOptions());
      select.value = value;
      if (!row.querySelector(".pack-fields input")) drawPacks(row);
    }
  }
  let open = true;
  async function reload() {
    try {
      const read = await loadShelf();
      if (open) { shelf = read; redraw(); }
    } catch {
      // offline or refused: the products stay the choices (each its own item)
    }
  }
  reload();
  const off = store.on("products", () => { redraw(); reload(); });
  return () => { open = false; off(); };
}

registerScreen({ id: "delivery", titleKey: "nav.delivery", icon: "🚚", roles: ["owner", "manager"], order: 30, render });
