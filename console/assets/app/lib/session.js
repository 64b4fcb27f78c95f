// The signed-in user. The refresh token never reaches this code: the API keeps it in an
// HttpOnly cookie scoped to /api/v1/auth (`session: "cookie"`). The access token lives only
// in this module's memory; a reload gets a new one from the cookie.
import { store } from "./store.js";

/// `{status: "loading" | "signed-out" | "signed-in", user?: {id, email, role, tenant_id}}`
export const session = store({ status: "loading" });

let access = null;
let expiresAt = 0;
let inFlight = null;

/// An error the API answered with: `status`, its `code` and `message`.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "http_" + status;
  }
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!res.ok) {
    let b = {};
    try {
      b = await res.json();
    } catch {
      // Not JSON: the status says enough.
    }
    throw new ApiError(res.status, b.code, b.message);
  }
  return res.status === 204 ? null : res.json();
}

function keep(pair) {
  access = pair.access_token;
  // A minute early, so a request never leaves with a token that dies on the way.
  expiresAt = Date.now() + (pair.expires_in - 60) * 1000;
}

async function loadMe(publish = true) {
  const res = await fetch("/api/v1/me", {
    headers: { Authorization: "Bearer " + access, Accept: "application/json" },
  });
  if (!res.ok) throw new ApiError(res.status, "me_failed");
  const user = await res.json();
  if (publish) session.set({ status: "signed-in", user });
  return user;
}

function signedOut() {
  access = null;
  expiresAt = 0;
  workspace = null;
  session.set({ status: "signed-out" });
}

/// Trades the cookie for a fresh access token. One at a time, across tabs too: the API
/// revokes a session whose refresh token is spent twice.
function refresh() {
  if (inFlight) return inFlight;
  const run = async () => {
    try {
      keep(await post("/api/v1/auth/refresh", {}));
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return false;
      throw e;
    }
  };
  const locked = navigator.locks
    ? navigator.locks.request("atende.refresh", run)
    : run();
  inFlight = locked.finally(() => {
    inFlight = null;
  });
  return inFlight;
}

/// On page load: a session cookie, if any, signs the user back in (back into their
/// workspace, for an admin who was working there in this tab).
export async function restore() {
  try {
    if (await refresh()) {
      // Published once, as what the tab shows: an admin back in their workspace never
      // lands on the admin console first.
      const user = await loadMe(false);
      if (wantsWorkspace() && isAdminRole(user.role)) {
        try {
          await enterWorkspace(user);
          return;
        } catch {
          rememberWorkspace(false);
        }
      }
      session.set({ status: "signed-in", user });
      return;
    }
  } catch {
    // Network trouble on boot: show sign-in; the cookie stays for the next try.
  }
  signedOut();
}

export async function signIn(email, password) {
  keep(await post("/api/v1/auth/login", { email, password, session: "cookie" }));
  return loadMe();
}

export async function signOut() {
  rememberWorkspace(false);
  try {
    await post("/api/v1/auth/logout", {});
  } finally {
    signedOut();
  }
}

/// The signed-in user's own valid access token, refreshed when close to expiry; null when
/// the session is over.
async function ownToken() {
  if (access && Date.now() < expiresAt) return access;
  if (await refresh()) return access;
  signedOut();
  return null;
}

// An admin working in their own workspace: the API's owner token for that tenant alone
// (it names the admin, so every action is recorded as theirs). Kept in memory like the
// admin's token; the tab remembers only *that* it is in the workspace.
let workspace = null;
const WORKSPACE_KEY = "atende.workspace";

const isAdminRole = (role) => role === "admin" || role === "super_admin";

function wantsWorkspace() {
  try {
    return sessionStorage.getItem(WORKSPACE_KEY) === "1";
  } catch {
    return false;
  }
}

function rememberWorkspace(on) {
  try {
    if (on) sessionStorage.setItem(WORKSPACE_KEY, "1");
    else sessionStorage.removeItem(WORKSPACE_KEY);
  } catch {
    // Not remembered across reloads; the admin opens it again.
  }
}

async function workspaceToken() {
  const token = await ownToken();
  if (!token) return null;
  const res = await fetch("/api/v1/admin/workspace", {
    method: "POST",
    headers: { Accept: "application/json", Authorization: "Bearer " + token },
  });
  if (!res.ok) {
    let b = {};
    try {
      b = await res.json();
    } catch {
      // Not JSON.
    }
    throw new ApiError(res.status, b.code, b.message);
  }
  const ws = await res.json();
  workspace = {
    token: ws.access_token,
    expiresAt: Date.now() + (ws.expires_in - 60) * 1000,
    tenant_id: ws.tenant_id,
  };
  return ws;
}

/// The admin opens their own workspace: the console becomes the tenant console of their
/// complimentary tenant, with owner rights there and nowhere else.
export async function enterWorkspace(admin = session.get().user) {
  const ws = await workspaceToken();
  rememberWorkspace(true);
  session.set({
    status: "signed-in",
    user: { ...admin, role: "owner", tenant_id: ws.tenant_id, workspace: true, admin },
  });
}

/// Back to the admin console.
export function leaveWorkspace() {
  const user = session.get().user;
  workspace = null;
  rememberWorkspace(false);
  if (user && user.admin) session.set({ status: "signed-in", user: user.admin });
}

/// A valid access token for the current view: the workspace's while the admin works there.
export async function accessToken() {
  if (!workspace) return ownToken();
  if (Date.now() < workspace.expiresAt) return workspace.token;
  await workspaceToken();
  return workspace ? workspace.token : null;
}

/// Calls the JSON API as the signed-in user; a 401 refreshes once and retries.
export async function api(path, { method = "GET", body, retried = false } = {}) {
  const token = await accessToken();
  if (!token) throw new ApiError(401, "unauthorized");
  const headers = { Accept: "application/json", Authorization: "Bearer " + token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && !retried) {
    expiresAt = 0;
    if (workspace) workspace.expiresAt = 0;
    return api(path, { method, body, retried: true });
  }
  if (!res.ok) {
    let b = {};
    try {
      b = await res.json();
    } catch {
      // Not JSON.
    }
    if (res.status === 401) signedOut();
    throw new ApiError(res.status, b.code, b.message);
  }
  // 204, and the 202s that only say "accepted", have no body.
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/// Unauthenticated JSON calls (sign-in pages).
export const publicPost = post;
