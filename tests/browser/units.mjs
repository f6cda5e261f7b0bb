// Unit tests of the console's pure parts, in node: the chart's tick placement. The module is
// bundled first by the same esbuild the build uses (argv[2]), with Debian's Preact.
// Exits 0 when every check held, 1 with the first that did not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const esbuild = process.argv[2] || 'esbuild';
const source = fileURLToPath(new URL('../../coordinator/console/src/chart.jsx', import.meta.url));
const out = `${mkdtempSync(`${tmpdir()}/console-units-`)}/chart.mjs`;
execFileSync(esbuild, [source, '--bundle', '--format=esm', '--platform=node', '--jsx-factory=h',
  '--log-level=warning', `--outfile=${out}`], { env: { ...process.env, NODE_PATH: '/usr/share/nodejs' } });
const { ticks } = await import(out);

let failed = 0;
function same(got, want, what) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  console.log(`${ok ? 'ok' : 'FAILED'}: ${what}: ${JSON.stringify(got)}${ok ? '' : ` (want ${JSON.stringify(want)})`}`);
  if (!ok) failed++;
}

same(ticks(0, 10), [0, 2, 4, 6, 8, 10], 'steps of 2 across 0..10');
same(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1], 'decimal steps without rounding noise');
same(ticks(-3, 7), [-2, 0, 2, 4, 6], 'a range across zero');
same(ticks(97.1, 99.9), [97.5, 98, 98.5, 99, 99.5], 'steps of 0.5 inside an accuracy range');
same(ticks(0, 0.003), [0, 0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003], 'sub-millisecond latencies');
same(ticks(-1, 0), [-1, -0.8, -0.6, -0.4, -0.2, 0], 'minutes before the last sample end at exactly 0');
same(ticks(5, 5), [5], 'a single value');
same(ticks(0, 1234).length <= 7, true, 'at most about 5 ticks (1, 2 or 5 times a power of ten)');
process.exit(failed ? 1 : 0);
