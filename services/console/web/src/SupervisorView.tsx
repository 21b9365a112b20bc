// The supervisor's dashboard: live queues per group, agents (presence, load, current tickets, declines),
// tickets at risk or breached with reassign (a reason is required) and pause / resume of the SLA, a
// ticket search, and the last 24 hours as charts.
import { useState } from "react";
import { BarChart } from "@mantine/charts";
import { Alert, Badge, Button, Card, Grid, Group, Modal, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Textarea, Title } from "@mantine/core";
import { ApiError, call } from "./api.ts";
import { dirOf, duration, languageName, until } from "./format.ts";
import type { Session } from "./session.ts";
import type { AgentSnapshot, Analytics, Queue, TicketSummary } from "./types.ts";
import { TicketPanel } from "./TicketPanel.tsx";
import { useNow, usePoll } from "./useNow.ts";

export function SupervisorView({ session }: { session: Session }) {
  const now = useNow();
  const [queues, setQueues] = useState<Queue[]>([]);
  const [agents, setAgents] = useState<AgentSnapshot[]>([]);
  const [atRisk, setAtRisk] = useState<TicketSummary[]>([]);
  const [analytics, setAnalytics] = useState<Analytics | null>(null);
  const [tab, setTab] = useState<string | null>("queues");
  const [reassigning, setReassigning] = useState<TicketSummary | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  usePoll(
    async () => {
      const [q, a, r] = await Promise.all([
        call<{ queues: Queue[] }>(session.token, "console", "/v1/console/queues"),
        call<{ agents: AgentSnapshot[] }>(session.token, "console", "/v1/console/agents"),
        call<{ tickets: TicketSummary[] }>(session.token, "console", "/v1/console/at-risk"),
      ]);
      setQueues(q.queues);
      setAgents(a.agents);
      setAtRisk(r.tickets);
    },
    2000,
    [session.token],
  );
  usePoll(async () => setAnalytics(await call<Analytics>(session.token, "console", "/v1/console/analytics")), 10_000, [session.token]);

  const slaAction = async (t: TicketSummary, action: "pause" | "resume") => {
    setError(null);
    try {
      await call(session.token, "escalation", `/v1/tickets/${encodeURIComponent(t.id)}/sla/${action}`, { method: "POST" });
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };

  const ticketRows = (list: TicketSummary[]) =>
    list.map((t) => (
      <Table.Tr key={t.id}>
        <Table.Td>
          <Button variant="subtle" size="compact-sm" dir={dirOf(t.language)} onClick={() => setSelected(t.id)} aria-label={`Open ticket ${t.reference}: ${t.subject}`}>
            {t.subject || t.reference}
          </Button>
        </Table.Td>
        <Table.Td>{t.reference}</Table.Td>
        <Table.Td>{t.group}</Table.Td>
        <Table.Td>{t.ownerId ?? "—"}</Table.Td>
        <Table.Td>{languageName(t.language)}</Table.Td>
        <Table.Td>
          <Badge size="sm" color={t.risk === "breached" ? "red" : t.risk === "at_risk" ? "orange" : "blue"}>
            {t.risk === "ok" ? t.status : t.risk.replace("_", " ")}
          </Badge>{" "}
          {t.sla && !t.sla.paused && (
            <Text span size="xs">
              {until(t.sla.firstResponseDue ?? t.sla.resolutionDue, now)}
            </Text>
          )}
          {t.sla?.paused && (
            <Text span size="xs">
              paused
            </Text>
          )}
        </Table.Td>
        <Table.Td>
          <Group gap={4} wrap="nowrap">
            <Button size="compact-xs" onClick={() => setReassigning(t)} aria-label={`Reassign ${t.reference}`}>
              Reassign
            </Button>
            {t.sla && (
              <Button
                size="compact-xs"
                variant="default"
                onClick={() => void slaAction(t, t.sla?.paused ? "resume" : "pause")}
                aria-label={`${t.sla.paused ? "Resume" : "Pause"} SLA of ${t.reference}`}
              >
                {t.sla.paused ? "Resume SLA" : "Pause SLA"}
              </Button>
            )}
          </Group>
        </Table.Td>
      </Table.Tr>
    ));
  const ticketHead = (
    <Table.Thead>
      <Table.Tr>
        <Table.Th>Subject</Table.Th>
        <Table.Th>Reference</Table.Th>
        <Table.Th>Group</Table.Th>
        <Table.Th>Owner</Table.Th>
        <Table.Th>Language</Table.Th>
        <Table.Th>SLA</Table.Th>
        <Table.Th>Actions</Table.Th>
      </Table.Tr>
    </Table.Thead>
  );

  return (
    <Stack gap="md">
      <div>
        <Title order={2} size="h3">
          Supervisor dashboard
        </Title>
        <Text size="sm" c="dimmed">
          {session.groups.length > 0 ? `Groups: ${session.groups.join(", ")}` : "All groups"} · live, refreshed every 2 s
        </Text>
      </div>
      {error && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setError(null)} title="Not done">
          {error}
        </Alert>
      )}
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="queues">Queues</Tabs.Tab>
          <Tabs.Tab value="agents">Agents</Tabs.Tab>
          <Tabs.Tab
            value="at-risk"
            rightSection={
              atRisk.length > 0 ? (
                <Badge size="xs" color="red">
                  {atRisk.length}
                </Badge>
              ) : null
            }
          >
            At risk
          </Tabs.Tab>
          <Tabs.Tab value="tickets">Tickets</Tabs.Tab>
          <Tabs.Tab value="analytics">Last 24 hours</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="queues" pt="md">
          <Table.ScrollContainer minWidth={560}>
            <Table striped aria-label="Queues per group">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Group</Table.Th>
                  <Table.Th>Waiting</Table.Th>
                  <Table.Th>Offered now</Table.Th>
                  <Table.Th>Oldest wait</Table.Th>
                  <Table.Th>At risk</Table.Th>
                  <Table.Th>Breached</Table.Th>
                  <Table.Th>Open</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {queues.map((q) => (
                  <Table.Tr key={q.group} data-testid={`queue-${q.group}`}>
                    <Table.Td>{q.group}</Table.Td>
                    <Table.Td data-testid="waiting">{q.waiting}</Table.Td>
                    <Table.Td>{q.offered}</Table.Td>
                    <Table.Td>{duration(q.oldestWaitMs)}</Table.Td>
                    <Table.Td>{q.atRisk > 0 ? <Badge color="orange">{q.atRisk}</Badge> : 0}</Table.Td>
                    <Table.Td>{q.breached > 0 ? <Badge color="red">{q.breached}</Badge> : 0}</Table.Td>
                    <Table.Td>{q.open}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Tabs.Panel>
        <Tabs.Panel value="agents" pt="md">
          <Table.ScrollContainer minWidth={560}>
            <Table striped aria-label="Agents">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Agent</Table.Th>
                  <Table.Th>Presence</Table.Th>
                  <Table.Th>Load per channel</Table.Th>
                  <Table.Th>Current tickets</Table.Th>
                  <Table.Th>Declines (24 h)</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {agents.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>
                      {a.name}{" "}
                      <Text span size="xs" c="dimmed">
                        ({a.id})
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={a.presence === "available" ? "green" : a.presence === "away" ? "yellow" : "gray"}>{a.presence}</Badge>
                    </Table.Td>
                    <Table.Td>
                      {Object.entries(a.load)
                        .filter(([, l]) => l.capacity > 0 || l.owned > 0)
                        .map(([c, l]) => `${c} ${l.owned}/${l.capacity}`)
                        .join(" · ")}
                    </Table.Td>
                    <Table.Td>{a.currentTickets.length}</Table.Td>
                    <Table.Td>{a.declines}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Tabs.Panel>
        <Tabs.Panel value="at-risk" pt="md">
          {atRisk.length === 0 ? (
            <Text c="dimmed">No open ticket is at risk.</Text>
          ) : (
            <Table.ScrollContainer minWidth={720}>
              <Table aria-label="Tickets at risk or breached">
                {ticketHead}
                <Table.Tbody>{ticketRows(atRisk)}</Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="tickets" pt="md">
          <TicketSearch token={session.token} head={ticketHead} rows={ticketRows} />
        </Tabs.Panel>
        <Tabs.Panel value="analytics" pt="md">
          {analytics && <AnalyticsPanel a={analytics} />}
        </Tabs.Panel>
      </Tabs>
      {selected !== null && (
        <Stack gap={4}>
          <Group justify="flex-end">
            <Button size="xs" variant="subtle" onClick={() => setSelected(null)}>
              Close ticket
            </Button>
          </Group>
          <TicketPanel token={session.token} ticketId={selected} me={session.subject} canAct={false} />
        </Stack>
      )}
      <ReassignDialog token={session.token} ticket={reassigning} agents={agents} onClose={() => setReassigning(null)} />
    </Stack>
  );
}

function TicketSearch({ token, head, rows }: { token: string; head: React.ReactNode; rows: (list: TicketSummary[]) => React.ReactNode }) {
  const [status, setStatus] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [found, setFound] = useState<TicketSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const search = async () => {
    const q = new URLSearchParams();
    if (status) q.set("status", status);
    const t = text.trim();
    if (/^st-/i.test(t)) q.set("reference", t);
    else if (t.startsWith("owner:")) q.set("owner", t.slice(6));
    else if (t.startsWith("group:")) q.set("group", t.slice(6));
    else if (t !== "") q.set("customer", t);
    try {
      setError(null);
      setFound((await call<{ tickets: TicketSummary[] }>(token, "console", `/v1/console/tickets?${q.toString()}`)).tickets);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  usePoll(search, 5000, [token, status]);
  return (
    <Stack>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <Group align="flex-end">
          <Select label="Status" clearable value={status} onChange={setStatus} data={["new", "triaged", "waiting", "offered", "assigned", "resolved"]} w={160} />
          <TextInput label="Reference, customer id, owner:<agent> or group:<name>" value={text} onChange={(e) => setText(e.currentTarget.value)} style={{ flex: 1 }} />
          <Button type="submit">Search</Button>
        </Group>
      </form>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={720}>
        <Table aria-label="Tickets found">
          {head}
          <Table.Tbody>{rows(found)}</Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

function ReassignDialog({ token, ticket, agents, onClose }: { token: string; ticket: TicketSummary | null; agents: AgentSnapshot[]; onClose: () => void }) {
  const [to, setTo] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setTo(null);
    setReason("");
    setError(null);
    onClose();
  };
  return (
    <Modal opened={ticket !== null} onClose={close} title={`Reassign ${ticket?.reference ?? ""}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (ticket === null || to === null || reason.trim() === "") {
            setError("Choose an agent and give a reason.");
            return;
          }
          setBusy(true);
          call(token, "routing", `/v1/tickets/${encodeURIComponent(ticket.id)}/reassign`, { method: "POST", body: { toAgentId: to, reason: reason.trim() } })
            .then(close)
            .catch((err: unknown) => setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)))
            .finally(() => setBusy(false));
        }}
      >
        <Stack>
          <Text size="sm" dir={dirOf(ticket?.language)}>
            {ticket?.subject}
          </Text>
          <Select
            label="New owner"
            required
            searchable
            value={to}
            onChange={setTo}
            data={agents.filter((a) => a.id !== ticket?.ownerId).map((a) => ({ value: a.id, label: `${a.name} (${a.presence})` }))}
          />
          <Textarea label="Reason" required description="Recorded in the ticket's history and the audit log" value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Reassign
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function AnalyticsPanel({ a }: { a: Analytics }) {
  const pct = a.slaAttainment.ratio === null ? "–" : `${Math.round(a.slaAttainment.ratio * 100)}%`;
  const stat = (label: string, value: string, hint?: string) => (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="xl">
        {value}
      </Text>
      {hint && <Text size="xs">{hint}</Text>}
    </Card>
  );
  return (
    <Stack>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }}>
        {stat("Tickets in", String(a.ticketsIn))}
        {stat("Time to first offer", `p50 ${duration(a.timeToFirstOffer.p50Ms)}`, `p90 ${duration(a.timeToFirstOffer.p90Ms)}`)}
        {stat("Time to owner", `p50 ${duration(a.timeToOwner.p50Ms)}`, `p90 ${duration(a.timeToOwner.p90Ms)}`)}
        {stat("SLA attainment", pct, `${a.slaAttainment.met} met, ${a.slaAttainment.breached} breached`)}
        {stat("Repeat contacts", String(a.repeatContacts))}
      </SimpleGrid>
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Card withBorder>
            <Title order={3} size="h5" mb="xs">
              Tickets in per hour
            </Title>
            <BarChart
              h={200}
              data={a.ticketsInByHour.map((b) => ({ hour: new Date(b.hour).getHours().toString().padStart(2, "0"), tickets: b.count }))}
              dataKey="hour"
              series={[{ name: "tickets", color: "blue.6" }]}
            />
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Card withBorder>
            <Title order={3} size="h5" mb="xs">
              Top intents
            </Title>
            <BarChart h={200} data={a.topIntents} dataKey="intent" series={[{ name: "count", color: "teal.6" }]} />
          </Card>
        </Grid.Col>
        <Grid.Col span={12}>
          <Card withBorder>
            <Title order={3} size="h5" mb="xs">
              Declines per agent (fairness)
            </Title>
            <BarChart
              h={200}
              data={a.declinesPerAgent}
              dataKey="agentId"
              series={[
                { name: "offers", color: "gray.5" },
                { name: "declines", color: "red.6" },
              ]}
            />
          </Card>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
