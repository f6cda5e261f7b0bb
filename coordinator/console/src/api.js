// The console's only door to the coordinator: its JSON API (docs/CONSOLE.md). Reads are GET
// with text arguments; changes are POST with a JSON body and the session's CSRF token.
let csrf = '';
let onLoggedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function whenLoggedOut(f) {
  onLoggedOut = f;
}

async function answer(res) {
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(res.status, 'bad_reply', `the coordinator answered ${res.status} without JSON`);
  }
  if (res.status === 401) onLoggedOut(body.message);
  if (!body.ok) throw new ApiError(res.status, body.code, body.message);
  return body.result;
}

export async function get(op, args = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(args)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return answer(await fetch(`/api/v1/${op}${qs ? '?' + qs : ''}`, { credentials: 'same-origin' }));
}

export async function post(op, args = {}) {
  return answer(await fetch(`/api/v1/${op}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(args),
  }));
}

// The session behind the cookie (and its CSRF token), or null when not logged in.
export async function session() {
  const s = await answer(await fetch('/api/session', { credentials: 'same-origin' }));
  if (!s.logged_in) return null;
  csrf = s.csrf_token;
  return s;
}

export async function login(token) {
  const s = await answer(await fetch('/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: token.trim() }),
  }));
  csrf = s.csrf_token;
  return s;
}

export async function logout() {
  await fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
  csrf = '';
}
