// One box: its Source and Job matrices now and at each search's start, its searches (the
// hyperparameters it got and why, the delivered model against T, a search's Pareto front), its
// traces and its key.
import * as api from './api.js';
import { useState } from 'preact/hooks';
import { Chart } from './chart.jsx';
import { usePoll, fmt, pct, ago, when, Progress, ErrorLine, Table } from './util.jsx';

const WEEK_MS = 7 * 24 * 3600 * 1000;

function tightest(job) {
  const ts = (job.tasks || []).map((t) => t.latency_req_ms);
  return ts.length ? Math.min(...ts) : null;
}

function Matrices({ state }) {
  const src = state.source || { devices: [] };
  const job = state.queue || { tasks: [] };
  return (
    <div class="pair">
      <section>
        <h2>Source matrix</h2>
        <Table head={['device', 'free nodes', 'free MB', 'healthy']}
               rows={src.devices.map((d) => [d.device, d.free_nodes, d.free_memory_mb, d.unhealthy ? 'no' : 'yes'])} />
        <p class="muted">average power {fmt(src.power_w)} W{src.power_modelled ? ' (modelled)' : ' (measured)'}</p>
      </section>
      <section>
        <h2>Job matrix</h2>
        <Table head={['task', 'T (ms)', 'device', 'runtime ms', 'energy J', 'nodes']} empty="no queued tasks"
               rows={job.tasks.flatMap((t) => t.rows.map((r, i) =>
                 [i ? '' : t.task_id, i ? '' : fmt(t.latency_req_ms), r.device, fmt(r.runtime_ms), fmt(r.energy_j, 3), r.nodes]))} />
      </section>
    </div>
  );
}

// Non-dominated searches: no other is both more accurate and faster.
function paretoFront(points) {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const front = [];
  let best = -1;
  for (const p of sorted) if (p.y > best) { front.push(p); best = p.y; }
  return front;
}

function History({ traces }) {
  if (traces.length === 0) return <p class="muted">No searches reported in the last 7 days.</p>;
  const t0 = traces[0].received_ms;
  const x = traces.map((t) => (t.received_ms - t0) / 60000);
  const cpu = traces.map((t) => (t.context.source.devices[0] || {}).free_nodes ?? null);
  const mem = traces.map((t) => ((t.context.source.devices[0] || {}).free_memory_mb ?? 0) / 1024);
  const tee = traces.map((t) => tightest(t.context.job));
  const ok = traces.filter((t) => t.outcome.status === 'ok');
  const pts = ok.map((t) => ({ x: t.outcome.latency_ms, y: 100 * t.outcome.accuracy }));
  const front = new Set(paretoFront(pts));
  const byAccuracy = [...pts].sort((a, b) => a.y - b.y);
  const lastT = tee[tee.length - 1];
  return (
    <div class="charts">
      <Chart title="Source at each search's start" x={x} xLabel="minutes since the first" yLabel="free"
             series={[{ label: 'CPU nodes', y: cpu }, { label: 'memory GB', y: mem }]} />
      <Chart title="Tightest T in the Job matrix" x={x} xLabel="minutes since the first" yLabel="ms"
             series={[{ label: 'T', y: tee }]} />
      {pts.length > 0 &&
        <Chart title="Delivered models: latency against accuracy"
               x={byAccuracy.map((p) => p.y)} xLabel="accuracy %" yLabel="latency ms" yMax={lastT || undefined}
               series={[{ label: 'search', points: true, y: byAccuracy.map((p) => p.x) },
                        { label: 'Pareto front', y: byAccuracy.map((p) => (front.has(p) ? p.x : null)) }]}
               rule={lastT ? { value: lastT, label: `T = ${fmt(lastT)} ms` } : undefined} />}
    </div>
  );
}

