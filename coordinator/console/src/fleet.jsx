// The fleet: counts by state, device kind and predictor version; a sortable, filterable,
// paged table of boxes (paged by the coordinator: one page of rows per refresh).
import { h, useEffect, useState } from './ui.js';
import * as api from './api.js';
import { usePoll, fmt, ago, Progress, ErrorLine } from './util.jsx';

const PAGE = 50;
const COLUMNS = [
  ['agent_id', 'box'], ['hostname', 'host'], ['liveness', 'state'], [null, 'devices'],
  ['cpu_free_nodes', 'free CPU'], ['free_memory_mb', 'free MB'], ['queued_tasks', 'queue'],
  ['tightest_t_ms', 'tightest T'], ['last_seen', 'heartbeat'], ['progress', 'search'],
];

function Counts({ summary }) {
  if (!summary) return null;
  const a = summary.agents;
  const versions = summary.predictor ? summary.predictor.versions : [];
  const chips = (obj) => Object.entries(obj).map(([k, v]) => <span class="chip">{k} <b>{v}</b></span>);
  return (
    <section class="counts">
      <div class="count" data-count="known"><b>{a.known}</b> boxes</div>
      <div class="count" data-count="alive"><b>{a.alive}</b> alive</div>
      <div class="count" data-count="dead"><b>{a.dead}</b> dead</div>
      <div class="count" data-count="offline"><b>{a.offline}</b> offline</div>
      <div class="count" data-count="searching"><b>{summary.searching}</b> searching</div>
      <div>devices: {chips(summary.by_device)}</div>
      <div>machines: {chips(summary.by_machine)}</div>
      <div>predictor: {versions.length === 0 ? <span class="chip">{summary.hparam_policy}</span>
        : versions.map((v) => <span class="chip">{v.version ? `v${v.version}` : 'cold start'} ({v.role}) <b>{v.agents}</b></span>)}</div>
      {summary.keys && summary.keys.pending > 0 &&
        <div><a href="#/keys">{summary.keys.pending} keys wait for acceptance</a></div>}
    </section>
  );
}

export function FleetPage() {
  const [sort, setSort] = useState('agent_id');
  const [typed, setTyped] = useState('');
  const [filter, setFilter] = useState('');
  const [offset, setOffset] = useState(0);
  // Each new filter is a new ordering for the coordinator to make: ask once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => { setFilter(typed); setOffset(0); }, 300);
    return () => clearTimeout(t);
  }, [typed]);
  const [summary, sumError] = usePoll(() => api.get('fleet.summary'), []);
  const [page, pageError] = usePoll(
    () => api.get('agents.page', { offset, limit: PAGE, sort, filter }), [offset, sort, filter]);
  // The first time the counts and a page of boxes are on screen (bench/console_bench.mjs reads it).
  useEffect(() => {
    if (summary && page && performance.getEntriesByName('edgenas:fleet-rendered').length === 0)
      performance.mark('edgenas:fleet-rendered');
  }, [summary, page]);
  const by = (key) => {
    if (!key) return;
    setSort(sort === key ? `-${key}` : key);
    setOffset(0);
  };
  const arrow = (key) => (sort === key ? ' ▲' : sort === `-${key}` ? ' ▼' : '');
  const total = page ? page.total : 0;
  return (
    <div>
      <h1>Fleet</h1>
      <ErrorLine error={sumError || pageError} />
      <Counts summary={summary} />
      <div class="tools">
        <input type="search" placeholder="filter: id, host, state, device, machine"
               value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>◀</button>
        <span>{total === 0 ? 0 : offset + 1}–{Math.min(total, offset + PAGE)} of {total}</span>
        <button disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>▶</button>
      </div>
      <table class="boxes">
        <thead><tr>{COLUMNS.map(([key, label]) =>
          <th class={key ? 'sortable' : ''} onClick={() => by(key)}>{label}{arrow(key)}</th>)}</tr></thead>
        <tbody>
          {page && page.agents.map((a) => (
            <tr data-agent={a.agent_id}>
              <td><a href={`#/box/${encodeURIComponent(a.agent_id)}`}>{a.agent_id}</a></td>
              <td>{a.hostname}</td>
              <td class={`state ${a.liveness}`}>{a.liveness}</td>
              <td>{a.devices.join(', ')}</td>
              <td>{a.cpu_free_nodes}</td>
              <td>{a.free_memory_mb}</td>
              <td>{a.queued_tasks}</td>
              <td>{a.tightest_t_ms ? `${fmt(a.tightest_t_ms)} ms` : '–'}</td>
              <td>{ago(a.last_seen_s_ago)}</td>
              <td><Progress search={a.search} /></td>
            </tr>))}
        </tbody>
      </table>
    </div>
  );
}
