// Hand-built SVG grouped bar charts. A results chart should be readable in a
// browser, a PR comment or a README without any tooling, and building the
// markup by hand avoids a charting dependency for ~200 lines of layout.
//
// Layout: a header (title, subtitle, legend), then one panel per entry of
// `panels`, stacked vertically, each with its own y-scale (pipelined and
// unpipelined ops/s differ by an order of magnitude and would squash each
// other on a shared axis), then an optional footnote.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface BarSeries {
  name: string;
  color: string;
}

export interface BarGroup {
  label: string;
  sublabel?: string;
  /** One value per series; null (or NaN) draws "n/a". */
  values: readonly (number | null)[];
  /** Pill above the group, e.g. a ratio "0.97×" coloured by verdict. */
  badge?: { text: string; tone?: 'good' | 'bad' | 'neutral' };
  /** Optional [min, max] whisker per series, e.g. the spread of repeated runs. */
  ranges?: readonly ([number, number] | null)[];
  /** Dashed line at `value`, across bar `seriesIndex` (or the whole group). */
  marker?: { value: number; seriesIndex?: number };
}

export interface BarPanel {
  title: string;
  /** Lighter text after the title on the same line. */
  note?: string;
  groups: readonly BarGroup[];
}

export interface BarChartSpec {
  title: string;
  subtitle?: string;
  /** Y axis title, e.g. "ops/s". */
  yAxisLabel: string;
  series: readonly BarSeries[];
  panels: readonly BarPanel[];
  /** Legend entry for the dashed marker line (omitted when undefined). */
  markerLegend?: string;
  /** Legend entries explaining badge colours, e.g. [{ text: "meets target", tone: "good" }]. */
  badgeLegend?: readonly { text: string; tone: 'good' | 'bad' | 'neutral' }[];
  /** Small print under the chart; " · " separated parts are wrapped as units. */
  footnote?: string;
  width?: number;
  /** Formats bar labels and y ticks (default: compact, e.g. 152k, 1.23M). */
  formatValue?: (v: number) => string;
}

const FONT = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif";
const INK = '#111827';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';
const TONES = {
  good: { fg: '#166534', bg: '#dcfce7', stroke: '#86efac' },
  bad: { fg: '#9a3412', bg: '#ffedd5', stroke: '#fdba74' },
  neutral: { fg: '#374151', bg: '#f3f4f6', stroke: '#d1d5db' },
} as const;

const M = { left: 92, right: 28 };
const PLOT_H = 240;
const PANEL_TITLE_H = 40;
const X_LABELS_H = 52;
const PANEL_GAP = 18;

export async function writeBarChartSvg(file: string, spec: BarChartSpec): Promise<string> {
  const svg = renderBarChartSvg(spec);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, svg, 'utf8');
  return svg;
}