// One search's accuracy/latency front (its candidates no other beat on both), against its T.
function SearchFront({ trace }) {
  if (!trace) return <p class="muted">No search with a reported front yet (agents before 2026-12 do not send one).</p>;
  const pts = trace.outcome.pareto.points;
  const T = tightest(trace.context.job);
  const modelled = trace.outcome.latency_modelled ? ' (modelled)' : '';
  return (
    <div class="charts" data-front={trace.trace_id}>
      <Chart title={`Pareto front of the search reported ${when(trace.received_ms)}`}
             x={pts.map((p) => 100 * p.accuracy)} xLabel="validation accuracy % (during the search)"
             yLabel={`latency ms${modelled}`} yMax={T ?? undefined}
             series={[{ label: 'candidates on the front', y: pts.map((p) => p.latency_ms) }]}
             rule={T ? { value: T, label: `T = ${fmt(T)} ms` } : undefined} />
      <Table head={['architecture', 'accuracy', 'latency ms', 'meets T']}
             rows={pts.map((p) => [<code>{p.arch}</code>, pct(p.accuracy), fmt(p.latency_ms, 3),
                                   T === null || p.latency_ms <= T ? 'yes' : 'NO'])} />
    </div>
  );
}

function Searches({ traces, shown, show }) {
  const rows = [...traces].reverse().map((t) => [
    when(t.received_ms), t.outcome.status, t.policy + (t.explore ? ' (explore)' : ''),
    t.predictor_version ? `v${t.predictor_version}` : 'cold start',
    `${t.hparams.layers}/${t.hparams.filters}/${t.hparams.kernel}/${t.hparams.loss}/${t.hparams.seed}`,
    t.outcome.trials, pct(t.outcome.accuracy),
    `${fmt(t.outcome.latency_ms, 3)} ms${t.outcome.latency_modelled ? ' (modelled)' : ''}`,
    t.outcome.met_latency ? 'yes' : 'NO', t.outcome.device || 'cpu',
    !t.outcome.pareto ? '' : t.trace_id === shown ? 'shown below'
      : <button data-show-front={t.trace_id} onClick={() => show(t.trace_id)}>show</button>]);
  return <Table head={['reported', 'status', 'policy', 'predictor', 'L/F/K/loss/seed', 'trials',
                       'accuracy', 'latency', 'meets T', 'device', 'front']} rows={rows} empty="no searches yet" />;
}

function Key({ id }) {
  const [keys, error] = usePoll(() => api.get('keys.list'), [], 10000);
  if (error && error.code === 'unavailable') return <p class="muted">CURVE is off: no keys.</p>;
  const mine = keys ? keys.keys.filter((k) => k.agent_id === id) : [];
  return <Table head={['key', 'state', 'address']} empty="no key bound to this box"
                rows={mine.map((k) => [<code>{k.key}</code>, k.state, k.address])} />;
}

export function BoxPage({ id }) {
  const [box, error] = usePoll(() => api.get('agents.show', { agent_id: id }), [id]);
  const [chosen, setChosen] = useState(null);
  const [traces, tError] = usePoll(
    () => api.get('traces.export', { agent_id: id, since_ms: Date.now() - WEEK_MS, limit: 200 }),
    [id], 10000);
  if (error) return <><h1>{id}</h1><ErrorLine error={error} /></>;
  if (!box) return <p>loading…</p>;
  const list = traces ? traces.traces : [];
  const withFront = list.filter((t) => t.outcome.pareto);
  const front = withFront.find((t) => t.trace_id === chosen) || withFront[withFront.length - 1];
  return (
    <>
      <h1>{box.agent_id} <span class={`state ${box.liveness}`}>{box.liveness}</span></h1>
      <p>{box.hostname} · {box.machine || 'unknown machine'} · {box.profile ? `simulated: ${box.profile}` : 'real probes'}
        · heartbeat {ago(box.last_seen_s_ago)} · registered {box.registrations}×, first {when(box.first_seen_ms)}</p>
      <p class="search">search: <Progress search={box.search} /></p>
      <Matrices state={box.state} />
      <h2>Over time (last 7 days)</h2>
      <ErrorLine error={tError} />
      <History traces={list} />
      <h2>Searches: the hyperparameters it got, and what it delivered</h2>
      <Searches traces={list} shown={front && front.trace_id} show={setChosen} />
      <h2>A search's Pareto front</h2>
      <SearchFront trace={front} />
      <h2>Key</h2>
      <Key id={id} />
    </>
  );
}
