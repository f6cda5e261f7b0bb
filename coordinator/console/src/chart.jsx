// The console's charts, drawn as SVG: a line or scatter chart over aligned x/y arrays with axes,
// ticks and a legend, and an optional horizontal rule (a latency requirement T).
import { h } from './ui.js';

const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df'];
const colour = (i) => COLOURS[i % COLOURS.length];
const PAD = { left: 56, right: 14, top: 28, bottom: 42 };

// About `count` ticks across [lo, hi], a step of 1, 2 or 5 times a power of ten apart (the one
// nearest to an even split).
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const off = (s) => Math.abs(Math.log(s / raw));
  const step = [1, 2, 5, 10].map((m) => m * power).reduce((a, b) => (off(b) < off(a) ? b : a));
  const out = [];
  // Whole multiples of the step, each computed afresh: a running sum would print 0 as 5.6e-17.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

// Whole numbers on the x axis when every x is one (versions, a count): no tick at version 1.05.
const xTicks = (x, lo, hi) => (x.every(Number.isInteger) ? ticks(lo, hi).filter(Number.isInteger) : ticks(lo, hi));

const label = (v) => String(Number(v.toPrecision(4)));

// [lo, hi] of the finite values, widened so that a single value or a flat line stays in view.
function extent(values) {
  const finite = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (hi > lo) return [lo, hi];
  const half = lo === 0 ? 1 : Math.abs(lo) / 10;
  return [lo - half, hi + half];
}

// The y range: the data with a margin; with a rule, from zero (or below) to past the rule, so
// that a T far above the data stays in view.
function yRange(series, rule) {
  const [lo, hi] = extent(series.flatMap((s) => s.y));
  if (rule !== undefined) return [Math.min(0, lo), Math.max(hi, rule.value) * 1.1];
  const margin = (hi - lo) * 0.08;
  return [lo - margin, hi + margin];
}

function Axes({ xs, ys, sx, sy, box }) {
  return (
    <g class="axes">
      {ys.map((v) => <g><line class="grid" x1={box.left} x2={box.right} y1={sy(v)} y2={sy(v)} />
        <text x={box.left - 6} y={sy(v) + 4} text-anchor="end">{label(v)}</text></g>)}
      {xs.map((v) => <text x={sx(v)} y={box.bottom + 16} text-anchor="middle">{label(v)}</text>)}
      <line class="axis" x1={box.left} x2={box.right} y1={box.bottom} y2={box.bottom} />
      <line class="axis" x1={box.left} x2={box.left} y1={box.top} y2={box.bottom} />
    </g>
  );
}

// One series: a line through its points in order (nulls skipped), dots at each, or dots only.
function Series({ x, s, colour, dots, sx, sy }) {
  const pts = x.map((xv, i) => [xv, s.y[i]]).filter(([, yv]) => yv !== null && yv !== undefined);
  return (
    <g class="series" data-series={s.label}>
      {!dots && pts.length > 1 &&
        <polyline fill="none" stroke={colour} stroke-width="2" points={pts.map(([a, b]) => `${sx(a)},${sy(b)}`).join(' ')} />}
      {pts.map(([a, b]) => <circle cx={sx(a)} cy={sy(b)} r={dots ? 3.5 : 2} fill={colour}><title>{`${label(a)}, ${label(b)}`}</title></circle>)}
    </g>
  );
}

function Rule({ rule, sy, box }) {
  const y = sy(rule.value);
  return (
    <g class="rule">
      <line x1={box.left} x2={box.right} y1={y} y2={y} stroke="#d1242f" stroke-dasharray="6 4" />
      <text x={box.left + 4} y={y - 4}>{rule.label}</text>
    </g>
  );
}

// series: [{label, y, points?}] (points: dots only; else a line with dots; nulls are gaps a line
// spans); rule: {value, label}, a dashed horizontal line.
export function Chart({ title, x, series, xLabel, yLabel, points = false, rule, width = 420, height = 220 }) {
  const box = { left: PAD.left, right: width - PAD.right, top: PAD.top, bottom: height - PAD.bottom };
  const [x0, x1] = extent(x);
  const [y0, y1] = yRange(series, rule);
  const sx = (v) => box.left + ((v - x0) / (x1 - x0)) * (box.right - box.left);
  const sy = (v) => box.bottom - ((v - y0) / (y1 - y0)) * (box.bottom - box.top);
  return (
    <figure class="chart">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title}>
        <text class="title" x={width / 2} y={16} text-anchor="middle">{title}</text>
        <Axes xs={xTicks(x, x0, x1)} ys={ticks(y0, y1)} sx={sx} sy={sy} box={box} />
        <text class="label" x={(box.left + box.right) / 2} y={height - 6} text-anchor="middle">{xLabel}</text>
        <text class="label" transform={`translate(12 ${(box.top + box.bottom) / 2}) rotate(-90)`} text-anchor="middle">{yLabel}</text>
        {series.map((s, i) => <Series x={x} s={s} colour={colour(i)} dots={s.points ?? points} sx={sx} sy={sy} />)}
        {rule !== undefined && <Rule rule={rule} sy={sy} box={box} />}
      </svg>
      <figcaption>{series.map((s, i) =>
        <span class="key"><i style={{ background: colour(i) }} />{s.label}</span>)}</figcaption>
    </figure>
  );
}
