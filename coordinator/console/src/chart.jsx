// uPlot charts: a line or scatter chart over aligned x/y arrays, optional horizontal rule
// (a latency requirement T).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export function Chart({ title, x, series, xLabel, yLabel, points = false, rule, width = 420, height = 220 }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current) return undefined;
    const colours = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df'];
    const opts = {
      title,
      width,
      height,
      scales: { x: { time: false } },
      axes: [{ label: xLabel }, { label: yLabel }],
      series: [{ label: xLabel }, ...series.map((s, i) => ({
        label: s.label,
        stroke: colours[i % colours.length],
        width: points ? 0 : 2,
        points: { show: true, size: points ? 7 : 4 },
        paths: points ? () => null : undefined,
      }))],
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
  }, [JSON.stringify([title, x, series, rule])]);
  return <div class="chart" ref={el} />;
}
