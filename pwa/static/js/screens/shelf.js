// Stock items as the delivery, count and stock items screens see them (issue 15): what sits on
// the shelf in a base unit, with packs to buy and count in ("3 casiers + 5", "2 bouteilles +
// 3/10"). The server converts packs to base units (docs/protocol.md); the app only adds them up
// to show a variance or a total before anything is sent.

import { api } from "../api.js";
import { store } from "../store.js";
import { t, number } from "../i18n.js";
import { h, replace } from "../ui.js";

// Spirits poured by the glass are counted by tenths of a bottle: their base unit is a volume.
const VOLUMES = new Set(["cl", "ml", "dl", "l"]);

/** The bar's stock items and recipes (recipes by product id). */
export async function loadShelf() {
  const bar = store.bar.id;
  const [{ stock_items: items }, { recipes }] = await Promise.all([
    api.get(`/api/bars/${bar}/stock-items`), api.get(`/api/bars/${bar}/recipes`)]);
  return { items, recipes: new Map(recipes.map((r) => [r.product_id, r])) };
}

/**
 * The items a delivery or a count names: active ones, without the own item of a product now
 * made of other items (a "Whisky (verre)" is restocked through its Whisky bottle).
 */
export function shelfItems({ items, recipes }) {
  return items.filter((item) => {
    if (!item.active || store.products.get(item.id)?.active === false) return false;
    const recipe = recipes.get(item.id);
    return !recipe || recipe.components.some((c) => c.stock_item_id === item.id);
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** A product that is its own stock item shows its live stock; other items their last read. */
export function stockOf(item) {
  return store.products.get(item.id)?.stock ?? item.stock;
}

export function takesTenths(item) {
  return item.packs.length > 0 && VOLUMES.has(item.base_unit.toLowerCase());
}

/** "240 bouteille · 10 × casier": the stock in base units, and in the largest pack that fits. */
export function inPacks(item, stock = stockOf(item)) {
  const text = `${number(stock)} ${item.base_unit === "unit" ? "" : item.base_unit}`.trim();
  const pack = [...item.packs].sort((a, b) => b.size - a.size).find((p) => p.size > 1 && stock >= p.size);
  if (!pack) return text;
  const whole = Math.floor(stock / pack.size);
  const rest = stock - whole * pack.size;
  return `${text} · ${number(whole)} × ${pack.name}${rest ? ` + ${number(rest)}` : ""}`;
}

/**
 * The pack part of a quantity for one item: how many packs, which pack, and tenths of a pack
 * when asked for. `key` makes the names unique in the form (`packs-<key>`, `pack-<key>`,
 * `tenths-<key>`); nothing is drawn for an item without packs.
 */
export function packFields(holder, item, key, { tenths = false, onInput = null } = {}) {
  if (!item || item.packs.length === 0) { replace(holder); return; }
  const largest = [...item.packs].sort((a, b) => b.size - a.size)[0];
  const packs = h("input", { type: "number", name: `packs-${key}`, min: 0, max: 100000, inputmode: "numeric", class: "packs-input" });
  const pack = h("select", { name: `pack-${key}`, "aria-label": t("shelf.pack") },
    item.packs.map((p) => h("option", { value: p.name, selected: p === largest }, `${p.name} (${number(p.size)})`)));
  const fields = [
    h("label", { class: "field small" }, h("span", {}, t("shelf.packs")), packs),
    h("label", { class: "field" }, h("span", {}, t("shelf.pack")), pack),
  ];
  if (tenths && takesTenths(item)) {
    fields.push(h("label", { class: "field small" }, h("span", {}, t("shelf.tenths")),
      h("input", { type: "number", name: `tenths-${key}`, min: 0, max: 9, inputmode: "numeric", class: "tenths-input" })));
  }
  replace(holder, fields);
  if (onInput) for (const el of holder.querySelectorAll("input, select")) el.addEventListener("input", onInput);
}

function whole(input) {
  if (!input || input.value === "") return 0;
  const n = Number(input.value);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

/**
 * What `packFields` (and a units input) hold: `{ pack, packs, units, tenths, total }` with
 * `total` in base units (tenths rounded as the server does), or null when nothing is typed.
 * NaN in `total` means something typed is not a whole number.
 */
export function readQuantity(item, root, key, unitsInput) {
  const typed = [unitsInput, ...root.querySelectorAll(`[name=packs-${key}], [name=tenths-${key}]`)]
    .some((el) => el && el.value !== "");
  if (!typed) return null;
  const units = whole(unitsInput);
  const packs = whole(root.querySelector(`[name=packs-${key}]`));
  const tenths = whole(root.querySelector(`[name=tenths-${key}]`));
  const packName = root.querySelector(`[name=pack-${key}]`)?.value;
  const size = item?.packs.find((p) => p.name === packName)?.size ?? 0;
  const total = packs * size + units + Math.round((tenths * size) / 10);
  return { pack: packName, packs, units, tenths, total };
}

/** A delivery or count line's "how much": plain base units, or packs the server converts. */
export function quantityBody(quantity, plainKey) {
  if (!quantity.packs && !quantity.tenths) return { [plainKey]: quantity.units };
  const body = { pack: quantity.pack, packs: quantity.packs };
  if (quantity.units) body.units = quantity.units;
  if (quantity.tenths) body.tenths = quantity.tenths;
  return body;
}
