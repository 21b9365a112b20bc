// Calls to the console API and, through the console's proxy, to the public APIs of intake, the agent
// gateway and escalation, always with the signed-in person's token. Errors carry the services' stable code.
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.name = "ApiError";
  }
}

export type Service = "console" | "intake" | "routing" | "escalation";

export function pathOf(service: Service, path: string): string {
  return service === "console" ? path : `/api/${service}${path}`;
}

export async function call<T>(token: string, service: Service, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(pathOf(service, path), {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  const json: unknown = text === "" ? {} : JSON.parse(text);
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
  }
  return json as T;
}

export interface WorkEvent {
  id: string | null;
  kind: string;
  data: Record<string, unknown>;
}

/**
 * Follows an agent's live work stream (server-sent events over fetch, so the token goes in a header).
 * On a drop it reconnects with Last-Event-ID, so the gateway replays what was sent meanwhile; the open
 * offers and owned tickets come again on every connect.
 */
export function followWork(token: string, agentId: string, onEvent: (e: WorkEvent) => void, onState: (connected: boolean) => void): () => void {
  let stopped = false;
  let lastId: string | null = null;
  let controller = new AbortController();
  const run = async (): Promise<void> => {
    let delay = 500;
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(pathOf("routing", `/v1/agents/${encodeURIComponent(agentId)}/work`), {
          headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...(lastId === null ? {} : { "last-event-id": lastId }) },
          signal: controller.signal,
        });
        if (!res.ok || res.body === null) throw new Error(`stream answered ${res.status}`);
        onState(true);
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
            let kind = "message";
            let id: string | null = null;
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) kind = line.slice(6).trim();
              else if (line.startsWith("id:")) id = line.slice(3).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
            }
            if (id !== null) lastId = id;
            if (data.length > 0) onEvent({ id, kind, data: JSON.parse(data.join("\n")) as Record<string, unknown> });
          }
        }
      } catch {
        // Dropped or refused: try again shortly, from the last event seen.
      }
      onState(false);
      if (stopped) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(10_000, delay * 2);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
