// Low-stock alerts on this device: the Web Push subscription behind the "Notify me about low
// stock" switch, and the alerts the service worker passes on while the app is open.
//
// The browser's push subscription is one per device; which bars it alerts for is kept on the
// server (and mirrored in localStorage so the switch shows its state offline).

import { api, request } from "./api.js";

const BARS_KEY = "bt-alert-bars";

export class AlertsUnavailable extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason; // "unsupported" | "denied"
  }
}

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function rememberedBars() {
  try { return JSON.parse(localStorage.getItem(BARS_KEY) || "[]"); } catch { return []; }
}

function remember(bars) {
  localStorage.setItem(BARS_KEY, JSON.stringify([...new Set(bars)]));
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const mine = new Uint8Array(buffer);
  return mine.length === bytes.length && mine.every((b, i) => b === bytes[i]);
}

async function subscription() {
  const registration = await navigator.serviceWorker.ready;
  return { registration, current: await registration.pushManager.getSubscription() };
}

/** Whether this device is subscribed to the bar's alerts. */
export async function alertsEnabled(barId) {
  if (!pushSupported() || Notification.permission !== "granted") return false;
  const { current } = await subscription();
  return Boolean(current) && rememberedBars().includes(barId);
}

/** Ask permission, subscribe with the server's VAPID key, register the bar on the server. */
export async function enableAlerts(barId) {
  if (!pushSupported()) throw new AlertsUnavailable("unsupported");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new AlertsUnavailable("denied");
  const { key } = await api.get("/api/push/vapid-public-key");
  const serverKey = keyBytes(key);
  const { registration, current } = await subscription();
  let sub = current;
  if (sub && !sameKey(sub.options.applicationServerKey, serverKey)) {
    await sub.unsubscribe(); // made for another server key: useless to us
    sub = null;
  }
  sub = sub || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
  await registerSubscription(barId, sub.toJSON());
}

/** Tell the server where to push the bar's alerts: `subscription` is PushSubscription.toJSON(). */
export async function registerSubscription(barId, subscription) {
  const { endpoint, keys } = subscription;
  await api.post("/api/push/subscriptions", { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth }, bar_ids: [barId] });
  remember([...rememberedBars(), barId]);
}

/** Stop alerting this device about the bar (and drop the subscription when no bar is left). */
export async function disableAlerts(barId) {
  const { current } = await subscription();
  const left = rememberedBars().filter((id) => id !== barId);
  if (current) {
    await request("DELETE", "/api/push/subscriptions", { endpoint: current.endpoint, bar_ids: [barId] });
    if (!left.length) await current.unsubscribe();
  }
  remember(left);
}

/** Call `listener(payload)` for every alert the service worker receives while the app is open. */
export function onAlert(listener) {
  if (!("serviceWorker" in navigator)) return () => {};
  const handler = (event) => {
    if (event.data && event.data.type === "bt-alert") listener(event.data.payload);
  };
  navigator.serviceWorker.addEventListener("message", handler);
  return () => navigator.serviceWorker.removeEventListener("message", handler);
}
