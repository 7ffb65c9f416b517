// Manager: stock items and recipes (issue 15). A stock item is what sits on the shelf, counted
// in its base unit (bouteille, canette, cl...), with packs to buy and count in (casier = 24);
// a recipe says what one sold product takes from which items ("Whisky (verre)" = 4 cl of
// Whisky). Item levels are re-read when a stock change arrives: live messages carry products'
// availability, not item levels (docs/protocol.md).

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api, request } from "../api.js";
import { showErrors, clearErrors } from "../errors.js";
import { loadShelf, shelfItems, inPacks } from "./shelf.js";

const MAX_PACKS = 10;
const MAX_COMPONENTS = 20;

function intOf(input) {
  return input.value === "" ? null : Number(input.value);
}

function render(container) {
  const bar = store.bar.id;
  const table = h("table", { class: "data stack", id: "items-table" });
  const message = h("p", { class: "feedback", id: "items-feedback", role: "status", "aria-live": "polite" });
  const editor = h("div", { id: "item-editor" });
  const recipeEditor = h("div", { id: "recipe-editor" });
  let shelf = { items: [], recipes: new Map() };
  let open = true;
  let rowsMade = 0; // pack and component rows get unique names: a refusal finds its input

  async function reload() {
    try {
      const read = await loadShelf();
      if (!open) return;
      shelf = read;
      draw();
    } catch (err) {
      if (open) showErrors(editor, err, { summary: message });
    }
  }
  const reloadSoon = debounce(reload, 300);

  function draw() {
    replace(table,
      h("thead", {}, h("tr", {}, ["product.name", "items.base_unit", "stock.stock", "items.packs", "product.low_threshold", "product.par_level", ""]
        .map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
      h("tbody", {}, listed().map((item) => h("tr", { class: item.active ? "" : "inactive", dataset: { itemId: item.id, stock: String(item.stock) } },
        h("th", { scope: "row" }, item.name),
        h("td", { "data-label": t("items.base_unit") }, item.base_unit),
        h("td", { class: "num stock", "data-label": t("stock.stock") }, inPacks(item, item.stock)),
        h("td", { "data-label": t("items.packs") }, item.packs.map((p) => `${p.name} = ${number(p.size)}`).join(", ")),
        h("td", { class: "num", "data-label": t("product.low_threshold") }, number(item.low_threshold)),
        h("td", { class: "num", "data-label": t("product.par_level") }, number(item.par_level)),
        h("td", { class: "actions" },
          h("button", { type: "button", class: "ghost", onclick: () => editItem(item) }, t("common.edit")),
          // a product's own item follows its product (Products screen); other items are retired here
          store.products.has(item.id) ? null : h("button", { type: "button", class: "ghost", onclick: () => setActive(item, !item.active) },
            item.active ? t("product.deactivate") : t("product.activate")))))));
  }

  /** Active items first (those a delivery or count offers), then retired ones to bring back. */
  function listed() {
    const retired = shelf.items.filter((i) => !i.active && !store.products.has(i.id));
    return [...shelfItems(shelf), ...retired.sort((a, b) => a.name.localeCompare(b.name))];
  }

  async function setActive(item, active) {
    try {
      await api.patch(`/api/bars/${bar}/stock-items/${item.id}`, { active });
      message.dataset.outcome = "ok";
      message.textContent = t("common.saved");
      await reload();
    } catch (err) {
      showErrors(editor, err, { summary: message });
    }
  }

  // ---------- one item and its packs ----------
  function packRow(pack = null) {
    const key = ++rowsMade;
    const row = h("div", { class: "row pack-row" },
      h("label", { class: "field" }, h("span", {}, t("items.pack_name")), h("input", { name: `pack_name-${key}`, class: "pack-name", maxlength: 60, value: pack?.name || "" })),
      h("label", { class: "field small" }, h("span", {}, t("items.pack_size")), h("input", { name: `pack_size-${key}`, class: "pack-size", type: "number", min: 1, max: 100000, inputmode: "numeric", value: pack?.size ?? "" })),
      h("button", { type: "button", class: "ghost", "aria-label": t("items.remove_pack"), onclick: () => row.remove() }, "✕"));
    return row;
  }

  function editItem(item) {
    const packs = h("div", { class: "packs" }, (item?.packs || []).map(packRow));
    const form = h("form", { class: "panel-inner", id: "item-form", novalidate: true },
      h("h2", {}, item ? t("items.edit", { name: item.name }) : t("items.new")),
      h("div", { class: "row wrap" },
        h("label", { class: "field" }, h("span", {}, t("product.name")), h("input", { name: "name", required: true, maxlength: 100, value: item?.name || "" })),
        h("label", { class: "field small" }, h("span", {}, t("items.base_unit")), h("input", { name: "base_unit", required: true, maxlength: 30, value: item?.base_unit || t("items.default_unit"), list: "base-units" })),
        h("datalist", { id: "base-units" }, ["bouteille", "canette", "cl", "pièce", "portion", "unit"].map((u) => h("option", { value: u }))),
        h("label", { class: "field small" }, h("span", {}, t("product.low_threshold")), h("input", { name: "low_threshold", type: "number", min: 0, value: item?.low_threshold ?? 0 })),
        h("label", { class: "field small" }, h("span", {}, t("product.par_level")), h("input", { name: "par_level", type: "number", min: 0, value: item?.par_level ?? 0 }))),
      h("h3", {}, t("items.packs")),
      h("p", { class: "muted" }, t("items.packs_help")),
      packs,
      h("button", { type: "button", class: "ghost", id: "add-pack", onclick: () => {
        if (packs.children.length < MAX_PACKS) packs.append(packRow());
        packs.lastElementChild?.querySelector("input").focus();
      } }, t("items.add_pack")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => replace(editor, buttons()) }, t("common.cancel")),
        h("button", { type: "submit", class: "primary" }, t("common.save"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      // packs[i] of the body is the i-th filled pack row
      const filled = [...packs.children].map((row) => [row.querySelector(".pack-name"), row.querySelector(".pack-size")])
        .filter(([name, size]) => name.value.trim() || size.value !== "");
      const body = {
        name: form.elements.name.value.trim(), base_unit: form.elements.base_unit.value.trim(),
        low_threshold: intOf(form.elements.low_threshold) ?? 0, par_level: intOf(form.elements.par_level) ?? 0,
        packs: filled.map(([name, size]) => ({ name: name.value.trim(), size: intOf(size) })),
      };
      try {
        if (item) await api.patch(`/api/bars/${bar}/stock-items/${item.id}`, body);
        else await api.post(`/api/bars/${bar}/stock-items`, body);
        message.dataset.outcome = "ok";
        message.textContent = t("common.saved");
        replace(editor, buttons());
        await reload();
      } catch (err) {
        const names = { packs: filled[0]?.[0].name };
        filled.forEach(([name, size], i) => Object.assign(names, { [`packs[${i}].name`]: name.name, [`packs[${i}].size`]: size.name }));
        showErrors(form, err, { summary: message, names });
      }
    });
    replace(editor, form);
    form.elements.name.focus();
  }

  // ---------- one product's recipe ----------
  function componentRow(component = null) {
    const row = h("div", { class: "row component-row" },
      h("label", { class: "field" }, h("span", {}, t("items.component")),
        h("select", { name: `component_item-${++rowsMade}`, class: "component-item" }, h("option", { value: "" }, "—"),
          shelfItems(shelf).map((i) => h("option", { value: i.id, selected: i.id === component?.stock_item_id }, `${i.name} (${i.base_unit})`)))),
      h("label", { class: "field small" }, h("span", {}, t("items.component_qty")),
        h("input", { name: `component_qty-${rowsMade}`, class: "component-qty", type: "number", min: 1, max: 100000, inputmode: "numeric", value: component?.qty ?? "" })),
      h("button", { type: "button", class: "ghost", "aria-label": t("items.remove_component"), onclick: () => row.remove() }, "✕"));
    return row;
  }

  function editRecipe(productId = "") {
    const products = [...store.products.values()].filter((p) => p.active).sort((a, b) => a.name.localeCompare(b.name));
    const components = h("div", { class: "components" });
    const product = h("select", { name: "recipe_product", required: true, onchange: () => fill() },
      h("option", { value: "" }, "—"), products.map((p) => h("option", { value: p.id, selected: p.id === productId }, p.name)));
    function fill() {
      const recipe = shelf.recipes.get(product.value);
      replace(components, (recipe?.components || [null]).map(componentRow));
    }
    const form = h("form", { class: "panel-inner", id: "recipe-form", novalidate: true },
      h("h2", {}, t("items.recipe")),
      h("p", { class: "muted" }, t("items.recipe_help")),
      h("label", { class: "field" }, h("span", {}, t("items.recipe_product")), product),
      components,
      h("button", { type: "button", class: "ghost", id: "add-component", onclick: () => {
        if (components.children.length < MAX_COMPONENTS) components.append(componentRow());
      } }, t("items.add_component")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => replace(recipeEditor, recipeButton()) }, t("common.cancel")),
        h("button", { type: "submit", class: "primary" }, t("common.save"))));
    fill();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      if (!product.value) { message.dataset.outcome = "error"; message.textContent = t("items.recipe_pick"); product.focus(); return; }
      const rows = [...components.children].filter((row) => row.querySelector("select").value);
      const body = { components: rows.map((row) => ({ stock_item_id: row.querySelector("select").value, qty: intOf(row.querySelector("input")) })) };
      try {
        const result = (await request("PUT", `/api/bars/${bar}/products/${product.value}/recipe`, body)).body;
        message.dataset.outcome = "ok";
        message.textContent = t("items.recipe_saved", { name: store.products.get(product.value)?.name || "", n: number(result.stock) });
        replace(recipeEditor, recipeButton());
        await reload();
      } catch (err) {
        const names = { components: rows[0]?.querySelector("select").name };
        rows.forEach((row, i) => Object.assign(names, {
          [`components[${i}].stock_item_id`]: row.querySelector("select").name, [`components[${i}].qty`]: row.querySelector("input").name }));
        showErrors(form, err, { summary: message, names });
      }
    });
    replace(recipeEditor, form);
    product.focus();
  }

  function buttons() {
    return h("button", { type: "button", class: "primary", id: "new-item", onclick: () => editItem(null) }, t("items.new"));
  }
  function recipeButton() {
    return h("button", { type: "button", class: "primary", id: "edit-recipe", onclick: () => editRecipe() }, t("items.recipe"));
  }

  replace(editor, buttons());
  replace(recipeEditor, recipeButton());
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.items")), h("p", { class: "muted" }, t("items.intro")),
    editor, message, h("div", { class: "scroll" }, table), recipeEditor));
  reload();
  const offs = [store.on("stock", reloadSoon), store.on("products", reloadSoon)];
  return () => { open = false; offs.forEach((off) => off()); };
}

registerScreen({ id: "items", titleKey: "nav.items", icon: "🍾", roles: ["owner", "manager"], order: 72, group: "setup", render });
