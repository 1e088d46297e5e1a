// The soak's chart as SVG text: a grid of small panels sharing the time axis, one polyline per series, the
// warm-up (left out of the verdict) shaded, one legend for all panels (series of the same name share a colour).
// Hand-written because it is a few dozen lines and needs no browser.

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const PANEL = { width: 440, height: 190, left: 58, right: 12, top: 26, bottom: 30 };
const COLUMNS = 2;

const names = [];
/** The same colour for every series of one name. */
function colourOf(name) {
  if (!names.includes(name)) names.push(name);
  return COLOURS[names.indexOf(name) % COLOURS.length];
}

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step for about `count` ticks over [0, max]. */
function tickStep(max, count) {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
}

const label = (v) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(2));

function panel({ title, unit, series }, x0, y0, minutes, warmupUntil) {
  const { width, height, left, right, top, bottom } = PANEL;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = series.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite);
  const yMax = Math.max(...values, 0) * 1.1 || 1;
  const yStep = tickStep(yMax, 4);
  const xStep = tickStep(minutes, 5);
  const px = (t) => x0 + left + (t / minutes) * plotW;
  const py = (v) => y0 + top + plotH - (v / yMax) * plotH;
  const out = [`<text x="${x0 + left}" y="${y0 + 16}" class="title">${escape(title)} (${escape(unit)})</text>`];
  out.push(`<rect x="${px(0)}" y="${y0 + top}" width="${px(warmupUntil) - px(0)}" height="${plotH}" class="warmup"/>`);
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${px(0)}" x2="${px(minutes)}" y1="${py(v)}" y2="${py(v)}" class="grid"/>`);
    out.push(`<text x="${px(0) - 5}" y="${py(v) + 4}" class="tick" text-anchor="end">${label(v)}</text>`);
  }
  for (let t = 0; t <= minutes + 1e-9; t += xStep) {
    out.push(`<text x="${px(t)}" y="${y0 + height - bottom + 15}" class="tick" text-anchor="middle">${label(t)}</text>`);
  }
  out.push(`<text x="${px(minutes)}" y="${y0 + height - 2}" class="tick" text-anchor="end">minutes</text>`);
  out.push(`<rect x="${px(0)}" y="${y0 + top}" width="${plotW}" height="${plotH}" class="frame"/>`);
  for (const s of series) {
    const points = s.points.filter(([, v]) => Number.isFinite(v)).map(([t, v]) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`);
    out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colourOf(s.name)}" stroke-width="1.6"/>`);
  }
  return out.join('\n');
}

/**
 * The SVG document.
 * @param {{ title: string, note: string, minutes: number, warmupUntil: number,
 *   panels: { title: string, unit: string, series: { name: string, points: [number, number][] }[] }[] }} chart
 *   points are [minutes since the start, value]; warmupUntil is the minute the verdict starts from
 */
export function soakChart({ title, note, minutes, warmupUntil, panels }) {
  const head = 74;
  const rows = Math.ceil(panels.length / COLUMNS);
  const width = COLUMNS * PANEL.width;
  const height = head + rows * PANEL.height;
  const body = panels.map((p, i) => panel(p, (i % COLUMNS) * PANEL.width, head + Math.floor(i / COLUMNS) * PANEL.height, minutes, warmupUntil));
  const legend = names.map((name, i) => `<text x="${10 + i * 110}" y="58" class="legend" fill="${colourOf(name)}">━ ${escape(name)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<style>
.title { font-size: 13px; font-weight: bold; fill: #222 } .tick { font-size: 10px; fill: #555 } .legend { font-size: 12px; font-weight: bold }
.grid { stroke: #e4e4e4 } .frame { fill: none; stroke: #999 } .warmup { fill: #f2f2f2 } .note { font-size: 10px; fill: #444 }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="15" font-weight="bold">${escape(title)}</text>
<text x="10" y="38" class="note">${escape(note)}</text>
${legend.join('\n')}<text x="${width - 10}" y="58" class="note" text-anchor="end">shaded: warm-up, left out of the verdict</text>
${body.join('\n')}
</svg>
`;
}
