// The console's JSON API client: same-origin, the HttpOnly cookie goes by itself, the CSRF
// token (from login or /me) goes in x-csrf-token on every state-changing request.

let csrf = "";

export function setCsrf(token: string) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

export async function call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== "GET") {
    headers["x-csrf-token"] = csrf;
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`/console/api/${path}`, {
    method,
    headers,
    body: method === "GET" ? undefined : JSON.stringify(body ?? {}),
    credentials: "same-origin",
    cache: "no-store",
  });
  let json: any = null;
  try {
    json = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) throw new ApiError(res.status, json?.code ?? String(res.status), json?.message ?? res.statusText);
  return json as T;
}

export interface Operator {
  id: string;
  email: string;
  role: "reviewer" | "admin";
  must_change: boolean;
  tenant_id: string;
}

export interface SessionRow {
  id: string;
  reference: string | null;
  api: string;
  kind: string;
  status: string;
  created_at_ms: number;
  outcome: string | null;
  need_review: boolean | null;
  codes: string[];
  review: string | null;
}
