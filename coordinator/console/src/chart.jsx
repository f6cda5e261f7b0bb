// uPlot charts: a line or scatter chart over aligned x/y arrays, optional horizontal rule
// (a latency requirement T).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

// series: [{label, y, points?}] (points: dots only; else a line with dots; nulls are gaps a line
// spans); yMax: the y axis reaches at least this far (so a rule above the data stays in view).
export function Chart({ title, x, series, xLabel, yLabel, points = false, rule, yMax, width = 420, height = 220 }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current) return undefined;
    const colours = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df'];
    const opts = {
      title,
      width,
      height,
      scales: {
        x: { time: false },
        y: yMax === undefined ? {} : { range: (u, lo, hi) => [Math.min(0, lo), Math.max(hi, yMax) * 1.1] },
      },
      axes: [{ label: xLabel }, { label: yLabel }],
      series: [{ label: xLabel }, ...series.map((s, i) => {
        const dots = s.points ?? points;
        return {
          label: s.label,
          stroke: colours[i % colours.length],
          width: dots ? 0 : 2,
          spanGaps: true,
          points: { show: true, size: dots ? 7 : 4 },
          paths: dots ? () => null : undefined,
        };
      })],
      hooks: rule === undefined ? {} : {
        draw: [(u) => {
          const y = u.valToPos(rule.value, 'y', true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#d1242f';
          ctx.setLineDash([6, 4]);
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, y);
          ctx.lineTo(u.bbox.left + u.bbox.width, y);
          ctx.stroke();
          ctx.fillStyle = '#d1242f';
          ctx.fillText(rule.label, u.bbox.left + 4, y - 4);
          ctx.restore();
        }],
      },
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.y)], el.current);
    return () => plot.destroy();
  }, [JSON.stringify([title, x, series, rule, yMax])]);
  return <div class="chart" ref={el} />;
}
