// Draws latency against offered load (log-log) as SVG, and renders it to PNG with resvg, offline.
import { Resvg } from "@resvg/resvg-js";

export interface ChartSeries {
  label: string;
  color: string;
  points: Array<{ rate: number; p50: number | null; p99: number | null }>;
}

const W = 960;
const H = 600;
const M = { left: 80, right: 260, top: 56, bottom: 70 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function ticks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}

const label = (v: number) => (v >= 1000 ? `${v / 1000}k` : v >= 1 ? String(v) : v.toString());

export function latencyChartSvg(series: ChartSeries[], opts: { title: string; subtitle: string; targetMs: number }): string {
  const rates = series.flatMap((s) => s.points.map((p) => p.rate));
  const lat = series.flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99])).filter((v): v is number => v !== null && v > 0);
  const xMin = 10 ** Math.floor(Math.log10(Math.min(...rates, 50)));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(...rates, 100) * 1.05));
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...lat, opts.targetMs / 10))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...lat, opts.targetMs) * 1.5));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * pw;
  const y = (v: number) => M.top + ph - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${M.left}" y="26" font-size="18" font-weight="bold">${esc(opts.title)}</text>`);
  parts.push(`<text x="${M.left}" y="45" font-size="12" fill="#555">${esc(opts.subtitle)}</text>`);
  for (const t of ticks(xMin, xMax)) {
    parts.push(`<line x1="${x(t)}" y1="${M.top}" x2="${x(t)}" y2="${M.top + ph}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${x(t)}" y="${M.top + ph + 18}" font-size="12" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of ticks(yMin, yMax)) {
    parts.push(`<line x1="${M.left}" y1="${y(t)}" x2="${M.left + pw}" y2="${y(t)}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${M.left - 8}" y="${y(t) + 4}" font-size="12" text-anchor="end">${label(t)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" y1="${y(opts.targetMs)}" x2="${M.left + pw}" y2="${y(opts.targetMs)}" stroke="#d62728" stroke-dasharray="6,4" stroke-width="1.5"/>`);
  parts.push(`<text x="${M.left + 6}" y="${y(opts.targetMs) - 6}" font-size="12" fill="#d62728">target p99 ${opts.targetMs} ms</text>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 22}" font-size="14" text-anchor="middle">offered load (tickets/s, log scale)</text>`);
  parts.push(`<text transform="translate(22 ${M.top + ph / 2}) rotate(-90)" font-size="14" text-anchor="middle">intake-to-offer latency (ms, log scale)</text>`);
  let ly = M.top + 10;
  for (const s of series) {
    for (const [q, dash, width] of [
      ["p99", "", 2.5],
      ["p50", "5,4", 1.8],
    ] as const) {
      const pts = s.points.filter((p) => p[q] !== null).map((p) => `${x(p.rate).toFixed(1)},${y(p[q] as number).toFixed(1)}`);
      if (pts.length > 1) parts.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${s.color}" stroke-width="${width}" ${dash ? `stroke-dasharray="${dash}"` : ""}/>`);
      for (const p of s.points) {
        const v = p[q];
        if (v !== null)
          parts.push(
            q === "p99"
              ? `<circle cx="${x(p.rate)}" cy="${y(v)}" r="4" fill="${s.color}"/>`
              : `<rect x="${x(p.rate) - 3}" y="${y(v) - 3}" width="6" height="6" fill="#fff" stroke="${s.color}"/>`,
          );
        // A percentile that fell on a lost ticket: drawn as an arrow at the top edge.
        else parts.push(`<text x="${x(p.rate)}" y="${M.top + 14}" font-size="14" fill="${s.color}" text-anchor="middle">▲</text>`);
      }
    }
    const lx = M.left + pw + 16;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"/><text x="${lx + 36}" y="${ly + 4}" font-size="12">${esc(s.label)} p99</text>`,
    );
    ly += 20;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="1.8" stroke-dasharray="5,4"/><text x="${lx + 36}" y="${ly + 4}" font-size="12">${esc(s.label)} p50</text>`,
    );
    ly += 28;
  }
  parts.push(`<text x="${M.left + pw + 16}" y="${ly + 4}" font-size="11" fill="#555">▲ at the top: the percentile fell</text>`);
  parts.push(`<text x="${M.left + pw + 16}" y="${ly + 19}" font-size="11" fill="#555">on a lost or failed ticket</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${parts.join("")}</svg>`;
}

export function renderPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, fitTo: { mode: "original" } }).render().asPng();
}
