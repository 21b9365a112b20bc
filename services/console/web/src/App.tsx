// The shell: sign-in, then the agent desk or the supervisor dashboard by the token's roles (a person with
// both switches between them).
import { useEffect, useState } from "react";
import { Alert, Anchor, AppShell, Badge, Button, Container, Group, PasswordInput, SegmentedControl, Stack, Text, Title } from "@mantine/core";
import { loadSession, signIn, signOut, type Session } from "./session.ts";
import { finishSignIn, signInConfig, startSignIn, type OidcConfig } from "./oidc.ts";
import { AgentView } from "./AgentView.tsx";
import { SupervisorView } from "./SupervisorView.tsx";

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [signInError, setSignInError] = useState<string | null>(null);
  // Back from the identity provider: exchange the code for a token.
  useEffect(() => {
    finishSignIn()
      .then((token) => {
        if (token === null) return;
        const s = signIn(token);
        if (s === null) setSignInError("the identity provider's token is not a JWT");
        else setSession(s);
      })
      .catch((err: unknown) => setSignInError(err instanceof Error ? err.message : String(err)));
  }, []);
  const isAgent = session?.roles.includes("agent") ?? false;
  const oversees = (session?.roles.includes("supervisor") ?? false) || (session?.roles.includes("admin") ?? false);
  const [view, setView] = useState<"desk" | "dashboard">(isAgent ? "desk" : "dashboard");

  if (session === null) return <SignIn onSignIn={setSession} providerError={signInError} />;
  return (
    <AppShell header={{ height: 56 }} padding="md">
      <a
        href="#main"
        className="skip-link"
        style={{ position: "absolute", left: -9999 }}
        onFocus={(e) => (e.currentTarget.style.left = "8px")}
        onBlur={(e) => (e.currentTarget.style.left = "-9999px")}
      >
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Title order={1} size="h4">
              Steward
            </Title>
            {isAgent && oversees && (
              <SegmentedControl
                aria-label="View"
                size="xs"
                value={view}
                onChange={(v) => setView(v)}
                data={[
                  { label: "My desk", value: "desk" },
                  { label: "Dashboard", value: "dashboard" },
                ]}
              />
            )}
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Text size="sm" data-testid="signed-in-as">
              {session.subject}
            </Text>
            {session.roles.map((r) => (
              <Badge key={r} variant="light">
                {r}
              </Badge>
            ))}
            <Button
              size="xs"
              variant="subtle"
              onClick={() => {
                signOut();
                setSession(null);
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main id="main">{isAgent && (view === "desk" || !oversees) ? <AgentView session={session} /> : <SupervisorView session={session} />}</AppShell.Main>
    </AppShell>
  );
}

function SignIn({ onSignIn, providerError }: { onSignIn: (s: Session) => void; providerError: string | null }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [oidc, setOidc] = useState<OidcConfig | null>(null);
  useEffect(() => {
    signInConfig()
      .then(setOidc)
      .catch(() => setOidc(null));
  }, []);
  return (
    <Container size="xs" pt={80}>
      <Stack>
        <Title order={1}>Steward console</Title>
        {providerError && (
          <Alert color="red" role="alert" title="Not signed in">
            {providerError}
          </Alert>
        )}
        {oidc && (
          <Button size="md" onClick={() => void startSignIn(oidc)}>
            Sign in with {new URL(oidc.issuer).host}
          </Button>
        )}
        <Text>
          Sign in with your organisation&apos;s token. For local development, open one of the sign-in links that <code>./steward start</code> prints, or paste the output of{" "}
          <code>./steward token --agent ada</code>.
        </Text>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const s = signIn(token);
            if (s === null) setError("That is not a token (expected a JWT).");
            else onSignIn(s);
          }}
        >
          <Stack>
            <PasswordInput label="Token" value={token} onChange={(e) => setToken(e.currentTarget.value)} error={error} autoFocus />
            <Button type="submit">Sign in</Button>
          </Stack>
        </form>
        <Anchor href="/docs" size="sm">
          The console&apos;s API (OpenAPI)
        </Anchor>
      </Stack>
    </Container>
  );
}
