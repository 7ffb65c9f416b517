// The staff sell screen (phone, one hand): category tabs and search over a grid of big
// product tiles coloured by live stock, a basket, and "Sell" in one tap. Every outcome is
// said plainly: sold (with its receipt), sold out or not enough stock (the line is removed or
// reduced), busy or no answer (kept in the outbox, sent automatically), stopped (offline for
// longer than the grace).
//
// Nothing the seller taps is lost: "Sell" takes the basket away into the outbox and a new
// basket starts at once, so taps while the sale is on its way build the next one; a refusal
// puts the lines back. The basket is kept in localStorage, per bar: it survives a reload.

import { registerScreen } from "../screens.js";
import { store, stockLevel } from "../store.js";
import { t, tn, money, number, dateTime } from "../i18n.js";
import { h, replace, toast } from "../ui.js";
import { sell, isInteractive } from "../sync.js";
import { resolve } from "../outbox.js";
// the keypad, the receipt and the manager's check load on first use: the first load on a
// phone network pays a round trip per wave of six requests (docs/benchmarks.md)
const askQuantity = (...args) => import("../keypad.js").then((m) => m.askQuantity(...args));
const managerOf = (...args) => import("../review.js").then((m) => m.managerOf(...args));
const showReceipt = (...args) => import("./receipt.js").then((m) => m.showReceipt(...args));
import { problemText } from "../errors.js";

const MAX_QTY = 999;
let category = null;
let query = "";

/** Lower case without accents: "Bière" and "biere" match. */
export function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

// ---------- the basket: product_id -> {qty, problem}, kept per bar ----------
const basket = new Map();
let basketBar = null;
// the basket leaves with the customer (issue 16): its bottles' deposit is charged, no empty
// comes back; back to "on the premises" for the next basket
let takeAway = false;

function basketKey() { return `bt-basket:${store.bar.id}`; }

function loadBasket() {
  if (basketBar === store.bar.id) return;
  basketBar = store.bar.id;
  basket.clear();
  try {
    for (const [id, qty] of JSON.parse(localStorage.getItem(basketKey()) || "[]")) basket.set(id, { qty, problem: null });
  } catch {
    localStorage.removeItem(basketKey());
  }
}

function saveBasket() {
  localStorage.setItem(basketKey(), JSON.stringify([...basket].map(([id, line]) => [id, line.qty])));
}

function setQty(id, qty) {
  if (qty <= 0) basket.delete(id);
  else basket.set(id, { qty: Math.min(MAX_QTY, qty), problem: null });
  saveBasket();
}

/** Lines of a refused sale back into the basket, beside what was added meanwhile. */
function putBack(lines) {
  for (const l of lines) setQty(l.product_id, (basket.get(l.product_id)?.qty || 0) + l.qty);
  if (lines.some((l) => l.take_away)) takeAway = true;
}

function basketLines() {
  return [...basket.entries()].filter(([id]) => store.products.has(id)).map(([id, line]) => {
    const p = store.products.get(id);
    return { product_id: id, name: p.name, qty: line.qty, unit_price: p.price, problem: line.problem };
  });
}

function pendingQty() {
  const qty = new Map();
  for (const entry of store.outbox) {
    if (entry.status !== "pending" || entry.bar_id !== store.bar.id) continue;
    for (const item of entry.items) qty.set(item.product_id, (qty.get(item.product_id) || 0) + item.qty);
  }
  return qty;
}

// ---------- parts of the screen; `view` holds its elements and redraws ----------
function layout(container) {
  const view = {
    search: h("input", { type: "search", id: "product-search", placeholder: t("sell.search"), "aria-label": t("sell.search"), value: query, autocomplete: "off" }),
    cats: h("div", { class: "chips", role: "group", "aria-label": t("sell.categories") }),
    grid: h("div", { class: "grid", id: "product-grid" }),
    basketBox: h("section", { class: "basket", id: "basket", "aria-labelledby": "basket-title" }),
    feedback: h("p", { class: "feedback", id: "sell-feedback", role: "status", "aria-live": "polite" }),
    outboxBox: h("section", { class: "outbox", id: "outbox", tabindex: "-1", "aria-labelledby": "outbox-title" }),
    sending: false,
    waitingId: null, // the sale last told "will be sent automatically"
  };
  container.append(h("div", { class: "sell" },
    h("h1", { class: "sr-only" }, t("nav.sell")),
    h("div", { class: "sell-tools" }, view.search, view.cats), view.grid, view.outboxBox,
    h("div", { class: "sell-side" }, view.feedback, view.basketBox)));
  view.say = (kind, text, ...extra) => {
    view.feedback.dataset.outcome = kind;
    replace(view.feedback, text, ...extra);
  };
  view.redraw = () => { renderBasket(view); renderGrid(view); };
  return view;
}