export function renderBarChartSvg(spec: BarChartSpec): string {
  const fmt = spec.formatValue ?? formatCompact;
  const maxGroups = Math.max(1, ...spec.panels.map((p) => p.groups.length));
  const edge = M.left - 64; // left edge of title, legend and footnote
  const width = spec.width ?? Math.ceil(Math.max(760, M.left + M.right + maxGroups * 112, 2 * edge + legendWidth(spec)));
  const wrapAt = (size: number): number => Math.floor((width - 2 * edge) / (size * 0.6));
  const out: string[] = [];
  let y = 42;
  out.push(text(edge, y, spec.title, { size: 22, weight: 700 }));
  for (const line of spec.subtitle ? wrap(spec.subtitle, wrapAt(14)) : []) {
    out.push(text(edge, (y += 22), line, { size: 14, fill: '#4b5563' }));
  }
  y += 36;
  out.push(legend(edge, y, spec));
  y += 26;
  for (const panel of spec.panels) {
    out.push(renderPanel(panel, y, width, spec, fmt));
    y += PANEL_TITLE_H + PLOT_H + X_LABELS_H + PANEL_GAP;
  }
  if (spec.footnote) {
    for (const line of wrap(spec.footnote, wrapAt(11.5))) {
      out.push(text(edge, y, line, { size: 11.5, fill: MUTED }));
      y += 16;
    }
  }
  const height = Math.ceil(y + 8);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${esc(FONT)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

function legendWidth(spec: BarChartSpec): number {
  let w = 0;
  for (const s of spec.series) w += 20 + textWidth(s.name, 13.5) + 26;
  if (spec.markerLegend) w += 32 + textWidth(spec.markerLegend, 13) + 22;
  for (const b of spec.badgeLegend ?? []) w += textWidth(b.text, 12) + 16 + 10;
  return w;
}

function legend(x: number, y: number, spec: BarChartSpec): string {
  const parts: string[] = [];
  for (const s of spec.series) {
    parts.push(`<rect x="${x}" y="${y - 11}" width="14" height="14" rx="3" fill="${s.color}"/>`);
    parts.push(text(x + 20, y, s.name, { size: 13.5, weight: 600 }));
    x += 20 + textWidth(s.name, 13.5) + 26;
  }
  if (spec.markerLegend) {
    parts.push(markerLine(x, x + 26, y - 4));
    parts.push(text(x + 32, y, spec.markerLegend, { size: 13, fill: '#374151' }));
    x += 32 + textWidth(spec.markerLegend, 13) + 22;
  }
  for (const b of spec.badgeLegend ?? []) {
    parts.push(pill(x + (textWidth(b.text, 12) + 16) / 2, y - 15, b.text, b.tone));
    x += textWidth(b.text, 12) + 16 + 10;
  }
  return parts.join('\n');
}

function renderPanel(panel: BarPanel, top: number, width: number, spec: BarChartSpec, fmt: (v: number) => string): string {
  const parts: string[] = [];
  const x0 = M.left;
  const x1 = width - M.right;
  const plotTop = top + PANEL_TITLE_H;
  const base = plotTop + PLOT_H;

  parts.push(
    `<text x="${x0 - 64}" y="${top + 22}" font-size="15" fill="${INK}"><tspan font-weight="700">${esc(panel.title)}</tspan>` +
      (panel.note ? `<tspan dx="12" fill="${MUTED}" font-size="13" font-weight="400">${esc(panel.note)}</tspan>` : '') +
      '</text>',
  );

  // Y scale: leave ~48 px above the tallest bar for its value label and badge.
  const maxV = Math.max(
    0,
    ...panel.groups.flatMap((g) => [
      ...g.values.map((v) => (v !== null && Number.isFinite(v) ? v : 0)),
      ...(g.ranges ?? []).map((r) => (r && Number.isFinite(r[1]) ? r[1] : 0)),
      g.marker?.value ?? 0,
    ]),
  );
  const needed = (maxV > 0 ? maxV : 1) * (PLOT_H / (PLOT_H - 48));
  const step = niceStep(needed / 5);
  const yMax = Math.ceil(needed / step) * step;
  const yOf = (v: number): number => base - (v / yMax) * PLOT_H;

  for (let v = 0; v <= yMax + step / 1000; v += step) {
    const yy = round(yOf(v));
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${yy}" y2="${yy}" stroke="${v === 0 ? '#9ca3af' : GRID}" stroke-width="1"/>`);
    parts.push(text(x0 - 10, yy + 4, v === 0 ? '0' : fmt(v), { size: 12, fill: MUTED, anchor: 'end' }));
  }
  const midY = round(plotTop + PLOT_H / 2);
  parts.push(
    `<text x="${x0 - 70}" y="${midY}" font-size="12.5" fill="${MUTED}" text-anchor="middle" transform="rotate(-90 ${x0 - 70} ${midY})">${esc(spec.yAxisLabel)}</text>`,
  );

  const n = Math.max(1, panel.groups.length);
  const groupW = (x1 - x0) / n;
  const nSeries = Math.max(1, spec.series.length);
  const barW = Math.min(48, (groupW * 0.7) / nSeries);
  const gap = Math.min(6, barW * 0.15);
  const totalW = nSeries * barW + (nSeries - 1) * gap;

  panel.groups.forEach((g, gi) => {
    const gx = x0 + gi * groupW;
    const cx = gx + groupW / 2;
    const barX = (si: number): number => gx + (groupW - totalW) / 2 + si * (barW + gap);
    const markerY = g.marker ? yOf(g.marker.value) : Infinity;
    let groupTop = base;

    spec.series.forEach((s, si) => {
      const v = g.values[si];
      const bx = barX(si);
      if (v === null || v === undefined || !Number.isFinite(v)) {
        parts.push(text(bx + barW / 2, base - 6, 'n/a', { size: 11, fill: MUTED, anchor: 'middle' }));
        groupTop = Math.min(groupTop, base - 20);
        return;
      }
      const by = yOf(v);
      parts.push(`<path d="${barPath(bx, by, barW, base - by)}" fill="${s.color}"><title>${esc(`${s.name} · ${g.label} ${g.sublabel ?? ''}: ${fmt(v)}`)}</title></path>`);
      let top = by;
      const range = g.ranges?.[si];
      if (range && Number.isFinite(range[0]) && Number.isFinite(range[1])) {
        parts.push(whisker(bx + barW / 2, yOf(range[0]), yOf(range[1]), Math.max(6, barW * 0.3)));
        top = Math.min(top, yOf(range[1]));
      }
      // Value label sits just above the bar (or whisker); if the marker line
      // would cut through it, it moves above the marker.
      const markerHere = g.marker && (g.marker.seriesIndex === undefined || g.marker.seriesIndex === si);
      const clashes = markerHere && markerY < top + 3 && markerY > top - 22;
      const labelY = (clashes ? Math.min(top, markerY) : top) - 6;
      const label = fmt(v);
      if (textWidth(label, 11) <= barW + 2) {
        parts.push(text(bx + barW / 2, labelY, label, { size: 11, fill: '#374151', anchor: 'middle' }));
        groupTop = Math.min(groupTop, labelY - 11);
      } else {
        groupTop = Math.min(groupTop, labelY);
      }
    });

    if (g.marker) {
      const si = g.marker.seriesIndex;
      // Overhang stays within half the bar gap so it never touches a neighbour's label.
      const over = Math.max(2, gap / 2);
      const mx0 = (si === undefined ? barX(0) : barX(si)) - over;
      const mx1 = (si === undefined ? barX(nSeries - 1) : barX(si)) + barW + over;
      parts.push(markerLine(mx0, mx1, yOf(g.marker.value)));
      groupTop = Math.min(groupTop, yOf(g.marker.value) - 4);
    }

    if (g.badge) parts.push(pill(cx, groupTop - 26, g.badge.text, g.badge.tone ?? 'neutral'));

    parts.push(text(cx, base + 21, g.label, { size: 13, weight: 600, anchor: 'middle' }));
    if (g.sublabel) parts.push(text(cx, base + 38, g.sublabel, { size: 12, fill: MUTED, anchor: 'middle' }));
  });
  return parts.join('\n');
}

/** Rounded label centred on `cx`, top edge at `top`, 20 px high. */
function pill(cx: number, top: number, label: string, toneName: keyof typeof TONES): string {
  const tone = TONES[toneName];
  const w = textWidth(label, 12) + 16;
  return (
    `<rect x="${round(cx - w / 2)}" y="${round(top)}" width="${round(w)}" height="20" rx="10" fill="${tone.bg}" stroke="${tone.stroke}"/>` +
    text(cx, top + 14, label, { size: 12, weight: 700, fill: tone.fg, anchor: 'middle' })
  );
}

/** Min-max whisker: a vertical line with caps, translucent so it reads on any bar colour. */
function whisker(x: number, yMin: number, yMax: number, capW: number): string {
  const [X, A, B, C] = [round(x), round(yMin), round(yMax), round(capW / 2)];
  return `<path d="M${X},${A}V${B}M${round(X - C)},${A}H${round(X + C)}M${round(X - C)},${B}H${round(X + C)}" stroke="${INK}" stroke-opacity="0.55" stroke-width="1.5" fill="none"/>`;
}

/** A dashed line with a white halo so it stays visible on top of a bar. */
function markerLine(xa: number, xb: number, y: number): string {
  const yy = round(y);
  return (
    `<line x1="${round(xa)}" x2="${round(xb)}" y1="${yy}" y2="${yy}" stroke="#ffffff" stroke-width="4" stroke-linecap="round"/>` +
    `<line x1="${round(xa)}" x2="${round(xb)}" y1="${yy}" y2="${yy}" stroke="${INK}" stroke-width="1.8" stroke-dasharray="5 3"/>`
  );
}

/** Bar with rounded top corners and a square base. */
function barPath(x: number, y: number, w: number, h: number): string {
  const r = Math.min(3, h, w / 2);
  const [X, Y, W, B] = [round(x), round(y), round(w), round(y + h)];
  return `M${X},${B}V${round(Y + r)}Q${X},${Y} ${round(X + r)},${Y}H${round(X + W - r)}Q${round(X + W)},${Y} ${round(X + W)},${round(Y + r)}V${B}Z`;
}

interface TextOpts {
  size: number;
  weight?: number;
  fill?: string;
  anchor?: 'start' | 'middle' | 'end';
}

function text(x: number, y: number, s: string, o: TextOpts): string {
  const attrs = [`x="${round(x)}"`, `y="${round(y)}"`, `font-size="${o.size}"`, `fill="${o.fill ?? INK}"`];
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.anchor && o.anchor !== 'start') attrs.push(`text-anchor="${o.anchor}"`);
  return `<text ${attrs.join(' ')}>${esc(s)}</text>`;
}

/** Rough width of sans-serif text; generous so that layouts never overlap. */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.6;
}

/** 1, 2, 2.5 or 5 times a power of ten, >= x. */
export function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const f = x / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

/** 52341 -> "52.3k", 1234567 -> "1.23M", 950 -> "950". */
export function formatCompact(v: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) {
    if (Math.abs(v) >= scale * 0.9995) return `${Number((v / scale).toPrecision(3))}${suffix}`;
  }
  return String(Number(v.toPrecision(3)));
}

function wrap(s: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of s.split(' · ')) {
    const candidate = line ? `${line} · ${part}` : part;
    if (candidate.length > maxChars && line) {
      lines.push(line);
      line = part;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

const round = (n: number): number => Math.round(n * 10) / 10;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
