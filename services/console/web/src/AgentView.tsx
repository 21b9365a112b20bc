// The agent's desk: presence, live offers with their countdown (accept / decline), notifications for
// follow-ups and SLA warnings, my tickets, and the selected ticket in full.
import { useEffect, useState } from "react";
import { useHotkeys } from "@mantine/hooks";
import { Alert, Badge, Button, Card, CloseButton, Grid, Group, Progress, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { ApiError, call, followWork, type WorkEvent } from "./api.ts";
import { dirOf, languageName, until } from "./format.ts";
import type { Session } from "./session.ts";
import type { TicketSummary } from "./types.ts";
import { TicketPanel } from "./TicketPanel.tsx";
import { useNow, usePoll } from "./useNow.ts";

interface LiveOffer {
  offerId: string;
  ticketId: string;
  expiresAt: string | null;
  receivedAt: number;
  subject: string;
  channel: string;
  priority: string;
  detail: string;
}

interface Notice {
  key: string;
  kind: string;
  ticketId: string;
  text: string;
}

const NOTICE_TEXT: Record<string, string> = {
  follow_up: "The customer wrote again",
  sla_warning: "SLA warning",
  sla_breach: "SLA breached",
  escalation: "Escalated",
  collaborator_added: "A collaborator joined",
  reassigned_away: "Reassigned to someone else",
  assignment: "Assigned to you",
};

export function AgentView({ session }: { session: Session }) {
  const me = session.subject;
  const now = useNow();
  const [presence, setPresence] = useState<string>("offline");
  const [connected, setConnected] = useState(false);
  const [offers, setOffers] = useState<LiveOffer[]>([]);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [tickets, setTickets] = useState<TicketSummary[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadTickets = async () => {
    const res = await call<{ tickets: TicketSummary[] }>(session.token, "console", `/v1/console/tickets?owner=${encodeURIComponent(me)}&limit=100`);
    setTickets(res.tickets);
  };
  usePoll(loadTickets, 3000, [session.token]);

  useEffect(() => {
    call<{ presence?: { status?: string } | string; status?: string }>(session.token, "routing", `/v1/agents/${encodeURIComponent(me)}`)
      .then((a) => setPresence(typeof a.presence === "string" ? a.presence : (a.presence?.status ?? a.status ?? "offline")))
      .catch((err: unknown) => setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)));
  }, [session.token, me]);

  useEffect(() => {
    const onEvent = (e: WorkEvent) => {
      const d = e.data as Record<string, string | undefined>;
      const ticketId = d["ticketId"] ?? "";
      if (e.kind === "offer" && d["offerId"]) {
        const offer: LiveOffer = {
          offerId: d["offerId"],
          ticketId,
          expiresAt: d["expiresAt"] ?? null,
          receivedAt: Date.now(),
          subject: d["subject"] ?? "",
          channel: d["channel"] ?? "",
          priority: d["priority"] ?? "",
          detail: d["detail"] ?? "",
        };
        setOffers((list) => (list.some((o) => o.offerId === offer.offerId) ? list : [...list, offer]));
        return;
      }
      if (e.kind === "offer_closed") {
        setOffers((list) => list.filter((o) => o.offerId !== d["offerId"]));
        return;
      }
      if (e.kind === "assignment") setOffers((list) => list.filter((o) => o.ticketId !== ticketId));
      const text = NOTICE_TEXT[e.kind];
      if (text !== undefined) {
        const key = e.id ?? `${e.kind}-${ticketId}-${d["messageId"] ?? d["detail"] ?? ""}`;
        setNotices((list) =>
          list.some((n) => n.key === key) ? list : [{ key, kind: e.kind, ticketId, text: `${text}${d["detail"] ? `: ${d["detail"]}` : ""}` }, ...list].slice(0, 20),
        );
        void loadTickets().catch(() => undefined);
      }
    };
    return followWork(session.token, me, onEvent, setConnected);
  }, [session.token, me]);

  const act = async (what: () => Promise<unknown>) => {
    setError(null);
    try {
      await what();
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };

  const changePresence = (status: string) =>
    act(async () => {
      await call(session.token, "routing", `/v1/agents/${encodeURIComponent(me)}/presence`, { method: "POST", body: { status } });
      setPresence(status);
      if (status !== "available") setOffers([]);
    });

  const accept = (o: LiveOffer) =>
    act(async () => {
      await call(session.token, "routing", `/v1/offers/${encodeURIComponent(o.offerId)}/accept`, { method: "POST" });
      setOffers((list) => list.filter((x) => x.offerId !== o.offerId));
      setSelected(o.ticketId);
      await loadTickets();
    });
  const decline = (o: LiveOffer) =>
    act(async () => {
      await call(session.token, "routing", `/v1/offers/${encodeURIComponent(o.offerId)}/decline`, { method: "POST", body: { reason: "declined from the console" } });
      setOffers((list) => list.filter((x) => x.offerId !== o.offerId));
    });

  // The first offer is answered from the keyboard too, wherever the focus is.
  useHotkeys([
    ["alt+A", () => void (offers[0] ? accept(offers[0]) : undefined)],
    ["alt+D", () => void (offers[0] ? decline(offers[0]) : undefined)],
  ]);

  const open = tickets.filter((t) => t.status !== "resolved" && t.ownerId === me);
  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, md: 4 }}>
        <Stack gap="md">
          <Card withBorder padding="sm" component="section" aria-label="Presence">
            <Group justify="space-between">
              <Title order={2} size="h5">
                Presence
              </Title>
              <Badge color={connected ? "green" : "gray"} variant="dot">
                {connected ? "live" : "reconnecting"}
              </Badge>
            </Group>
            <SegmentedControl
              mt="xs"
              fullWidth
              aria-label="Presence"
              value={presence}
              onChange={(v) => void changePresence(v)}
              data={[
                { label: "Available", value: "available" },
                { label: "Away", value: "away" },
                { label: "Offline", value: "offline" },
              ]}
            />
          </Card>
          {error && (
            <Alert color="red" role="alert" withCloseButton onClose={() => setError(null)} title="Not done">
              {error}
            </Alert>
          )}
          <Card withBorder padding="sm" component="section" aria-label="Offers">
            <Title order={2} size="h5">
              Offers
            </Title>
            {offers.length === 0 && (
              <Text size="sm" c="dimmed">
                {presence === "available" ? "Waiting for work…" : "Go available to receive offers."}
              </Text>
            )}
            {offers.length > 0 && (
              <Text size="xs" c="dimmed">
                Alt+A accepts the first offer, Alt+D declines it
              </Text>
            )}
            <Stack gap="xs" mt="xs" aria-live="polite">
              {offers.map((o) => {
                const total = o.expiresAt ? Math.max(1, Date.parse(o.expiresAt) - o.receivedAt) : 1;
                const left = o.expiresAt ? Math.max(0, Date.parse(o.expiresAt) - now) : 0;
                return (
                  <Card key={o.offerId} withBorder padding="xs" data-testid="offer">
                    <Text fw={600} size="sm" dir="auto">
                      {o.subject || o.ticketId}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {o.channel} · {o.priority} · {o.detail}
                    </Text>
                    <Progress value={(left / total) * 100} size="sm" mt={4} aria-label={`Time left to accept: ${until(o.expiresAt, now)}`} />
                    <Text size="xs">expires {until(o.expiresAt, now)}</Text>
                    <Group gap="xs" mt={4}>
                      <Button size="xs" onClick={() => void accept(o)} aria-keyshortcuts={o === offers[0] ? "Alt+A" : undefined}>
                        Accept
                      </Button>
                      <Button size="xs" variant="default" onClick={() => void decline(o)} aria-keyshortcuts={o === offers[0] ? "Alt+D" : undefined}>
                        Decline
                      </Button>
                    </Group>
                  </Card>
                );
              })}
            </Stack>
          </Card>
          <Card withBorder padding="sm" component="section" aria-label="Notifications">
            <Title order={2} size="h5">
              Notifications
            </Title>
            <Stack gap={4} mt="xs" role="status" aria-live="polite">
              {notices.length === 0 && (
                <Text size="sm" c="dimmed">
                  Nothing new
                </Text>
              )}
              {notices.map((n) => (
                <Group key={n.key} gap="xs" wrap="nowrap" justify="space-between">
                  <Text
                    size="sm"
                    c={n.kind === "sla_breach" ? "red" : n.kind === "sla_warning" ? "orange" : undefined}
                    style={{ cursor: "pointer" }}
                    onClick={() => setSelected(n.ticketId)}
                  >
                    {n.text} ({n.ticketId.slice(0, 8)})
                  </Text>
                  <CloseButton size="sm" aria-label="Dismiss notification" onClick={() => setNotices((l) => l.filter((x) => x.key !== n.key))} />
                </Group>
              ))}
            </Stack>
          </Card>
          <Card withBorder padding="sm" component="section" aria-label="My tickets">
            <Title order={2} size="h5">
              My tickets
            </Title>
            <Table highlightOnHover mt="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Subject</Table.Th>
                  <Table.Th>Language</Table.Th>
                  <Table.Th>SLA</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {open.map((t) => (
                  <Table.Tr key={t.id} bg={selected === t.id ? "blue.0" : undefined}>
                    <Table.Td>
                      <Button variant="subtle" size="compact-sm" onClick={() => setSelected(t.id)} dir={dirOf(t.language)} aria-label={`Open ticket ${t.reference}: ${t.subject}`}>
                        {t.subject || t.reference}
                      </Button>
                    </Table.Td>
                    <Table.Td>{languageName(t.language)}</Table.Td>
                    <Table.Td>
                      <Badge size="sm" tt="none" style={{ overflow: "visible" }} color={t.risk === "ok" ? "blue" : t.risk === "at_risk" ? "orange" : "red"}>
                        {t.risk === "ok" ? until(t.sla?.firstResponseDue ?? t.sla?.resolutionDue, now) : t.risk.replace("_", " ")}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {open.length === 0 && (
              <Text size="sm" c="dimmed">
                No open tickets
              </Text>
            )}
          </Card>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 8 }}>
        {selected === null ? (
          <Text c="dimmed">Choose a ticket, or accept an offer.</Text>
        ) : (
          <TicketPanel token={session.token} ticketId={selected} me={me} canAct onChanged={() => void loadTickets().catch(() => undefined)} />
        )}
      </Grid.Col>
    </Grid>
  );
}
