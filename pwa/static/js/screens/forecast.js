// Manager: demand forecasts and reorder suggestions (GET /api/bars/{id}/forecast).
// Products soonest out of stock first; per product an SVG chart of the last 8 weeks of sales
// and the P10–P90 band around P50 ahead, and a stock gauge marking the safety stock and the
// reorder point. "Create delivery from suggestions" pre-fills a delivery the manager edits.
// Charts are plain SVG built here: no build step, no library, nothing from a CDN.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, tn, number, locale } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api, uuid4, ApiError } from "../api.js";
import { problemText } from "../errors.js";
import { loadShelf, packFields, readQuantity, quantityBody } from "./shelf.js";

const SVG = "http://www.w3.org/2000/svg";
const HORIZONS = [7, 14, 28];
const CHART = { width: 640, height: 170, left: 34, right: 8, top: 10, bottom: 22 };

/** An SVG element (h() makes HTML elements; SVG needs its namespace). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function ensureStylesheet() {
  if (document.getElementById("forecast-css")) return;
  document.head.append(h("link", { id: "forecast-css", rel: "stylesheet", href: new URL("../../css/forecast.css", import.meta.url).href }));
}

function shortDate(iso) {
  return new Date(`${iso}T12:00:00Z`).toLocaleDateString(locale(), { day: "numeric", month: "short", timeZone: "UTC" });
}

/** Sales of the last 8 weeks (bars, empty-shelf days hatched) and the forecast band ahead. */
function demandChart(product) {
  const history = product.history || [];
  const daily = product.daily;
  const days = history.length + daily.length;
  const top = Math.max(1, ...history.map((d) => d.sold), ...daily.map((d) => d.p90)) * 1.1;
  const w = CHART.width - CHART.left - CHART.right;
  const hgt = CHART.height - CHART.top - CHART.bottom;
  const step = w / Math.max(days, 1);
  const x = (i) => CHART.left + i * step;
  const y = (v) => CHART.top + hgt - (v / top) * hgt;
  const mid = (i) => x(i) + step / 2;

  const grid = [0, top / 2 / 1.1, top / 1.1].map((v) => s("g", { class: "grid" },
    s("line", { x1: CHART.left, x2: CHART.width - CHART.right, y1: y(v), y2: y(v) })));
  const bars = history.map((d, i) => s("rect", {
    class: d.censored ? "sold censored" : "sold", x: x(i) + step * 0.15, width: step * 0.7,
    y: y(d.sold), height: Math.max(0, y(0) - y(d.sold)),
  }, s("title", {}, `${shortDate(d.date)}: ${number(d.sold)}${d.censored ? ` (${t("forecast.censored")})` : ""}`)));
  const first = history.length;
  const upper = daily.map((d, i) => `${mid(first + i)},${y(d.p90)}`);
  const lower = daily.map((d, i) => `${mid(first + i)},${y(d.p10)}`).reverse();
  const band = s("polygon", { class: "band", points: [...upper, ...lower].join(" ") },
    s("title", {}, t("forecast.band")));
  const median = s("polyline", { class: "p50", points: daily.map((d, i) => `${mid(first + i)},${y(d.p50)}`).join(" ") });
  const dots = daily.map((d, i) => s("circle", { class: "p50-dot", cx: mid(first + i), cy: y(d.p50), r: 2.2 },
    s("title", {}, `${shortDate(d.date)}: P10 ${number(d.p10)} · P50 ${number(d.p50)} · P90 ${number(d.p90)}`)));
  const today = s("line", { class: "today", x1: x(first), x2: x(first), y1: CHART.top, y2: y(0) });
  const svg = s("svg", {
    class: "forecast-chart", viewBox: `0 0 ${CHART.width} ${CHART.height}`, role: "img",
    "aria-label": t("forecast.chart_label", { name: product.name }),
  }, grid, bars, band, median, dots, today);
  // Text lives in HTML around the chart: inside the SVG it shrank with it (5-7 px on a tablet).
  return h("figure", { class: "forecast-figure" },
    h("div", { class: "chart-scale" }, h("span", {}, number(Math.round(top / 1.1))), h("span", {}, "0")),
    svg,
    h("div", { class: "chart-axis" },
      h("span", {}, history.length ? shortDate(history[0].date) : ""),
      h("span", {}, t("forecast.ahead_from_today")),
      h("span", {}, daily.length ? shortDate(daily[daily.length - 1].date) : "")),
    h("figcaption", { class: "chart-legend" },
      h("span", { class: "key sold" }, t("forecast.legend_sold")),
      history.some((d) => d.censored) ? h("span", { class: "key censored" }, t("forecast.censored")) : null,
      h("span", { class: "key band" }, t("forecast.legend_band")),
      h("span", { class: "key p50" }, t("forecast.legend_p50"))));
}

