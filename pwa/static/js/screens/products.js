// Manager: create, edit and deactivate products (prices typed in the bar's currency).

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, money, parseMoney, currencyDecimals } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api } from "../api.js";

function render(container) {
  const currency = store.bar.currency;
  const list = h("table", { class: "data", id: "products-table" });
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  const editor = h("div", { id: "product-editor" });
  let all = [];
  const step = currencyDecimals(currency) ? String(10 ** -currencyDecimals(currency)) : "1";
  const asText = (minor) => (minor === null || minor === undefined ? "" : String(minor / 10 ** currencyDecimals(currency)));

  async function load() {
    const body = await api.get(`/api/bars/${store.bar.id}/products`);
    all = body.products;
    draw();
  }

  function draw() {
    replace(list,
      h("thead", {}, h("tr", {}, ["product.name", "product.category", "product.price", "product.cost", "product.low_threshold", "product.par_level", "product.active", ""].map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
      h("tbody", {}, all.map((p) => h("tr", { class: p.active ? "" : "inactive", dataset: { productId: p.id } },
        h("th", { scope: "row" }, p.name), h("td", {}, p.category), h("td", { class: "num" }, money(p.price, currency)),
        h("td", { class: "num" }, money(p.cost, currency)), h("td", { class: "num" }, String(p.low_threshold)),
        h("td", { class: "num" }, String(p.par_level)), h("td", {}, p.active ? t("common.yes") : t("common.no")),
        h("td", {}, h("button", { type: "button", class: "ghost", onclick: () => edit(p) }, t("common.edit")),
          h("button", { type: "button", class: "ghost", onclick: () => save(p, { active: !p.active }) }, p.active ? t("product.deactivate") : t("product.activate")))))));
  }

  function edit(p) {
    const form = h("form", { class: "panel-inner", novalidate: true },
      h("h2", {}, p ? t("product.edit", { name: p.name }) : t("product.new")),
      h("div", { class: "row wrap" },
        h("label", { class: "field" }, h("span", {}, t("product.name")), h("input", { name: "name", required: true, maxlength: 100, value: p?.name || "" })),
        h("label", { class: "field" }, h("span", {}, t("product.category")), h("input", { name: "category", required: true, maxlength: 100, value: p?.category || "" })),
        h("label", { class: "field small" }, h("span", {}, t("product.price_in", { currency })), h("input", { name: "price", type: "number", min: 0, step, required: true, value: asText(p?.price) })),
        h("label", { class: "field small" }, h("span", {}, t("product.cost_in", { currency })), h("input", { name: "cost", type: "number", min: 0, step, value: asText(p?.cost) })),
        h("label", { class: "field small" }, h("span", {}, t("product.low_threshold")), h("input", { name: "low_threshold", type: "number", min: 0, required: true, value: p?.low_threshold ?? 5 })),
        h("label", { class: "field small" }, h("span", {}, t("product.par_level")), h("input", { name: "par_level", type: "number", min: 0, required: true, value: p?.par_level ?? 24 }))),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => replace(editor, newButton()) }, t("common.cancel")),
        h("button", { type: "submit", class: "primary" }, t("common.save"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {
        name: form.name.value.trim(), category: form.category.value.trim(),
        price: parseMoney(form.price.value, currency),
        cost: form.cost.value.trim() === "" ? null : parseMoney(form.cost.value, currency),
        low_threshold: Number(form.low_threshold.value), par_level: Number(form.par_level.value),
      };
      if (!body.name || !body.category || Number.isNaN(body.price)) { message.textContent = t("product.invalid"); return; }
      save(p, body);
    });
    replace(editor, form);
    form.name.focus();
  }

  async function save(p, body) {
    try {
      if (p) await api.patch(`/api/bars/${store.bar.id}/products/${p.id}`, body);
      else await api.post(`/api/bars/${store.bar.id}/products`, body);
      message.textContent = t("common.saved");
      replace(editor, newButton());
      const body2 = await api.get(`/api/bars/${store.bar.id}/products`);
      all = body2.products;
      draw();
      store.setProducts(store.seq, all.filter((x) => x.active || store.products.has(x.id)).map((x) => ({ ...x, stock: store.products.get(x.id)?.stock ?? x.stock })));
    } catch (err) {
      message.textContent = err.problem?.errors?.map((e) => `${e.field}: ${e.message}`).join("; ") || err.problem?.detail || t("error.network");
    }
  }

  function newButton() {
    return h("button", { type: "button", class: "primary", id: "product-new", onclick: () => edit(null) }, t("product.new"));
  }

  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.products")), editor, message, h("div", { class: "scroll" }, list)));
  replace(editor, newButton());
  load().catch(() => { message.textContent = t("error.network"); });
  return store.on("products", () => load().catch(() => null));
}

registerScreen({ id: "products", titleKey: "nav.products", icon: "🏷️", roles: ["owner", "manager"], order: 70, render });
