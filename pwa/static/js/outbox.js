// The sales outbox: every sale is written here first (IndexedDB, survives reloads and
// reboots) with its client UUID and occurred_at, then sent. Replays go in insertion order,
// one at a time, under a lock shared with other tabs and the service worker. The server's
// answer wins: accepted sales leave the outbox, refused ones stay as "rejected" until a
// manager resolves them (money was taken for them: staff cannot erase that record; a resolved
// entry is kept, marked "resolved", out of the lists). Resending after a timeout is safe: the
// sale's id is the server's idempotency key, and the body sent is always the stored one, byte
// for byte the same.

import { outboxStore } from "./db.js";
import { withLock } from "./locks.js";
import { request, ApiError, NetworkError } from "./api.js";
import { SessionExpired, getSession } from "./auth.js";

export const SYNC_TAG = "bt-outbox";
// a sale's POST that has no answer by then is abandoned (and retried later, same id): Wi-Fi
// that is connected but passes no traffic must not hold the replay lock for minutes
export const SEND_TIMEOUT_MS = 10_000;
const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("bt-outbox") : null;
let localListeners = [];

/** Called with {kind: "queued"|"sent"|"rejected"|"resolved", entry, sale?} from any tab/worker. */
export function onOutboxChange(listener) {
  localListeners.push(listener);
  const relay = (event) => listener(event.data);
  channel?.addEventListener("message", relay);
  return () => {
    localListeners = localListeners.filter((l) => l !== listener);
    channel?.removeEventListener("message", relay);
  };
}

function announce(message) {
  localListeners.forEach((l) => l(message));
  channel?.postMessage(message);
}

/** Store a sale (status "pending") before anything is sent, as the logged-in seller's. */
export async function enqueue(sale) {
  const session = await getSession();
  const entry = { ...sale, user_id: session?.user?.id ?? null, status: "pending", problem: null, attempts: 0, queued_at: new Date().toISOString() };
  entry.n = await outboxStore.add(entry);
  announce({ kind: "queued", entry });
  return entry;
}

/** Pending and refused entries, oldest first (resolved ones are only kept as a record). */
export async function entries() {
  return (await outboxStore.all()).filter((e) => e.status !== "resolved").sort((a, b) => a.n - b.n);
}

/** A manager reviewed a refused sale (`by`: {id, name}); the entry leaves the lists. */
export async function resolve(entry, by) {
  if (entry.status !== "rejected") return;
  const resolved = { ...entry, status: "resolved", resolved_by: by, resolved_at: new Date().toISOString() };
  await outboxStore.put(resolved);
  announce({ kind: "resolved", entry: resolved });
}

/** Drop a rejected entry silently (the sell screen puts it back into the basket). */
export async function withdraw(entry) {
  await outboxStore.delete(entry.n);
}

function isFinalRefusal(err) {
  // 503 busy, 429, 408 and 5xx are transient: the same sale may go through later
  return err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status);
}

/**
 * Send every pending sale in order. Resolves to {results: Map(id -> outcome), blocked}
 * where outcome is {kind: "sent", sale} | {kind: "rejected", problem}, and blocked is
 * null or {reason: "network"|"busy"|"session", retryAfter} when it stopped early (the
 * remaining sales keep their order and wait for the next replay).
 */
export function replay() {
  return withLock("bt-outbox-replay", async () => {
    const results = new Map();
    const session = await getSession();
    if (!session) return { results, blocked: { reason: "session", retryAfter: 0 } };
    for (const entry of await entries()) {
      // a sale is only ever sent as the seller who made it (another login on this phone
      // leaves it waiting for its seller)
      if (entry.status !== "pending" || entry.user_id !== session.user.id) continue;
      const body = { id: entry.id, items: entry.items, occurred_at: entry.occurred_at };
      try {
        const { body: sale } = await request("POST", `/api/bars/${entry.bar_id}/sales`, body, { timeoutMs: SEND_TIMEOUT_MS });
        await outboxStore.delete(entry.n);
        results.set(entry.id, { kind: "sent", sale });
        announce({ kind: "sent", entry, sale });
      } catch (err) {
        if (isFinalRefusal(err)) {
          const rejected = { ...entry, status: "rejected", problem: err.problem, attempts: entry.attempts + 1 };
          await outboxStore.put(rejected);
          results.set(entry.id, { kind: "rejected", problem: err.problem });
          announce({ kind: "rejected", entry: rejected });
          continue;
        }
        await outboxStore.put({ ...entry, attempts: entry.attempts + 1 });
        if (err instanceof NetworkError) return { results, blocked: { reason: "network", retryAfter: 2 } };
        if (err instanceof SessionExpired) return { results, blocked: { reason: "session", retryAfter: 0 } };
        if (err instanceof ApiError) return { results, blocked: { reason: "busy", retryAfter: err.retryAfter } };
        throw err;
      }
    }
    return { results, blocked: null };
  });
}
