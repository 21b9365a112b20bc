// How other services' events change the ticket view, as a pure fold: several events of one ticket are
// applied in order to what the store holds, so the projector can write them back in one update.
// Each change applies once per event id (an event already in the history is skipped whole).

export type TicketStatus = "new" | "triaged" | "waiting" | "offered" | "assigned" | "resolved";

export interface HistoryEntry {
  eventId: string;
  type: string;
  at: Date;
  actor?: string;
  detail?: Record<string, unknown>;
}

export interface SlaView extends Record<string, unknown> {
  revision: number;
}

/** The part of a ticket the projector owns, plus the history it appends to. */
export interface ProjectedFields {
  status: TicketStatus;
  language: string | null;
  intent: string | null;
  priority: string | null;
  group: string | null;
  requiredSkills: Array<{ name: string; minLevel: number; optional: boolean }>;
  ownerId: string | null;
  lastOwnerId: string | null;
  collaborators: string[];
  triage: Record<string, unknown> | null;
  sla: Record<string, unknown> | null;
}

/** A new ticket's projected fields: nothing triaged, routed, owned or clocked yet. */
export function emptyProjection(): ProjectedFields {
  return {
    status: "new",
    language: null,
    intent: null,
    priority: null,
    group: null,
    requiredSkills: [],
    ownerId: null,
    lastOwnerId: null,
    collaborators: [],
    triage: null,
    sla: null,
  };
}

/** Only the projected fields of a view (or of a stub). */
export function projectedFieldsOf(v: ProjectedFields): ProjectedFields {
  return {
    status: v.status,
    language: v.language,
    intent: v.intent,
    priority: v.priority,
    group: v.group,
    requiredSkills: v.requiredSkills,
    ownerId: v.ownerId,
    lastOwnerId: v.lastOwnerId,
    collaborators: v.collaborators,
    triage: v.triage,
    sla: v.sla,
  };
}

export interface ViewState extends ProjectedFields {
  history: HistoryEntry[];
}

/** One event's effect on the view. */
export interface ViewChange {
  entry: HistoryEntry;
  /** Fields set whenever the event is new (status is applied only when `onlyIfStatusIn` allows it). */
  set?: Partial<ProjectedFields>;
  /** Events from different topics may arrive out of order: the status moves only from these. */
  onlyIfStatusIn?: readonly TicketStatus[];
  addCollaborator?: string;
  /** Shown unless a newer (higher revision) SLA view is already shown. */
  sla?: SlaView;
}

export interface FoldResult {
  /** Projected fields that changed; empty when every change was already applied. */
  set: Partial<ProjectedFields>;
  /** History entries to append, in order. */
  entries: HistoryEntry[];
}

/** Applies `changes` in order to `state`; the result is what to write back (nothing when all were seen). */
export function foldViewChanges(state: ViewState, changes: readonly ViewChange[]): FoldResult {
  const seen = new Set(state.history.map((h) => h.eventId));
  const current: ProjectedFields = { ...state };
  const set: Partial<ProjectedFields> = {};
  const assign = <K extends keyof ProjectedFields>(key: K, value: ProjectedFields[K]) => {
    current[key] = value;
    set[key] = value;
  };
  const entries: HistoryEntry[] = [];
  for (const change of changes) {
    if (seen.has(change.entry.eventId)) continue;
    seen.add(change.entry.eventId);
    entries.push(change.entry);
    const { status, ...rest } = change.set ?? {};
    for (const [key, value] of Object.entries(rest) as Array<[keyof ProjectedFields, ProjectedFields[keyof ProjectedFields]]>) assign(key, value);
    if (status !== undefined && (!change.onlyIfStatusIn || change.onlyIfStatusIn.includes(current.status))) assign("status", status);
    if (change.addCollaborator && !current.collaborators.includes(change.addCollaborator)) assign("collaborators", [...current.collaborators, change.addCollaborator]);
    if (change.sla && !(typeof current.sla?.["revision"] === "number" && current.sla["revision"] >= change.sla.revision)) assign("sla", change.sla);
  }
  return { set, entries };
}

/**
 * The language a ticket's acknowledgement should go out in, or undefined when none is due: it is due once
 * the ticket's first (not re-) triage is in the history, until the acknowledgement's own line is. The
 * first triage decides the language. Order-independent: it does not matter which event came first.
 */
export function acknowledgementDue(history: readonly HistoryEntry[], acknowledgementEventId: string): string | undefined {
  if (history.some((h) => h.eventId === acknowledgementEventId)) return undefined;
  const first = history.find((h) => h.type === "ticket.triaged" && h.detail?.["retriage"] !== true);
  const language = first?.detail?.["language"];
  return first === undefined ? undefined : typeof language === "string" ? language : "";
}
