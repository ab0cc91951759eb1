// Plain SVG charts (no library, no CDN): horizontal bars, stacked day bars, a signal chart with
// positive and negative contributions. Each chart has a <title> and a text table fallback via
// aria-label, so screen readers get the numbers.

import { s } from "./dom";

const COLOURS = ["#0b57d0", "#1a7f37", "#8a5a00", "#6e40c9", "#b42318"];

export interface Bar {
  label: string;
  value: number;
  text?: string;
}

/** Horizontal bars, one per row. */
export function hbars(title: string, bars: Bar[], opts: { width?: number; colour?: string; max?: number } = {}): SVGElement {
  const width = opts.width ?? 520;
  const rowH = 24;
  const labelW = 190;
  const max = opts.max ?? Math.max(1e-9, ...bars.map((b) => b.value));
  const svg = s("svg", { width, height: bars.length * rowH + 8, role: "img", "aria-label": `${title}: ${bars.map((b) => `${b.label} ${b.text ?? b.value}`).join("; ")}` });
  svg.append(s("title", {}, title));
  bars.forEach((b, i) => {
    const y = i * rowH + 4;
    const w = Math.max(1, ((width - labelW - 60) * b.value) / max);
    svg.append(s("text", { x: 0, y: y + 15 }, b.label));
    svg.append(s("rect", { x: labelW, y: y + 3, width: w, height: rowH - 8, fill: opts.colour ?? COLOURS[0] }));
    svg.append(s("text", { x: labelW + w + 6, y: y + 15 }, b.text ?? String(b.value)));
  });
  return svg;
}

export interface Signal {
  name: string;
  value: number | null;
  contribution: number;
}

/** Signals as bars around a zero line: right = towards attack, left = towards live. */
export function signalChart(title: string, signals: Signal[]): SVGElement {
  const width = 620;
  const rowH = 24;
  const labelW = 170;
  const mid = labelW + (width - labelW) / 2;
  const half = (width - labelW) / 2 - 50;
  const max = Math.max(1e-9, ...signals.map((x) => Math.abs(x.contribution)));
  const svg = s("svg", { width, height: signals.length * rowH + 10, role: "img", "aria-label": `${title}: ${signals.map((x) => `${x.name} ${x.contribution.toFixed(3)}`).join("; ")}` });
  svg.append(s("title", {}, title));
  svg.append(s("line", { x1: mid, x2: mid, y1: 0, y2: signals.length * rowH + 10, stroke: "#57606a" }));
  signals.forEach((x, i) => {
    const y = i * rowH + 5;
    const w = (half * Math.abs(x.contribution)) / max;
    const right = x.contribution >= 0;
    svg.append(s("text", { x: 0, y: y + 15 }, x.name));
    svg.append(s("rect", { x: right ? mid : mid - w, y: y + 3, width: Math.max(1, w), height: rowH - 8, fill: right ? "#b42318" : "#1a7f37" }));
    const label = `${x.contribution >= 0 ? "+" : ""}${x.contribution.toFixed(3)}${x.value === null ? " (n/a)" : ""}`;
    svg.append(s("text", { x: right ? mid + w + 4 : mid - w - 4, y: y + 15, "text-anchor": right ? "start" : "end" }, label));
  });
  return svg;
}

export interface DayStack {
  day: number;
  parts: Record<string, number>;
}

/** One stacked column per day, one colour per series; a legend below. */
export function dayStacks(title: string, days: DayStack[], series: string[]): SVGElement {
  const width = 620;
  const height = 220;
  const left = 36;
  const bottom = 40;
  const n = Math.max(1, days.length);
  const colW = (width - left - 10) / n;
  const max = Math.max(1, ...days.map((d) => series.reduce((a, k) => a + (d.parts[k] ?? 0), 0)));
  const desc = days.map((d) => `${dayLabel(d.day)} ${series.map((k) => `${k} ${d.parts[k] ?? 0}`).join(", ")}`).join("; ");
  const svg = s("svg", { width, height: height + 24, role: "img", "aria-label": `${title}: ${desc}` });
  svg.append(s("title", {}, title));
  svg.append(s("text", { x: 0, y: 12 }, String(max)));
  svg.append(s("line", { x1: left, x2: width, y1: height - bottom, y2: height - bottom, stroke: "#57606a" }));
  days.forEach((d, i) => {
    let y = height - bottom;
    series.forEach((k, j) => {
      const v = d.parts[k] ?? 0;
      if (v <= 0) return;
      const hgt = ((height - bottom - 16) * v) / max;
      y -= hgt;
      svg.append(s("rect", { x: left + i * colW + 2, y, width: Math.max(2, colW - 4), height: hgt, fill: COLOURS[j % COLOURS.length] }));
    });
    if (n <= 14 || i % Math.ceil(n / 10) === 0) svg.append(s("text", { x: left + i * colW + 2, y: height - bottom + 14 }, dayLabel(d.day).slice(5)));
  });
  series.forEach((k, j) => {
    svg.append(s("rect", { x: left + j * 110, y: height - 8, width: 12, height: 12, fill: COLOURS[j % COLOURS.length] }));
    svg.append(s("text", { x: left + j * 110 + 16, y: height + 3 }, k));
  });
  return svg;
}

export function dayLabel(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}
