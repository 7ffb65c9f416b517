// Calls to the BarTender API with the bearer token; failures become ApiError (carrying the
// RFC 9457 problem document) or NetworkError (no answer at all). No DOM: the worker uses it.

import { accessToken, NetworkError } from "./auth.js";

export { NetworkError };

export class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.type = problem.type;
    this.retryAfter = Number(headers.get("Retry-After")) || 1;
  }
}

/**
 * fetch with auth; returns the Response for any status, retrying once after a 401.
 * `timeoutMs`: give up (NetworkError) when no answer comes by then, e.g. Wi-Fi that is
 * connected but passes no traffic, where fetch alone would wait for minutes.
 */
export async function rawRequest(method, path, { body, headers = {}, timeoutMs } = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await accessToken({ force: attempt > 0 });
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: "no-store",
        signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
      });
    } catch (err) {
      throw new NetworkError(String(err));
    }
    if (response.status !== 401) return response;
  }
  throw new ApiError(401, { type: "unauthenticated", title: "Authentication required" }, new Headers());
}

/** JSON request; resolves to {status, body} on 2xx, rejects with ApiError otherwise. */
export async function request(method, path, body, { timeoutMs } = {}) {
  const response = await rawRequest(method, path, { body, timeoutMs });
  if (response.status === 204) return { status: 204, body: null };
  const parsed = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, parsed, response.headers);
  return { status: response.status, body: parsed };
}

export const api = {
  get: (path) => request("GET", path).then((r) => r.body),
  post: (path, body) => request("POST", path, body).then((r) => r.body),
  patch: (path, body) => request("PATCH", path, body).then((r) => r.body),
  delete: (path) => request("DELETE", path).then((r) => r.body),
};

/** A v4 UUID (crypto.randomUUID exists only in secure contexts; this works everywhere). */
export function uuid4() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
