// The staff sell screen (phone, one hand): category tabs and search over a grid of big
// product tiles coloured by live stock, a basket, and "Sell" in one tap. Every outcome is
// said plainly: sold, not enough stock (the basket line shows what is left), busy (retried
// automatically), or saved offline (pending until the network returns).

import { registerScreen } from "../screens.js";
import { store, stockLevel } from "../store.js";
import { t, money, number, dateTime } from "../i18n.js";
import { h, replace, toast } from "../ui.js";
import { sell, isInteractive } from "../sync.js";
import { dismiss } from "../outbox.js";

// basket survives switching screens: product_id -> {qty, problem}
const basket = new Map();
let category = null;
let query = "";

function pendingQty() {
  const qty = new Map();
  for (const entry of store.outbox) {
    if (entry.status !== "pending" || entry.bar_id !== store.bar.id) continue;
    for (const item of entry.items) qty.set(item.product_id, (qty.get(item.product_id) || 0) + item.qty);
  }
  return qty;
}

function render(container) {
  const currency = store.bar.currency;
  const search = h("input", { type: "search", id: "product-search", placeholder: t("sell.search"), "aria-label": t("sell.search"), value: query, autocomplete: "off" });
  const cats = h("div", { class: "chips", role: "group", "aria-label": t("sell.categories") });
  const grid = h("div", { class: "grid", id: "product-grid" });
  const basketBox = h("section", { class: "basket", id: "basket", "aria-labelledby": "basket-title" });
  const feedback = h("p", { class: "feedback", id: "sell-feedback", role: "status", "aria-live": "polite" });
  const outboxBox = h("section", { class: "outbox", id: "outbox", "aria-labelledby": "outbox-title" });
  container.append(h("div", { class: "sell" },
    h("h1", { class: "sr-only" }, t("nav.sell")),
    h("div", { class: "sell-tools" }, search, cats), grid, outboxBox, h("div", { class: "sell-side" }, feedback, basketBox)));

  function say(kind, text) {
    feedback.dataset.outcome = kind;
    feedback.textContent = text;
  }

  function renderCats() {
    const names = [...new Set([...store.products.values()].filter((p) => p.active).map((p) => p.category))].sort();
    if (category && !names.includes(category)) category = null;
    replace(cats, [null, ...names].map((name) => h("button", {
      type: "button", class: "chip", "aria-pressed": String(category === name),
      onclick: () => { category = name; renderCats(); renderGrid(); },
    }, name ?? t("sell.all"))));
  }

  function renderGrid() {
    const pending = pendingQty();
    const q = query.trim().toLocaleLowerCase();
    const products = [...store.products.values()]
      .filter((p) => p.active && (!category || p.category === category) && (!q || p.name.toLocaleLowerCase().includes(q)))
      .sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name));
    replace(grid, products.length === 0 ? h("p", { class: "muted" }, t("sell.no_products")) : products.map((p) => {
      const level = stockLevel(p);
      const inBasket = basket.get(p.id)?.qty || 0;
      return h("button", {
        type: "button", class: "tile", dataset: { productId: p.id, level, stock: String(p.stock) },
        disabled: p.stock <= 0,
        "aria-label": t("sell.tile_label", { name: p.name, price: money(p.price, currency), stock: number(p.stock) }),
        onclick: () => add(p.id),
      },
      h("span", { class: "name" }, p.name),
      h("span", { class: "price" }, money(p.price, currency)),
      h("span", { class: "tile-foot" },
        inBasket ? h("span", { class: "in-basket" }, `×${number(inBasket)}`) : null,
        pending.get(p.id) ? h("span", { class: "pending-mark", title: t("sell.pending_qty") }, `⏳${number(pending.get(p.id))}`) : null,
        h("span", { class: "stock" }, number(p.stock))));
    }));
  }

  function add(id, delta = 1) {
    const line = basket.get(id) || { qty: 0, problem: null };
    line.qty = Math.max(0, Math.min(999, line.qty + delta));
    line.problem = null;
    if (line.qty === 0) basket.delete(id); else basket.set(id, line);
    renderBasket();
    renderGrid();
  }

  function basketLines() {
    return [...basket.entries()].filter(([id]) => store.products.has(id)).map(([id, line]) => {
      const p = store.products.get(id);
      return { product_id: id, name: p.name, qty: line.qty, unit_price: p.price, problem: line.problem };
    });
  }

  function renderBasket() {
    const lines = basketLines();
    const total = lines.reduce((sum, l) => sum + l.qty * l.unit_price, 0);
    basketBox.classList.toggle("empty", lines.length === 0);
    replace(basketBox,
      h("h2", { id: "basket-title" }, t("sell.basket")),
      lines.length === 0 ? h("p", { class: "muted hint" }, t("sell.basket_empty")) : h("ul", {}, lines.map((l) => h("li", {
        class: l.problem ? "line problem" : "line", dataset: { productId: l.product_id },
      },
      h("span", { class: "line-name" }, l.name),
      h("span", { class: "qty" },
        h("button", { type: "button", class: "round", "aria-label": t("sell.less", { name: l.name }), onclick: () => add(l.product_id, -1) }, "−"),
        h("output", { "aria-label": t("sell.qty") }, number(l.qty)),
        h("button", { type: "button", class: "round", "aria-label": t("sell.more", { name: l.name }), onclick: () => add(l.product_id, 1) }, "+")),
      h("span", { class: "line-total" }, money(l.qty * l.unit_price, store.bar.currency)),
      l.problem ? h("span", { class: "line-problem", role: "alert" }, l.problem) : null))),
      h("p", { class: "total" }, h("span", {}, t("sell.total")), h("strong", { id: "basket-total" }, money(total, store.bar.currency))),
      h("div", { class: "basket-actions" },
        h("button", { type: "button", class: "ghost", disabled: lines.length === 0, onclick: () => { basket.clear(); renderBasket(); renderGrid(); say("", ""); } }, t("sell.clear")),
        h("button", { type: "button", class: "primary big", id: "sell-button", disabled: lines.length === 0, onclick: doSell }, t("sell.sell"))));
  }

  let selling = false;
  async function doSell() {
    const lines = basketLines();
    if (selling || lines.length === 0) return;
    selling = true;
    basketBox.querySelector("#sell-button").disabled = true;
    say("sending", t("sell.sending"));
    try {
      const result = await sell(store.bar.id, lines);
      if (result.kind === "sent") {
        basket.clear();
        say("sold", t("sell.sold", { number: result.sale.number, total: money(result.sale.total, store.bar.currency) }));
      } else if (result.kind === "rejected") {
        const problem = result.problem || {};
        if (problem.type === "insufficient_stock" && basket.has(problem.product_id)) {
          const name = store.products.get(problem.product_id)?.name || "";
          basket.get(problem.product_id).problem = t("sell.only_left", { n: number(problem.available) });
          store.applyStock([{ product_id: problem.product_id, stock: problem.available }], store.productSeq.get(problem.product_id) ?? 0);
          say("insufficient", t("sell.insufficient", { name, n: number(problem.available) }));
        } else {
          say("rejected", problem.detail || problem.title || t("sell.refused"));
        }
      } else {
        basket.clear();
        say(result.reason === "busy" ? "busy" : "pending", result.reason === "busy" ? t("sell.busy") : t("sell.offline"));
      }
    } catch (err) {
      say("error", String(err.message || err));
    } finally {
      selling = false;
      renderBasket();
      renderGrid();
    }
  }

  function renderOutbox() {
    const mine = store.outbox.filter((e) => e.bar_id === store.bar.id);
    if (mine.length === 0) { replace(outboxBox); outboxBox.hidden = true; return; }
    outboxBox.hidden = false;
    replace(outboxBox, h("h2", { id: "outbox-title" }, t("outbox.title")), h("ul", {}, mine.map((e) => h("li", {
      class: `outbox-entry ${e.status}`, dataset: { saleId: e.id, status: e.status },
    },
    h("span", { class: `badge ${e.status}` }, t(`outbox.${e.status}`)),
    h("span", {}, e.lines.map((l) => `${number(l.qty)} × ${l.name}`).join(", ")),
    h("span", { class: "muted" }, dateTime(e.occurred_at)),
    e.status === "rejected" ? h("span", { class: "line-problem" }, e.problem?.type === "insufficient_stock"
      ? t("sell.only_left", { n: number(e.problem.available) }) : (e.problem?.detail || e.problem?.title || "")) : null,
    e.status === "rejected" ? h("button", { type: "button", class: "ghost", onclick: () => dismiss(e) }, t("outbox.dismiss")) : null))));
  }

  let lastOutbox = store.outbox;
  const offs = [
    store.on("stock", () => { renderGrid(); }),
    store.on("products", () => { renderCats(); renderGrid(); renderBasket(); }),
    store.on("outbox", (entries) => {
      const sentNow = lastOutbox.filter((e) => e.status === "pending" && !isInteractive(e.id)
        && !entries.some((x) => x.id === e.id));
      if (sentNow.length) toast(t("outbox.sent", { n: number(sentNow.length) }), "ok");
      lastOutbox = entries;
      renderOutbox();
      renderGrid();
    }),
  ];
  search.addEventListener("input", () => { query = search.value; renderGrid(); });
  renderCats();
  renderGrid();
  renderBasket();
  renderOutbox();
  return () => offs.forEach((off) => off());
}

registerScreen({ id: "sell", titleKey: "nav.sell", icon: "🛒", order: 10, render });
