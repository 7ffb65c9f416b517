// The page side of the outbox: sells through it, keeps the store's view of it current,
// replays it when the network returns (and asks for Background Sync where the browser has
// it), retrying busy answers with exponential backoff.

import { enqueue, entries, replay, onOutboxChange, withdraw, SYNC_TAG } from "./outbox.js";
import { uuid4 } from "./api.js";
import { store } from "./store.js";

const MAX_RETRY_MS = 60_000;
let retryTimer = null;
let retryMs = 1000;
// sales this page is selling right now: their outcome is told by the sell screen itself
const interactive = new Set();

/** True while `sell()` of this page is still handling this sale id. */
export function isInteractive(id) {
  return interactive.has(id);
}

async function refresh() {
  store.setOutbox(await entries());
}

async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register(SYNC_TAG);
  } catch {
    // no Background Sync here: the online event and the retry timer replay instead
  }
}

function retryLater(seconds) {
  clearTimeout(retryTimer);
  const delay = Math.max(seconds * 1000, retryMs) * (0.8 + Math.random() * 0.4);
  retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  retryTimer = setTimeout(kick, delay);
}

/** Replay the outbox now; schedules the next attempt when something is left. */
export async function kick() {
  clearTimeout(retryTimer);
  let outcome;
  try {
    outcome = await replay();
  } catch {
    retryLater(5);
    return { results: new Map(), blocked: { reason: "error" } };
  }
  // "session": the login is gone; the login screen shows and the next login replays
  if (!outcome.blocked) retryMs = 1000;
  else if (outcome.blocked.reason !== "session") {
    if (outcome.blocked.reason === "network") requestBackgroundSync();
    retryLater(outcome.blocked.retryAfter);
  }
  return outcome;
}

export function startSync() {
  onOutboxChange((message) => {
    if (message.kind === "sent" && message.sale && store.bar && message.sale.bar_id === store.bar.id) {
      store.applyStock(message.sale.stock, message.sale.seq);
    }
    refresh();
  });
  window.addEventListener("online", () => { retryMs = 1000; kick(); });
  refresh().then(() => { if (store.outbox.some((e) => e.status === "pending")) kick(); });
}

/**
 * Sell the basket: the sale is stored in the outbox first, then sent. Resolves to
 * {kind: "sent", sale} | {kind: "rejected", problem} (the sale is withdrawn from the outbox:
 * the basket keeps it for the seller to fix) | {kind: "pending", reason} (kept, sent later).
 */
export async function sell(barId, lines) {
  const queuedBefore = store.outbox.some((e) => e.status === "pending");
  const entry = await enqueue({
    id: uuid4(),
    bar_id: barId,
    items: lines.map((l) => ({ product_id: l.product_id, qty: l.qty })),
    occurred_at: new Date().toISOString(),
    lines: lines.map((l) => ({ product_id: l.product_id, name: l.name, qty: l.qty, unit_price: l.unit_price })),
  });
  interactive.add(entry.id);
  try {
    const { results, blocked } = await kick();
    const result = results.get(entry.id);
    if (result?.kind === "rejected" && !queuedBefore) {
      await withdraw(entry);
      await refresh();
    }
    if (result) return result;
    interactive.delete(entry.id); // sent later by a replay: announced like any pending sale
    return { kind: "pending", reason: blocked ? blocked.reason : "queued" };
  } finally {
    // the outbox events of this sale may still be on their way
    setTimeout(() => interactive.delete(entry.id), 5000);
  }
}
