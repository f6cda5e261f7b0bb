// Small pieces the pages share: polling, formatting, a progress bar, tables, errors.
import { h, useEffect, useState, useCallback } from './ui.js';

// Calls load() now and every periodMs (live pages poll at most every 2 s); returns
// [data, error, reload].
export function usePoll(load, deps, periodMs = 2000) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const run = useCallback(async () => {
    try {
      setData(await load());
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, deps);
  useEffect(() => {
    run();
    if (!periodMs) return undefined;
    const t = setInterval(run, periodMs);
    return () => clearInterval(t);
  }, [run]);
  return [data, error, run];
}

export function fmt(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

export function pct(v, digits = 1) {
  return v === null || v === undefined ? '–' : `${(100 * v).toFixed(digits)} %`;
}

export function ago(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${(seconds / 3600).toFixed(1)} h ago`;
}

export function when(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '–';
}

// A running search's progress: elapsed of its budget, trials and best accuracy so far.
export function Progress({ search }) {
  if (!search) return <span class="muted">idle</span>;
  const share = search.budget_s > 0 ? Math.min(1, search.elapsed_s / search.budget_s) : 0;
  return (
    <div class="progress" title={`${search.phase}: ${fmt(search.elapsed_s, 0)} of ${fmt(search.budget_s, 0)} s`}
         data-progress={share.toFixed(4)}>
      <div class="bar" style={{ width: `${(100 * share).toFixed(1)}%` }} />
      <span>{search.phase} · {search.trials} trials · best {pct(search.best_accuracy)}</span>
    </div>
  );
}

export function ErrorLine({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.message}{error.code ? ` [${error.code}]` : ''}</p>;
}

export function Table({ head, rows, empty = 'nothing yet' }) {
  return (
    <table>
      <thead><tr>{head.map((label) => <th>{label}</th>)}</tr></thead>
      <tbody>
        {rows.length === 0 ? <tr><td colspan={head.length} class="muted">{empty}</td></tr>
          : rows.map((r) => <tr>{r.map((c) => <td>{c}</td>)}</tr>)}
      </tbody>
    </table>
  );
}
