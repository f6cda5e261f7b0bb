#!/usr/bin/env python3
"""The coordinator's own view of a measured window: two /metrics pages (its start and end)
in, quantiles of the histograms' increase out, as the load generator prints its own.

usage: metrics_window.py START_PAGE END_PAGE

Quantiles are interpolated inside a bucket as Prometheus's histogram_quantile() does, and the
bucket's upper bound is printed beside them (what the histogram knows for certain)."""
import re
import sys

SAMPLE = re.compile(r'^(\w+)(\{[^}]*\})?\s+(\S+)$')


def parse(path):
    out = {}
    for line in open(path):
        m = SAMPLE.match(line.strip())
        if m:
            out[(m.group(1), m.group(2) or '')] = float(m.group(3))
    return out


def buckets(page, name, labels):
    """[(le, cumulative count)] of one histogram series; labels: 'k="v"' or ''."""
    rows = []
    for (metric, lab), v in page.items():
        if metric != name + '_bucket' or (labels and labels not in lab):
            continue
        le = re.search(r'le="([^"]+)"', lab).group(1)
        rows.append((float('inf') if le == '+Inf' else float(le), v))
    return sorted(rows)


def quantile(q, rows):
    total = rows[-1][1] if rows else 0
    if total == 0:
        return None, None
    rank, lower, below = q * total, 0.0, 0.0
    for le, cum in rows:
        if cum >= rank:
            if le == float('inf'):
                return lower, le
            inside = (rank - below) / max(cum - below, 1e-12)
            return lower + (le - lower) * inside, le
        lower, below = le, cum
    return lower, float('inf')


def fmt_ms(v):
    return '+Inf' if v == float('inf') else '%.3f' % (v * 1e3)


def report(start, end, name, labels, title):
    a, b = dict(buckets(start, name, labels)), buckets(end, name, labels)
    rows = [(le, cum - a.get(le, 0)) for le, cum in b]
    n = rows[-1][1] if rows else 0
    parts = []
    for q in (0.5, 0.99, 0.999):
        est, le = quantile(q, rows)
        parts.append('p%s %s (<= %s)' % (('%g' % (q * 100)), fmt_ms(est) if est is not None
                                         else '-', fmt_ms(le) if le is not None else '-'))
    print('%-30s %8d  %s' % (title, n, '  '.join(parts)))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    start, end = parse(sys.argv[1]), parse(sys.argv[2])
    print('coordinator /metrics over the measured window, ms (count, quantiles)')
    report(start, end, 'edgenas_request_seconds', 'type="hparam_request"',
           'hparam read -> reply sent')
    report(start, end, 'edgenas_request_seconds', 'type="heartbeat"',
           'heartbeat read -> ack sent')
    report(start, end, 'edgenas_io_round_seconds', '', 'io round busy')
    report(start, end, 'edgenas_commit_seconds', '', 'group commit')
    report(start, end, 'edgenas_console_request_seconds', '', 'console call queued -> answer')
    slow = [end.get(('edgenas_io_slow_rounds_total', ''), 0),
            start.get(('edgenas_io_slow_rounds_total', ''), 0)]
    print('%-30s %8d' % ('slow io rounds', slow[0] - slow[1]))


if __name__ == '__main__':
    main()
