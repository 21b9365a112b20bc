// One ticket, whole: the conversation across channels (right to left for Arabic, Hebrew, Persian), the
// customer's language, triage's reasons, routing's "why you", the SLA clocks, replies and internal notes,
// waiting on the customer (pauses the clocks) and resolve.
import { useState } from "react";
import { Alert, Badge, Button, Card, Group, List, Paper, ScrollArea, SegmentedControl, Stack, Text, Textarea, Title } from "@mantine/core";
import { ApiError, call } from "./api.ts";
import { dirOf, languageName, time, until } from "./format.ts";
import type { TicketSummary, TicketView } from "./types.ts";
import { useNow, usePoll } from "./useNow.ts";

interface RoutingView {
  offers: Array<{ offerId: string; agentId: string; outcome: string; explanation?: { summary?: string; tieBreaker?: string; candidatesConsidered?: number } }>;
}

export function SlaClocks({ summary, now }: { summary: TicketSummary | null; now: number }) {
  const sla = summary?.sla;
  if (!sla)
    return (
      <Text size="sm" c="dimmed">
        No SLA clocks yet
      </Text>
    );
  return (
    <Group gap="xs" aria-label="SLA clocks">
      {sla.paused && <Badge color="gray">paused: waiting on the customer</Badge>}
      {sla.firstResponseDue && (
        <Badge variant="outline" color={summary.risk === "ok" ? "blue" : "red"}>
          first response {until(sla.firstResponseDue, now)}
        </Badge>
      )}
      {sla.nextResponseDue && <Badge variant="outline">next response {until(sla.nextResponseDue, now)}</Badge>}
      {sla.resolutionDue && <Badge variant="outline">resolution {until(sla.resolutionDue, now)}</Badge>}
      {summary.risk !== "ok" && <Badge color={summary.risk === "breached" ? "red" : "orange"}>{summary.risk === "breached" ? "breached" : "at risk"}</Badge>}
    </Group>
  );
}

