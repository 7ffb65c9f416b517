// The login session, kept in IndexedDB so the service worker can replay sales too.
// Access tokens last minutes, refresh tokens rotate on every use: refreshing happens under a
// lock and re-reads the session first, so a page and the worker never spend the same token.

import { kv } from "./db.js";
import { withLock } from "./locks.js";

const KEY = "session";
const EARLY_S = 30; // refresh this long before the access token expires
let listeners = [];

export class NetworkError extends Error {}
export class SessionExpired extends Error {}

export function onSessionChange(listener) {
  listeners.push(listener);
  return () => { listeners = listeners.filter((l) => l !== listener); };
}

function fromLogin(body) {
  return {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: Date.now() + body.expires_in * 1000,
    user: body.user,
    memberships: body.memberships,
  };
}

export async function getSession() {
  return (await kv.get(KEY)) || null;
}

async function store(session) {
  if (session) await kv.set(KEY, session);
  else await kv.delete(KEY);
  listeners.forEach((l) => l(session));
  return session;
}

async function postJson(path, payload) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
  } catch (err) {
    throw new NetworkError(String(err));
  }
  const body = await response.json().catch(() => ({}));
  return { response, body };
}

/** Log in; resolves to the session or rejects with the problem document. */
export async function login(email, password) {
  const { response, body } = await postJson("/api/auth/login", { email, password });
  if (!response.ok) throw Object.assign(new Error(body.title || "login failed"), { problem: body, status: response.status });
  return store(fromLogin(body));
}

/** Create an account, then log in with it; rejects with the problem document. */
export async function signup(name, email, password) {
  const { response, body } = await postJson("/api/auth/signup", { name, email, password });
  if (!response.ok) throw Object.assign(new Error(body.title || "signup failed"), { problem: body, status: response.status });
  return login(email, password);
}

/** Keep the session's memberships current (a bar created or joined since login), under the
 * refresh lock so a concurrent refresh's rotated token is never overwritten. */
export async function setMemberships(memberships) {
  return withLock("bt-auth", async () => {
    const current = await getSession();
    if (!current) return null;
    return store({ ...current, memberships });
  });
}

export async function logout() {
  const session = await getSession();
  await store(null);
  if (session) postJson("/api/auth/logout", { refresh_token: session.refresh_token }).catch(() => {});
}

/** A valid access token, refreshing (once, under the lock) when it is about to expire. */
export async function accessToken({ force = false } = {}) {
  const seen = await getSession();
  if (!seen) throw new SessionExpired("not logged in");
  if (!force && seen.expires_at - EARLY_S * 1000 > Date.now()) return seen.access_token;
  return withLock("bt-auth", async () => {
    const current = await getSession();
    if (!current) throw new SessionExpired("not logged in");
    // someone else refreshed while we waited for the lock: use their token
    if (current.refresh_token !== seen.refresh_token && current.expires_at - EARLY_S * 1000 > Date.now()) {
      return current.access_token;
    }
    const { response, body } = await postJson("/api/auth/refresh", { refresh_token: current.refresh_token });
    if (response.status === 401) {
      await store(null);
      throw new SessionExpired(body.detail || "session expired");
    }
    if (!response.ok) throw new NetworkError(`refresh answered ${response.status}`);
    const next = fromLogin(body);
    await store(next);
    return next.access_token;
  });
}
