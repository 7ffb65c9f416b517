// The page side of the outbox: sells through it, keeps the store's view of it current,
// replays it when the network returns (and asks for Background Sync where the browser has
// it), retrying busy answers with exponential backoff. A sale with no answer after
// ANSWER_WITHIN_MS is told "pending" and the seller carries on: it is already in the outbox
// under its id, and its send goes on (or is retried) behind. New sales stop once the phone
// has not heard from the server for the offline grace (a server setting, in the shell).

import { enqueue, entries, replay, onOutboxChange, withdraw, SYNC_TAG } from "./outbox.js";
import { uuid4 } from "./api.js";
import { store } from "./store.js";

const MAX_RETRY_MS = 60_000;
export const ANSWER_WITHIN_MS = 4000;
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
  const grace = Number(document.documentElement.dataset.offlineGraceS);
  if (grace > 0) store.offlineGraceMs = grace * 1000;
  onOutboxChange((message) => {
    if (message.kind === "sent" || message.kind === "rejected") store.noteContact();
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
 * the basket keeps it for the seller to fix) | {kind: "pending", reason} (kept, sent later:
 * reason "network", "busy", "timeout", ...) | {kind: "stopped"} (offline longer than the
 * grace: nothing stored, nothing sold).
 */
export async function sell(barId, lines, { answerWithinMs = ANSWER_WITHIN_MS } = {}) {
  if (store.offlineTooLong()) return { kind: "stopped" };
  const entry = await enqueue({
    id: uuid4(),
    bar_id: barId,
    // take_away only when set: a consumed-on-the-premises sale is a v1.2 sale (issue 16)
    items: lines.map((l) => ({ product_id: l.product_id, qty: l.qty, ...(l.take_away ? { take_away: true } : {}) })),
    occurred_at: new Date().toISOString(),
    lines: lines.map((l) => ({ product_id: l.product_id, name: l.name, qty: l.qty, unit_price: l.unit_price })),
  });
  interactive.add(entry.id);
  try {
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(resolve, answerWithinMs, null); });
    const outcome = await Promise.race([kick(), late]);
    clearTimeout(timer);
    if (outcome === null) { // no answer yet: the outbox carries on with it
      interactive.delete(entry.id);
      store.emit("no-answer"); // live.js checks its socket instead of saying "Online"
      return { kind: "pending", reason: "timeout", id: entry.id };
    }
    const { results, blocked } = outcome;
    const result = results.get(entry.id);
    if (result?.kind === "rejected") { // told at once: the basket takes its lines back
      await withdraw(entry);
      await refresh();
    }
    if (result) return result;
    interactive.delete(entry.id); // sent later by a replay: announced like any pending sale
    return { kind: "pending", reason: blocked ? blocked.reason : "queued", id: entry.id };
  } finally {
    // the outbox events of this sale may still be on their way
    setTimeout(() => interactive.delete(entry.id), 5000);
  }
}
