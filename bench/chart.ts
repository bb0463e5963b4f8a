import { existsSync } from 'node:fs';

/** Small SVG line charts (no dependency), rendered to PNG with @resvg/resvg-js. */

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  /** Shown under the title, e.g. the medians the lines belong to. */
  note?: string;
  yMax?: number;
}

export const colors = { temporal: '#1f6fd1', direct: '#e0701b', extra: '#2a9d4b', grey: '#888888' };

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1, 2 or 5 times a power of ten, so that about `count` ticks cover [0, max]. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw)!;
  return step;
}

const formatTick = (value: number) => {
  if (value === 0) return '0';
  if (Math.abs(value) >= 10_000) return `${Math.round(value / 1000)}k`;
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(value % 1000 === 0 ? 0 : 1)}k`;
  if (Math.abs(value) < 1) return value.toFixed(2).replace(/0+$/, '');
  return String(Math.round(value * 10) / 10);
};

function panelSvg(panel: Panel, x0: number, y0: number, width: number, height: number): string {
  const margin = { left: 70, right: 20, top: 52, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = panel.series.flatMap((series) => series.points);
  const parts: string[] = [];
  parts.push(
    `<text x="${x0 + width / 2}" y="${y0 + 20}" text-anchor="middle" font-size="16" font-weight="bold">${escape(panel.title)}</text>`,
  );
  if (panel.note) {
    parts.push(
      `<text x="${x0 + width / 2}" y="${y0 + 38}" text-anchor="middle" font-size="12" fill="#444">${escape(panel.note)}</text>`,
    );
  }
  const left = x0 + margin.left;
  const top = y0 + margin.top;
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#999"/>`,
  );
  if (all.length === 0) {
    parts.push(
      `<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" font-size="14" fill="#888">no data</text>`,
    );
    return parts.join('\n');
  }

  const yMax = panel.yMax ?? Math.max(...all.map(([, y]) => y)) * 1.05;
  const yStep = niceStep(yMax);
  const yTop = Math.max(yStep, Math.ceil(yMax / yStep) * yStep);
  const yAt = (y: number) => top + plotH - (y / yTop) * plotH;

  let xAt: (x: number) => number;
  const xTicks: number[] = [];
  if (panel.logX) {
    const positive = all.map(([x]) => x).filter((x) => x > 0);
    const lo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
    const span = Math.log10(hi) - Math.log10(lo) || 1;
    xAt = (x: number) => left + ((Math.log10(Math.max(x, lo)) - Math.log10(lo)) / span) * plotW;
    for (let tick = lo; tick <= hi * 1.0001; tick *= 10) xTicks.push(tick);
  } else {
    const xMax = Math.max(...all.map(([x]) => x)) || 1;
    const xStep = niceStep(xMax, 6);
    const xRight = Math.ceil(xMax / xStep) * xStep;
    xAt = (x: number) => left + (x / xRight) * plotW;
    for (let tick = 0; tick <= xRight + xStep / 2; tick += xStep) xTicks.push(tick);
  }

  for (let tick = 0; tick <= yTop + yStep / 2; tick += yStep) {
    const y = yAt(tick);
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e2e2e2"/>`);
    parts.push(
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="12">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = xAt(tick);
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotH}" stroke="#e2e2e2"/>`);
    parts.push(
      `<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" font-size="12">${formatTick(tick)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle" font-size="13">${escape(panel.xLabel)}</text>`,
  );
  const yLabelX = x0 + 16;
  const yLabelY = top + plotH / 2;
  parts.push(
    `<text x="${yLabelX}" y="${yLabelY}" text-anchor="middle" font-size="13" transform="rotate(-90 ${yLabelX} ${yLabelY})">${escape(panel.yLabel)}</text>`,
  );

  for (const series of panel.series) {
    if (series.points.length === 0) continue;
    const path = series.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${xAt(x).toFixed(1)},${yAt(Math.min(y, yTop)).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2.2"${series.dashed ? ' stroke-dasharray="7 4"' : ''}/>`,
    );
  }
  // Legend, top left inside the plot.
  panel.series.forEach((series, i) => {
    const ly = top + 16 + i * 18;
    parts.push(
      `<line x1="${left + 10}" y1="${ly - 4}" x2="${left + 36}" y2="${ly - 4}" stroke="${series.color}" stroke-width="2.5"${series.dashed ? ' stroke-dasharray="7 4"' : ''}/>`,
    );
    parts.push(`<text x="${left + 42}" y="${ly}" font-size="12">${escape(series.label)}</text>`);
  });
  return parts.join('\n');
}

/** Panels in a grid of two columns, with a heading line. */
export function chartSvg(heading: string, panels: Panel[], panelWidth = 620, panelHeight = 400): string {
  const columns = panels.length > 1 ? 2 : 1;
  const rows = Math.max(1, Math.ceil(panels.length / columns));
  const width = columns * panelWidth;
  const height = 40 + rows * panelHeight;
  const body = panels.map((panel, i) =>
    panelSvg(
      panel,
      (i % columns) * panelWidth,
      40 + Math.floor(i / columns) * panelHeight,
      panelWidth,
      panelHeight,
    ),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="18" font-weight="bold">${escape(heading)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** The SVG as PNG. Text needs a font: the system's, else DejaVu where Debian puts it. */
export async function renderPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const fontFiles = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'].filter((file) => existsSync(file));
  const resvg = new Resvg(svg, {
    background: 'white',
    font: { loadSystemFonts: true, fontFiles, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
