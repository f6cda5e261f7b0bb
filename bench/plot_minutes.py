#!/usr/bin/env python3
"""An SVG of a soak: HparamRequest p99 and p99.9 per minute (left axis, ms, log scale) and the
coordinator's RSS (right axis, MB), from the CSVs edgenas-loadgen --per-minute writes.

usage: plot_minutes.py OUT.svg TITLE RUN.csv [RUN.csv ...]   (one line pair per run)"""
import csv
import math
import sys

W, H, L, R, T, B = 760, 360, 60, 70, 40, 50
COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd']


def rows(path):
    with open(path) as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, title, runs = sys.argv[1], sys.argv[2], [rows(p) for p in sys.argv[3:]]
    minutes = max(len(r) for r in runs)
    lo, hi = 1.0, 100.0  # ms, log scale; the targets (10, 50) sit inside
    for r in runs:
        hi = max(hi, max(x['p999_ms'] for x in r) * 1.2)
    rss_hi = max(max(x['rss_mb'] for x in r) for r in runs) * 1.25

    def px(m):
        return L + (W - L - R) * (m - 1) / max(1, minutes - 1)

    def py(ms):
        v = min(max(ms, lo), hi)
        return T + (H - T - B) * (1 - (math.log10(v) - math.log10(lo)) /
                                  (math.log10(hi) - math.log10(lo)))

    def py_rss(mb):
        return T + (H - T - B) * (1 - mb / rss_hi)

    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="13">%s</text>' % (L, title)]
    for ms in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if ms <= hi:
            svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                       % (L, W - R, py(ms), py(ms)))
            svg.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (L - 5, py(ms) + 4, ms))
    for target, label in ((10, 'p99 target'), (50, 'p99.9 target')):
        svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="black" '
                   'stroke-dasharray="4 3"/>' % (L, W - R, py(target), py(target)))
        svg.append('<text x="%d" y="%.1f">%s</text>' % (L + 4, py(target) - 3, label))
    for m in range(1, minutes + 1, max(1, minutes // 10)):
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (px(m), H - B + 15, m))
    svg.append('<text x="%d" y="%d" text-anchor="middle">minute of the soak</text>'
               % ((L + W - R) // 2, H - 12))
    svg.append('<text x="15" y="%d" transform="rotate(-90 15 %d)" text-anchor="middle">'
               'HparamRequest round trip, ms</text>' % ((T + H - B) // 2, (T + H - B) // 2))
    svg.append('<text x="%d" y="%d" transform="rotate(90 %d %d)" text-anchor="middle">'
               'coordinator RSS, MB (dotted)</text>' % (W - 15, (T + H - B) // 2, W - 15,
                                                         (T + H - B) // 2))
    for mb in range(0, int(rss_hi), 200):
        svg.append('<text x="%d" y="%.1f">%d</text>' % (W - R + 5, py_rss(mb) + 4, mb))
    for i, r in enumerate(runs):
        c = COLORS[i % len(COLORS)]
        for key, dash, width in (('p99_ms', '', 2), ('p999_ms', '6 3', 1.2)):
            pts = ' '.join('%.1f,%.1f' % (px(x['minute']), py(x[key])) for x in r)
            svg.append('<polyline fill="none" stroke="%s" stroke-width="%s" stroke-dasharray="%s" '
                       'points="%s"/>' % (c, width, dash, pts))
        pts = ' '.join('%.1f,%.1f' % (px(x['minute']), py_rss(x['rss_mb'])) for x in r)
        svg.append('<polyline fill="none" stroke="%s" stroke-width="1" stroke-dasharray="1 3" '
                   'points="%s"/>' % (c, pts))
        svg.append('<text x="%d" y="%d" fill="%s">run %d: p99 solid, p99.9 dashed, RSS dotted'
                   '</text>' % (L + 250 * i, T - 6, c, i + 1))
    svg.append('</svg>')
    with open(out, 'w') as f:
        f.write('\n'.join(svg) + '\n')


if __name__ == '__main__':
    main()
