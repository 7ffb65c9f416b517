// Cross-tab (and service worker) mutual exclusion through the Web Locks API, where present.
// Refreshing a rotating token twice in parallel would revoke the whole login, and two
// replays of the outbox would race: both run under a named lock.

export function withLock(name, work) {
  if (globalThis.navigator && navigator.locks && navigator.locks.request) {
    return navigator.locks.request(name, work);
  }
  return work();
}
