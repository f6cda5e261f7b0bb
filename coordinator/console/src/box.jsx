// One box: its Source and Job matrices now and over the last hour, its searches (the
// hyperparameters it got and why, the delivered models against T, a search's Pareto front), its
// traces and its key.
import * as api from './api.js';
import { h, useState } from './ui.js';
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

// Source and Job over the last hour: the coordinator samples them from the box's heartbeats
// once a minute (in memory: a restarted coordinator starts afresh).
function OverTime({ history }) {
  const samples = history ? history.samples : [];
  if (samples.length < 2) return <p class="muted">Sampled once a minute from the heartbeats: not enough yet.</p>;
  const now = samples[samples.length - 1].wall_ms;
  const x = samples.map((p) => (p.wall_ms - now) / 60000);
  const xLabel = 'minutes (0: the last sample)';
  return (
    <div class="charts" data-history={samples.length}>
      <Chart title="Source: free on the CPU" x={x} xLabel={xLabel} yLabel="free"
             series={[{ label: 'CPU nodes', y: samples.map((p) => p.cpu_free_nodes) },
                      { label: 'memory GB', y: samples.map((p) => p.cpu_free_memory_mb / 1024) }]} />
      <Chart title="Job: queued tasks" x={x} xLabel={xLabel} yLabel="tasks"
             series={[{ label: 'queued', y: samples.map((p) => p.queued_tasks) }]} />
      <Chart title="Job: tightest T" x={x} xLabel={xLabel} yLabel="ms"
             series={[{ label: 'T', y: samples.map((p) => p.tightest_t_ms || null) }]} />
    </div>
  );
}

// The delivered model of each search of the last 7 days against the latest T.
function Delivered({ traces }) {
  const ok = traces.filter((t) => t.outcome.status === 'ok');
  if (ok.length === 0) return <p class="muted">No search delivered a model in the last 7 days.</p>;
  const pts = ok.map((t) => ({ x: t.outcome.latency_ms, y: 100 * t.outcome.accuracy }));
  const front = new Set(paretoFront(pts));
  const byAccuracy = [...pts].sort((a, b) => a.y - b.y);
  const lastT = tightest(ok[ok.length - 1].context.job);
  return (
    <div class="charts">
      <Chart title="Delivered models: latency against accuracy"
             x={byAccuracy.map((p) => p.y)} xLabel="accuracy %" yLabel="latency ms"
             series={[{ label: 'search', points: true, y: byAccuracy.map((p) => p.x) },
                      { label: 'Pareto front', y: byAccuracy.map((p) => (front.has(p) ? p.x : null)) }]}
             rule={lastT ? { value: lastT, label: `T = ${fmt(lastT)} ms` } : undefined} />
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
             yLabel={`latency ms${modelled}`}
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
  if (error) return <div><h1>{id}</h1><ErrorLine error={error} /></div>;
  if (!box) return <p>loading…</p>;
  const list = traces ? traces.traces : [];
  const withFront = list.filter((t) => t.outcome.pareto);
  const front = withFront.find((t) => t.trace_id === chosen) || withFront[withFront.length - 1];
  return (
    <div>
      <h1>{box.agent_id} <span class={`state ${box.liveness}`}>{box.liveness}</span></h1>
      <p>{box.hostname} · {box.machine || 'unknown machine'} · {box.profile ? `simulated: ${box.profile}` : 'real probes'}
        · heartbeat {ago(box.last_seen_s_ago)} · registered {box.registrations}×, first {when(box.first_seen_ms)}</p>
      <p class="search">search: <Progress search={box.search} /></p>
      <Matrices state={box.state} />
      <h2>Source and Job over the last hour</h2>
      <OverTime history={box.history} />
      <h2>What its searches delivered (last 7 days)</h2>
      <ErrorLine error={tError} />
      <Delivered traces={list} />
      <h2>Searches: the hyperparameters it got, and what it delivered</h2>
      <Searches traces={list} shown={front && front.trace_id} show={setChosen} />
      <h2>A search's Pareto front</h2>
      <SearchFront trace={front} />
      <h2>Key</h2>
      <Key id={id} />
    </div>
  );
}
