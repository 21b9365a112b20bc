// The signed-in person: a bearer token from the sign-in link (?token=…) or pasted in, kept for this tab
// only. Its claims are read for display; the services verify the token on every call.
const KEY = "steward.console.token";

export interface Session {
  token: string;
  subject: string;
  roles: string[];
  groups: string[];
  expiresAt: number;
}

function decode(token: string): Session | null {
  const part = token.split(".")[1];
  if (part === undefined) return null;
  try {
    const json = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as { sub?: string; roles?: string[]; groups?: string[]; exp?: number };
    if (typeof json.sub !== "string") return null;
    return { token, subject: json.sub, roles: json.roles ?? [], groups: json.groups ?? [], expiresAt: (json.exp ?? 0) * 1000 };
  } catch {
    return null;
  }
}

/** The session from the URL (then removed from it, so it is not bookmarked or shared) or from this tab. */
export function loadSession(): Session | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl !== null) {
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    const s = decode(fromUrl);
    if (s !== null) sessionStorage.setItem(KEY, fromUrl);
    return s;
  }
  const kept = sessionStorage.getItem(KEY);
  const s = kept === null ? null : decode(kept);
  return s !== null && s.expiresAt > Date.now() ? s : null;
}

export function signIn(token: string): Session | null {
  const s = decode(token.trim());
  if (s !== null) sessionStorage.setItem(KEY, s.token);
  return s;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