/** Stock on hand against the safety stock and the reorder point (and par). */
function stockGauge(product) {
  const width = 640;
  const height = 34;
  const max = Math.max(1, product.stock, product.reorder_point, product.par_level) * 1.05;
  const x = (v) => 4 + (v / max) * (width - 8);
  const level = product.stock <= product.safety_stock ? "out"
    : product.suggested_order_qty > 0 || product.stock <= product.reorder_point ? "low" : "ok";
  const mark = (value, cls) => s("g", { class: `mark ${cls}` },
    s("line", { x1: x(value), x2: x(value), y1: 2, y2: 22 }));
  return s("svg", { class: "stock-gauge", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": t("forecast.gauge_label", { stock: number(product.stock), ss: number(product.safety_stock), rop: number(product.reorder_point) }) },
  s("rect", { class: "track", x: 4, y: 6, width: width - 8, height: 12, rx: 6 }),
  s("rect", { class: `fill ${level}`, x: 4, y: 6, width: Math.max(0, x(product.stock) - 4), height: 12, rx: 6 }),
  mark(product.safety_stock, "ss"),
  mark(product.reorder_point, "rop"));
}

/**
 * What a manager reads first, and its colour: whole days (a forecast is not precise to the
 * hour), and never "runs out in 3 days" beside "order 0" without saying why nothing is ordered.
 */
function cover(product) {
  const days = product.days_until_stockout;
  const whole = days === null ? null : Math.floor(days);
  if (whole === null) return { kind: "enough", text: t("forecast.cover_beyond") };
  if (product.suggested_order_qty > 0) {
    return { kind: whole <= (store.bar.lead_time_days ?? 2) ? "urgent" : "order",
      text: whole < 1 ? t("forecast.cover_today") : tn("forecast.cover_days", whole) };
  }
  return { kind: "watch", text: whole < 1 ? t("forecast.cover_today") : tn("forecast.lasts_days", whole) };
}

/** "order 2 × casier": a suggestion in the largest pack of the product's own stock item, rounded up. */
function inWholePacks(qty, packs) {
  const pack = [...(packs || [])].filter((p) => p.size > 1).sort((a, b) => b.size - a.size)[0];
  if (!pack || qty <= 0) return null;
  const n = Math.ceil(qty / pack.size);
  return t("forecast.in_packs", { n: number(n), pack: pack.name, units: number(n * pack.size) });
}

/** The server's suggestion in packs (largest pack that fits + loose units), when it sent one. */
function inServerPacks(suggested) {
  if (!suggested) return null;
  const whole = t("forecast.in_packs", { n: number(suggested.packs), pack: suggested.pack, units: number(suggested.packs * suggested.size) });
  // "2 × casier (48) + 22": the loose units the same in every language, like the pack line
  return suggested.units ? `${whole} + ${number(suggested.units)}` : whole;
}

function card(product, packs = null) {
  const urgent = product.suggested_order_qty > 0;
  const ordered = inServerPacks(product.suggested_order_packs) || inWholePacks(product.suggested_order_qty, packs);
  const status = cover(product);
  return h("article", { class: `forecast-card${urgent ? " urgent" : ""}`, dataset: { productId: product.product_id, cover: status.kind } },
    h("header", {},
      h("h2", {}, product.name),
      h("span", { class: `badge cover ${status.kind}` }, status.text)),
    h("dl", { class: "facts" },
      h("div", {}, h("dt", {}, t("stock.stock")), h("dd", { class: "stock" }, number(product.stock))),
      h("div", {}, h("dt", { class: "key ss" }, t("forecast.safety_stock")), h("dd", { class: "ss" }, number(product.safety_stock))),
      h("div", {}, h("dt", { class: "key rop" }, t("forecast.reorder_point")), h("dd", { class: "rop" }, number(product.reorder_point))),
      h("div", {}, h("dt", {}, t("forecast.suggested")), h("dd", { class: "suggested" },
        product.suggested_order_qty > 0 ? number(product.suggested_order_qty) : t("forecast.no_order")),
        ordered ? h("dd", { class: "suggested-packs" }, ordered) : null)),
    demandChart(product),
    stockGauge(product));
}

function render(container) {
  ensureStylesheet();
  let horizon = 14;
  let data = null;
  const status = h("p", { class: "loading", id: "forecast-status" }, t("forecast.loading"));
  const list = h("div", { class: "forecast-list", id: "forecast-list" });
  const draft = h("form", { class: "panel forecast-delivery", id: "forecast-delivery", hidden: true, novalidate: true });
  const horizonSelect = h("select", { id: "forecast-horizon", "aria-label": t("forecast.horizon") },
    HORIZONS.map((n) => h("option", { value: n, selected: n === horizon }, t("forecast.days", { n }))));
  const createButton = h("button", { type: "button", class: "primary", id: "forecast-create-delivery", disabled: true }, t("forecast.create_delivery"));
  let alive = true;
  let items = new Map(); // stock items by id: a product's own item has its id (and its packs)

  async function load() {
    status.hidden = false;
    status.textContent = t("forecast.loading");
    let shelf = null;
    try {
      [data, shelf] = await Promise.all([
        api.get(`/api/bars/${store.bar.id}/forecast?horizon_days=${horizon}&include_history=true`),
        loadShelf().catch(() => null)]); // packs are a bonus: the forecast shows without them
    } catch (err) {
      if (!alive) return;
      status.textContent = problemText(err);
      return;
    }
    if (!alive) return;
    status.hidden = true;
    const products = [...data.products].sort((a, b) =>
      (a.days_until_stockout ?? Infinity) - (b.days_until_stockout ?? Infinity) || a.name.localeCompare(b.name));
    items = new Map((shelf?.items || []).map((i) => [i.id, i]));
    replace(list, products.length ? products.map((p) => card(p, items.get(p.product_id)?.packs)) : h("p", { class: "muted" }, t("forecast.empty")));
    createButton.disabled = !products.some((p) => p.suggested_order_qty > 0);
  }

  const draftItem = (id) => items.get(id) || { packs: [] };

  /** A suggestion as a delivery line: in whole packs of the product's item when it has packs. */
  function draftLine(p) {
    const item = draftItem(p.product_id);
    const pack = [...item.packs].filter((k) => k.size > 1).sort((a, b) => b.size - a.size)[0];
    const units = h("input", { type: "number", name: "qty", min: 0, max: 100000, inputmode: "numeric", value: pack ? "" : p.suggested_order_qty });
    if (!pack) return h("div", { class: "line-row", dataset: { productId: p.product_id } }, h("label", { class: "field" }, h("span", {}, p.name), units));
    const holder = h("span", { class: "pack-fields" });
    packFields(holder, item, p.product_id);
    holder.querySelector("input").value = String(Math.ceil(p.suggested_order_qty / pack.size));
    return h("div", { class: "line-row", dataset: { productId: p.product_id } },
      h("strong", { class: "line-name" }, p.name), holder,
      h("label", { class: "field small" }, h("span", {}, t("shelf.units_of", { unit: item.base_unit })), units));
  }

  function openDraft() {
    const suggested = data.products.filter((p) => p.suggested_order_qty > 0);
    const message = h("p", { class: "feedback", id: "forecast-delivery-feedback", role: "status", "aria-live": "polite" });
    const requestId = uuid4();
    replace(draft,
      h("h2", {}, t("forecast.draft_title")),
      h("p", { class: "muted" }, t("forecast.draft_hint")),
      h("div", { class: "lines" }, suggested.map(draftLine)),
      h("div", { class: "row" },
        h("label", { class: "field" }, h("span", {}, t("delivery.supplier")), h("input", { name: "supplier", maxlength: 200 })),
        h("label", { class: "field" }, h("span", {}, t("delivery.reference")), h("input", { name: "reference", maxlength: 100 }))),
      message,
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => { draft.hidden = true; } }, t("common.cancel")),
        h("button", { type: "submit", class: "primary", id: "forecast-delivery-submit" }, t("delivery.submit"))));
    draft.onsubmit = async (event) => {
      event.preventDefault();
      const items = [...draft.querySelectorAll(".line-row")].map((row) => {
        const id = row.dataset.productId;
        const quantity = readQuantity(draftItem(id), row, id, row.querySelector("[name=qty]"));
        return quantity && quantity.total > 0 ? { product_id: id, ...quantityBody(quantity, "qty") } : null;
      }).filter(Boolean);
      if (!items.length) { message.dataset.outcome = "error"; message.textContent = t("delivery.empty"); return; }
      const body = { id: requestId, items };
      if (draft.supplier.value.trim()) body.supplier = draft.supplier.value.trim();
      if (draft.reference.value.trim()) body.reference = draft.reference.value.trim();
      try {
        const result = await api.post(`/api/bars/${store.bar.id}/deliveries`, body);
        store.applyStock(result.stock, result.seq);
        message.dataset.outcome = "ok";
        message.textContent = tn("delivery.done", items.length);
        draft.querySelector("#forecast-delivery-submit").disabled = true;
        await load();
      } catch (err) {
        message.dataset.outcome = "error";
        message.textContent = err instanceof ApiError && err.type === "duplicate_delivery"
          ? t("delivery.duplicate") : problemText(err);
      }
    };
    draft.hidden = false;
    draft.querySelector("input")?.focus();
  }

  horizonSelect.addEventListener("change", () => { horizon = Number(horizonSelect.value); load(); });
  createButton.addEventListener("click", openDraft);
  container.append(h("section", { class: "panel forecast" },
    h("div", { class: "forecast-head" },
      h("h1", {}, t("nav.forecast")),
      horizonSelect,
      createButton),
    h("p", { class: "muted" }, t("forecast.intro")),
    draft, status, list));
  load();
  return () => { alive = false; };
}

registerScreen({ id: "forecast", titleKey: "nav.forecast", icon: "📈", roles: ["owner", "manager"], order: 35, render });
