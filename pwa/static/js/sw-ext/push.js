// Service worker extension (imported by /sw.js): show low-stock alerts pushed by the server
// and open the app on the product when one is tapped.
//
// Payload (docs/webhooks.md): {type: "low_stock"|"out_of_stock", bar_id, bar_name, product_id,
// product_name, stock, low_threshold}. The text follows the device's language (FR/EN).

import { kv } from "../db.js";

const TEXTS = {
  en: {
    low_stock: (p) => [`Low stock: ${p.product_name}`, `${p.stock} left at ${p.bar_name} (alert at ${p.low_threshold}).`],
    out_of_stock: (p) => [`Out of stock: ${p.product_name}`, `None left at ${p.bar_name}.`],
  },
  fr: {
    low_stock: (p) => [`Stock bas : ${p.product_name}`, `Plus que ${p.stock} à ${p.bar_name} (alerte à ${p.low_threshold}).`],
    out_of_stock: (p) => [`Rupture : ${p.product_name}`, `Plus aucun à ${p.bar_name}.`],
  },
};
const ICON = new URL("../../icons/icon-192.png", import.meta.url).href;

function deviceLang() {
  const langs = self.navigator.languages || [self.navigator.language || "en"];
  const found = langs.map((l) => l.slice(0, 2).toLowerCase()).find((l) => l in TEXTS);
  return found || "en";
}

function productUrl(payload) {
  return new URL(`/#/ledger?product=${encodeURIComponent(payload.product_id)}`, self.location.origin).href;
}

async function showAlert(payload) {
  const lang = deviceLang();
  const text = TEXTS[lang][payload.type] || TEXTS[lang].low_stock;
  const [title, body] = text(payload);
  await self.registration.showNotification(title, {
    body,
    lang,
    icon: ICON,
    tag: `bt-${payload.product_id}`, // a newer alert for a product replaces the older one
    renotify: true,
    requireInteraction: payload.type === "out_of_stock",
    data: { url: productUrl(payload), bar_id: payload.bar_id, payload },
  });
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) client.postMessage({ type: "bt-alert", payload });
}

self.addEventListener("push", (event) => {
  let payload = null;
  try { payload = event.data ? event.data.json() : null; } catch { payload = null; }
  if (!payload || !payload.product_id) return;
  event.waitUntil(showAlert(payload));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const { url, bar_id: barId } = event.notification.data || {};
  if (!url) return;
  event.waitUntil((async () => {
    if (barId) await kv.set("bar_id", barId); // the app opens on the alert's bar
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((c) => new URL(c.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      return open.navigate(url).catch(() => self.clients.openWindow(url));
    }
    return self.clients.openWindow(url);
  })());
});
