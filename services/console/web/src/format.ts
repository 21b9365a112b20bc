// Small display rules: right-to-left languages, language names, durations and countdowns.
const RTL = new Set(["ar", "he", "fa", "ur", "yi"]);

export function dirOf(language: string | null | undefined): "rtl" | "ltr" {
  return language !== null && language !== undefined && RTL.has(language.toLowerCase().slice(0, 2)) ? "rtl" : "ltr";
}

const names = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "language" }) : null;

export function languageName(code: string | null | undefined): string {
  if (!code) return "unknown";
  try {
    return `${names?.of(code) ?? code} (${code})`;
  } catch {
    return code;
  }
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

/** "in 4m 10s" or "overdue 1m 2s" for a deadline. */
export function until(iso: string | null | undefined, now: number): string {
  if (!iso) return "–";
  const ms = Date.parse(iso) - now;
  return ms >= 0 ? `in ${duration(ms)}` : `overdue ${duration(-ms)}`;
}

export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "–";
}
