// Refused offline sales are reviewed by a manager, on the phone that holds them: a manager
// logged in resolves them directly; on a staff phone a manager types their login here. That
// login is checked by the server (POST /api/auth/login), must be manager or owner of this bar,
// and is logged out at once: the staff member's own session is never replaced.

/** The manager {id, name} behind this login, or throws Error("bad_login" | "not_manager" | "network"). */
export async function managerOf(barId, email, password) {
  let response;
  try {
    response = await fetch("/api/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }),
    });
  } catch {
    throw new Error("network");
  }
  if (!response.ok) throw new Error(response.status >= 500 ? "network" : "bad_login");
  const body = await response.json();
  fetch("/api/auth/logout", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: body.refresh_token }),
  }).catch(() => null);
  const membership = (body.memberships || []).find((m) => m.bar_id === barId);
  if (!membership || !["manager", "owner"].includes(membership.role)) throw new Error("not_manager");
  return { id: body.user.id, name: body.user.name };
}