export function TicketPanel({ token, ticketId, me, canAct, onChanged }: { token: string; ticketId: string; me: string; canAct: boolean; onChanged?: () => void }) {
  const now = useNow();
  const [view, setView] = useState<TicketView | null>(null);
  const [summary, setSummary] = useState<TicketSummary | null>(null);
  const [routing, setRouting] = useState<RoutingView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reply, setReply] = useState("");
  const [visibility, setVisibility] = useState<"public" | "internal">("public");
  const [busy, setBusy] = useState(false);

  const load = async () => {
    const [v, s, r] = await Promise.allSettled([
      call<TicketView>(token, "intake", `/v1/tickets/${encodeURIComponent(ticketId)}`),
      call<TicketSummary>(token, "console", `/v1/console/tickets/${encodeURIComponent(ticketId)}`),
      call<RoutingView>(token, "routing", `/v1/tickets/${encodeURIComponent(ticketId)}/routing`),
    ]);
    if (v.status === "fulfilled") setView(v.value);
    if (s.status === "fulfilled") setSummary(s.value);
    if (r.status === "fulfilled") setRouting(r.value);
  };
  // A supervisor's read of a ticket is audited by intake and routing: a supervisor (who does not act on it
  // here) reads it when opened and then twice a minute, not every few seconds.
  usePoll(load, canAct ? 3000 : 30_000, [ticketId, token]);

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      await load();
      onChanged?.();
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  };

  const language = view?.language ?? summary?.language ?? view?.customer.language ?? "";
  const dir = dirOf(language);
  const owner = view?.ownerId ?? summary?.ownerId ?? null;
  const isOwner = owner === me;
  const resolved = (view?.status ?? summary?.status) === "resolved";
  const whyMe = routing?.offers.filter((o) => o.agentId === (owner ?? me)).at(-1)?.explanation?.summary ?? summary?.offers.filter((o) => o.agentId === (owner ?? me)).at(-1)?.why;
  const reasons = view?.triage?.reasons ?? summary?.triageReasons ?? [];

  return (
    <Card withBorder padding="md" component="section" aria-label={`Ticket ${summary?.reference ?? ticketId}`}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={2} size="h4" dir={dir}>
              {view?.subject ?? summary?.subject ?? ticketId}
            </Title>
            <Text size="sm" c="dimmed">
              {summary?.reference} · {view?.customer.name ?? summary?.customerName ?? view?.customer.id} · {view?.channel ?? summary?.channel} · owner {owner ?? "none"}
            </Text>
          </div>
          <Group gap="xs">
            <Badge variant="light" data-testid="customer-language">
              {languageName(language)}
            </Badge>
            {(view?.priority ?? summary?.priority) && <Badge color="grape">{view?.priority ?? summary?.priority}</Badge>}
            <Badge color={resolved ? "green" : "blue"}>{view?.status ?? summary?.status}</Badge>
          </Group>
        </Group>
        <SlaClocks summary={summary} now={now} />
        <Group align="flex-start" grow>
          <Paper withBorder p="xs">
            <Text fw={600} size="sm">
              Triage&apos;s reasons
            </Text>
            <List size="sm">{reasons.length === 0 ? <List.Item>none yet</List.Item> : reasons.map((r) => <List.Item key={r}>{r}</List.Item>)}</List>
          </Paper>
          <Paper withBorder p="xs">
            <Text fw={600} size="sm">
              Why {owner === me ? "you" : (owner ?? "this agent")}
            </Text>
            <Text size="sm">{whyMe || "no offer explained yet"}</Text>
          </Paper>
        </Group>
        <ScrollArea.Autosize mah={360} type="auto">
          <Stack gap="xs" role="log" aria-label="Conversation">
            {(view?.messages ?? []).map((m) => (
              <Paper
                key={m.id}
                p="xs"
                radius="md"
                withBorder
                bg={m.visibility === "internal" ? "yellow.0" : m.from === "agent" ? "blue.0" : undefined}
                style={{ alignSelf: m.from === "agent" ? "flex-end" : "flex-start", maxWidth: "85%" }}
              >
                <Text size="xs" c="dimmed">
                  {m.from === "agent" ? `${m.agentId ?? "agent"}${m.visibility === "internal" ? " · internal note" : ""}` : "customer"} · {m.channel} · {time(m.at)}
                </Text>
                <Text
                  size="sm"
                  dir={m.from === "customer" ? dir : "auto"}
                  lang={m.from === "customer" ? language || undefined : undefined}
                  data-testid="message-body"
                  style={{ whiteSpace: "pre-wrap" }}
                >
                  {m.body}
                </Text>
              </Paper>
            ))}
          </Stack>
        </ScrollArea.Autosize>
        {error && (
          <Alert color="red" role="alert" title="Not done">
            {error}
          </Alert>
        )}
        {canAct && !resolved && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (reply.trim() === "") return;
              void act(async () => {
                await call(token, "routing", `/v1/tickets/${encodeURIComponent(ticketId)}/replies`, {
                  method: "POST",
                  body: { body: reply, visibility, clientMessageId: `console-${Date.now()}` },
                });
                setReply("");
              });
            }}
          >
            <Stack gap="xs">
              <SegmentedControl
                aria-label="Reply or internal note"
                value={visibility}
                onChange={(v) => setVisibility(v)}
                data={[
                  { label: "Reply to customer", value: "public", disabled: !isOwner },
                  { label: "Internal note", value: "internal" },
                ]}
              />
              <Textarea
                label={visibility === "public" ? "Reply" : "Internal note"}
                autosize
                minRows={2}
                maxRows={8}
                value={reply}
                onChange={(e) => setReply(e.currentTarget.value)}
                dir="auto"
              />
              <Group justify="space-between">
                <Group gap="xs">
                  <Button type="submit" loading={busy} disabled={reply.trim() === ""}>
                    Send
                  </Button>
                  {isOwner && (
                    <Button
                      variant="default"
                      disabled={busy}
                      onClick={() =>
                        void act(() =>
                          call(token, "escalation", `/v1/tickets/${encodeURIComponent(ticketId)}/sla/${summary?.sla?.paused ? "resume" : "pause"}`, { method: "POST" }),
                        )
                      }
                    >
                      {summary?.sla?.paused ? "Customer replied: resume SLA" : "Waiting on customer"}
                    </Button>
                  )}
                </Group>
                {isOwner && (
                  <Button
                    color="green"
                    disabled={busy}
                    onClick={() => void act(() => call(token, "routing", `/v1/tickets/${encodeURIComponent(ticketId)}/resolve`, { method: "POST" }))}
                  >
                    Resolve
                  </Button>
                )}
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Card>
  );
}