function renderCats(view) {
  const names = [...new Set([...store.products.values()].filter((p) => p.active).map((p) => p.category))].sort();
  if (category && !names.includes(category)) category = null;
  replace(view.cats, [null, ...names].map((name) => h("button", {
    type: "button", class: "chip", "aria-pressed": String(category === name),
    onclick: () => { category = name; renderCats(view); renderGrid(view); },
  }, name ?? t("sell.all"))));
}

/** Nothing to show: no match for the search, or a bar with no products yet (a manager gets
 * the way to add them; staff are told whom to ask). */
function emptyGrid() {
  if ([...store.products.values()].some((p) => p.active)) return h("p", { class: "muted" }, t("sell.no_products"));
  const manager = store.bar.role !== "staff";
  return h("div", { class: "empty-state", id: "sell-empty" },
    h("p", {}, t(manager ? "start.empty.products" : "sell.no_catalog")),
    manager ? h("a", { class: "button primary", href: "#/products" }, t("start.step.products")) : null);
}

function renderGrid(view) {
  const pending = pendingQty();
  const q = fold(query.trim());
  const currency = store.bar.currency;
  const products = [...store.products.values()]
    .filter((p) => p.active && (!category || p.category === category) && (!q || fold(p.name).includes(q)))
    .sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name));
  replace(view.grid, products.length === 0 ? emptyGrid() : products.map((p) => {
    const inBasket = basket.get(p.id)?.qty || 0;
    return h("button", {
      type: "button", class: "tile", dataset: { productId: p.id, level: stockLevel(p), stock: String(p.stock) },
      disabled: p.stock <= 0,
      "aria-label": t("sell.tile_label", { name: p.name, price: money(p.price, currency), stock: number(p.stock) }),
      onclick: () => add(view, p.id, 1),
    },
    h("span", { class: "name" }, p.name),
    h("span", { class: "price" }, money(p.price, currency)),
    h("span", { class: "tile-foot" },
      inBasket ? h("span", { class: "in-basket" }, `×${number(inBasket)}`) : null,
      pending.get(p.id) ? h("span", { class: "pending-mark", title: t("sell.pending_qty") }, `⏳${number(pending.get(p.id))}`) : null,
      h("span", { class: "stock" }, number(p.stock))));
  }));
}

function add(view, id, delta) {
  // a new basket begins: the last sale's message has had its moment
  if (["sold", "pending", "busy"].includes(view.feedback.dataset.outcome)) view.say("", "");
  setQty(id, (basket.get(id)?.qty || 0) + delta);
  view.redraw();
}

async function typeQty(view, line) {
  const qty = await askQuantity(t("sell.set_qty", { name: line.name }), line.qty);
  if (qty === null) return;
  setQty(line.product_id, qty);
  view.redraw();
}

function basketLine(view, l) {
  return h("li", { class: l.problem ? "line problem" : "line", dataset: { productId: l.product_id } },
    h("span", { class: "line-name" }, l.name),
    h("span", { class: "qty" },
      h("button", { type: "button", class: "round", "aria-label": t("sell.less", { name: l.name }), onclick: () => add(view, l.product_id, -1) }, "−"),
      h("button", { type: "button", class: "qty-value", "aria-label": `${t("sell.set_qty", { name: l.name })}: ${number(l.qty)}`, onclick: () => typeQty(view, l) }, number(l.qty)),
      h("button", { type: "button", class: "round", "aria-label": t("sell.more", { name: l.name }), onclick: () => add(view, l.product_id, 1) }, "+")),
    h("span", { class: "line-total" }, money(l.qty * l.unit_price, store.bar.currency)),
    l.problem ? h("span", { class: "line-problem", role: "alert" }, l.problem) : null);
}

/** "↓ n more" under a basket list taller than its box, updated as it scrolls. */
function moreHint(list) {
  const hint = h("p", { class: "more-lines", id: "basket-more", hidden: true });
  const update = () => {
    const bottom = list.scrollTop + list.clientHeight;
    const hidden = [...list.children].filter((li) => li.offsetTop + li.offsetHeight > bottom + 1).length;
    hint.hidden = hidden === 0;
    hint.textContent = t("sell.more_lines", { n: number(hidden) });
  };
  list.addEventListener("scroll", update, { passive: true });
  requestAnimationFrame(update);
  return hint;
}

