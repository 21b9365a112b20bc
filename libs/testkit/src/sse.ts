// Reads a server-sent events stream the way an agent's browser would.
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface SseReader {
  /** Resolves with the next event matching the predicate (events seen earlier count too). */
  next(predicate?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  events: SseEvent[];
  close(): void;
}

export async function readSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`SSE ${url} answered ${res.status}`);
  const events: SseEvent[] = [];
  const waiters: Array<{ predicate: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void; from: number }> = [];
  const consumed = new Set<number>();
  const deliver = () => {
    for (const w of [...waiters]) {
      const idx = events.findIndex((e, i) => i >= w.from && !consumed.has(i) && w.predicate(e));
      if (idx >= 0) {
        consumed.add(idx);
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(events[idx] as SseEvent);
      }
    }
  };
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let sep: number;
        while ((sep = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          const e: SseEvent = { event: "message", data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const [field, ...rest] = line.split(":");
            const value = rest.join(":").replace(/^ /, "");
            if (field === "event") e.event = value;
            else if (field === "data") data.push(value);
            else if (field === "id") e.id = value;
          }
          if (data.length === 0) continue;
          e.data = data.join("\n");
          events.push(e);
          deliver();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    next(predicate = () => true, timeoutMs = 30_000) {
      return new Promise<SseEvent>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching SSE event within ${timeoutMs} ms (seen: ${events.map((e) => e.event).join(",")})`)), timeoutMs);
        waiters.push({
          predicate,
          from: 0,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
        deliver();
      });
    },
    close() {
      controller.abort();
    },
  };
}
