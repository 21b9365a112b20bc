// Sign-in with the organisation's OIDC provider: the authorization code flow with PKCE (S256), the page
// as a public client whose redirect URI is the console's own address. The access token it gets is what
// every Steward service verifies, as with any other token.
const PENDING = "steward.console.oidc";

export interface OidcConfig {
  issuer: string;
  clientId: string;
  scope: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const random = (n: number): string => base64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = (): string => `${window.location.origin}/`;

export async function signInConfig(): Promise<OidcConfig | null> {
  const res = await fetch("/sign-in.json");
  if (!res.ok) return null;
  return ((await res.json()) as { oidc: OidcConfig | null }).oidc;
}

/** Goes to the provider's sign-in page; it comes back to the console with ?code=…&state=…. */
export async function startSignIn(config: OidcConfig): Promise<void> {
  const verifier = random(48);
  const state = random(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, tokenEndpoint: config.tokenEndpoint, clientId: config.clientId }));
  const url = new URL(config.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/**
 * When the provider sent the person back (?code=…&state=…), exchanges the code for a token: the token, or
 * null when this is not such a return. Throws when the provider refused or the state does not match.
 */
export async function finishSignIn(): Promise<string | null> {
  const url = new URL(window.location.href);
  const code = url.searchParams.get("code");
  const state = url.searchParams.get("state");
  const error = url.searchParams.get("error");
  if (code === null && error === null) return null;
  window.history.replaceState(null, "", url.pathname);
  const pending = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (error !== null) throw new Error(`the identity provider refused: ${url.searchParams.get("error_description") ?? error}`);
  if (pending === null) throw new Error("no sign-in was started from this tab");
  const p = JSON.parse(pending) as { verifier: string; state: string; tokenEndpoint: string; clientId: string };
  if (p.state !== state) throw new Error("the sign-in answer does not match the request (state)");
  const res = await fetch(p.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: code ?? "", redirect_uri: redirectUri(), client_id: p.clientId, code_verifier: p.verifier }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`the identity provider gave no token: ${body.error_description ?? body.error ?? res.status}`);
  return body.access_token;
}