function renderBasket(view) {
  const lines = basketLines();
  const total = lines.reduce((sum, l) => sum + l.qty * l.unit_price, 0);
  const list = lines.length ? h("ul", {}, lines.map((l) => basketLine(view, l))) : null;
  view.basketBox.classList.toggle("empty", lines.length === 0);
  replace(view.basketBox,
    h("h2", { id: "basket-title" }, lines.length > 1 ? t("sell.basket_count", { n: number(lines.length) }) : t("sell.basket")),
    list ?? h("p", { class: "muted hint" }, t("sell.basket_empty")),
    list ? moreHint(list) : null,
    // the take-away toggle sits in the total's row: the basket panel must not grow over the tiles
    h("p", { class: "total" }, h("span", {}, t("sell.total")),
      h("label", { class: "take-away" }, h("input", { type: "checkbox", id: "take-away", checked: takeAway, onchange: (e) => { takeAway = e.target.checked; } }), " ", t("sell.take_away")),
      h("strong", { id: "basket-total" }, money(total, store.bar.currency))),
    h("div", { class: "basket-actions" },
      h("button", { type: "button", class: "ghost", disabled: lines.length === 0, onclick: () => { basket.clear(); saveBasket(); view.redraw(); view.say("", ""); } }, t("sell.clear")),
      h("button", { type: "button", class: "primary big", id: "sell-button", disabled: lines.length === 0 || view.sending, onclick: () => doSell(view) }, t("sell.sell"))));
}

// ---------- selling ----------
function receiptOf(sale, lines) {
  const names = new Map(lines.map((l) => [l.product_id, l.name]));
  return {
    number: sale.number, total: sale.total, deposit_total: sale.deposit_total || 0, created_at: sale.created_at, currency: store.bar.currency,
    bar_name: store.bar.name, seller: store.session?.user?.name || "",
    lines: sale.items.map((i) => ({ name: names.get(i.product_id) || "", qty: i.qty, line_total: i.line_total })),
  };
}

/** 409 insufficient_stock: the line is removed (sold out) or reduced to what is left. */
function shortOf(view, problem) {
  const id = problem.product_id;
  const name = store.products.get(id)?.name || "";
  store.applyStock([{ product_id: id, stock: problem.available }], store.productSeq.get(id) ?? 0);
  if (problem.available <= 0) {
    setQty(id, 0);
    view.say("insufficient", t("sell.sold_out", { name }));
    return;
  }
  setQty(id, Math.min(basket.get(id)?.qty || 0, problem.available));
  basket.get(id).problem = t("sell.only_left", { n: number(problem.available) });
  view.say("insufficient", t("sell.insufficient", { name, n: number(problem.available) }));
}

async function doSell(view) {
  const lines = basketLines().map(({ problem, ...line }) => ({ ...line, take_away: takeAway }));
  if (view.sending || lines.length === 0) return;
  view.sending = true;
  basket.clear(); // the next basket starts now; a refusal puts these lines back
  takeAway = false;
  saveBasket();
  view.redraw();
  view.say("sending", t("sell.sending"));
  try {
    const result = await sell(store.bar.id, lines);
    if (result.kind === "sent") {
      const receipt = receiptOf(result.sale, lines);
      view.say("sold", t("sell.sold", { number: result.sale.number, total: money(result.sale.total, store.bar.currency) }), " ",
        h("button", { type: "button", class: "link", id: "show-receipt", onclick: () => showReceipt(receipt) }, t("sell.receipt")));
    } else if (result.kind === "rejected") {
      putBack(lines);
      const problem = result.problem || {};
      if (problem.type === "insufficient_stock" && basket.has(problem.product_id)) shortOf(view, problem);
      else view.say("rejected", problem.type ? problemText({ problem }) : t("sell.refused"));
    } else if (result.kind === "stopped") {
      putBack(lines);
      view.say("stopped", t("sell.stopped", { hours: number(Math.round(store.offlineGraceMs / 3600_000)) }));
    } else {
      view.waitingId = result.id ?? null;
      const text = result.reason === "busy" ? "sell.busy" : result.reason === "timeout" ? "sell.timeout" : "sell.offline";
      view.say(result.reason === "busy" ? "busy" : "pending", t(text));
    }
  } catch (err) {
    putBack(lines);
    view.say("error", problemText(err));
  } finally {
    view.sending = false;
    view.redraw();
  }
}

// ---------- the outbox: waiting sales, and refused ones for a manager to resolve ----------
function reviewForm(view, entry) {
  const email = h("input", { type: "email", name: "manager-email", autocomplete: "off", required: true });
  const password = h("input", { type: "password", name: "manager-password", autocomplete: "off", required: true });
  const error = h("p", { class: "error", role: "alert" });
  return h("form", { class: "review-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const manager = await managerOf(store.bar.id, email.value, password.value);
      await resolve(entry, manager);
      toast(t("outbox.resolved", { name: manager.name }), "ok");
    } catch (err) {
      error.textContent = t(err.message === "not_manager" ? "outbox.not_manager" : err.message === "network" ? "error.network" : "outbox.bad_login");
    }
  } },
  h("label", { class: "field" }, h("span", {}, t("outbox.manager_email")), email),
  h("label", { class: "field" }, h("span", {}, t("outbox.manager_password")), password),
  error, h("button", { type: "submit", class: "primary" }, t("outbox.resolve")));
}

function outboxEntry(view, e) {
  const refused = e.status === "rejected";
  const manager = ["manager", "owner"].includes(store.bar.role);
  const reason = e.problem?.type === "insufficient_stock" ? t("sell.only_left", { n: number(e.problem.available) }) : (e.problem?.type ? problemText(e) : "");
  const slot = h("div", { class: "review-slot" });
  return h("li", { class: `outbox-entry ${e.status}`, dataset: { saleId: e.id, status: e.status } },
    h("span", { class: `badge ${e.status}` }, t(`outbox.${e.status}`)),
    h("span", {}, e.lines.map((l) => `${number(l.qty)} × ${l.name}`).join(", ")),
    h("span", { class: "muted" }, dateTime(e.occurred_at)),
    refused ? h("span", { class: "line-problem" }, reason) : null,
    refused && manager ? h("button", { type: "button", class: "resolve", onclick: () => resolve(e, { id: store.session.user.id, name: store.session.user.name }) }, t("outbox.resolve")) : null,
    refused && !manager ? h("button", { type: "button", class: "ghost review", onclick: () => replace(slot, reviewForm(view, e)) }, t("outbox.review")) : null,
    slot);
}

function renderOutbox(view) {
  const mine = store.outbox.filter((e) => e.bar_id === store.bar.id);
  const refused = mine.filter((e) => e.status === "rejected");
  const waiting = mine.filter((e) => e.status !== "rejected");
  view.outboxBox.hidden = mine.length === 0;
  replace(view.outboxBox,
    refused.length ? [h("h2", { id: "outbox-title" }, t("outbox.refused_title")), h("p", { class: "muted" }, t("outbox.refused_help")),
      h("ul", { class: "refused" }, refused.map((e) => outboxEntry(view, e)))] : null,
    waiting.length ? [h("h2", { id: refused.length ? "outbox-waiting-title" : "outbox-title" }, t("outbox.title")),
      h("ul", {}, waiting.map((e) => outboxEntry(view, e)))] : null);
}

function render(container) {
  loadBasket();
  const view = layout(container);
  let lastOutbox = store.outbox;
  const offs = [
    store.on("stock", () => renderGrid(view)),
    store.on("products", () => { renderCats(view); view.redraw(); }),
    store.on("contact", () => { if (view.feedback.dataset.outcome === "stopped") view.say("", ""); }),
    store.on("outbox", (entries) => {
      const sentNow = lastOutbox.filter((e) => e.status === "pending" && !isInteractive(e.id)
        && !entries.some((x) => x.id === e.id));
      if (sentNow.length) toast(tn("outbox.sent", sentNow.length), "ok");
      // "will be sent automatically" was said of a sale the server has now refused
      if (view.waitingId && entries.some((e) => e.id === view.waitingId && e.status === "rejected")) {
        view.waitingId = null;
        view.say("rejected", t("sell.refused_later"));
      }
      lastOutbox = entries;
      renderOutbox(view);
      renderGrid(view);
    }),
  ];
  view.search.addEventListener("input", () => { query = view.search.value; renderGrid(view); });
  renderCats(view);
  view.redraw();
  renderOutbox(view);
  return () => offs.forEach((off) => off());
}

registerScreen({ id: "sell", titleKey: "nav.sell", icon: "🛒", order: 10, render });
