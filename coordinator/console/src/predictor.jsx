// The predictor: versions and their status, held-out regret against the cold start (the
// learning curve), the rollout and the canary against its baseline; promote, roll back, roll out.
import { h, useState } from './ui.js';
import * as api from './api.js';
import { Chart } from './chart.jsx';
import { usePoll, fmt, ErrorLine, Table } from './util.jsx';

function Actions({ versions, reload }) {
  const [version, setVersion] = useState('');
  const [share, setShare] = useState('10');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const act = async (op, args) => {
    try {
      setError(null);
      setResult(await api.post(op, args));
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const v = Number(version);
  return (
    <section class="actions">
      <select value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
        <option value="">version…</option>
        {versions.filter((x) => x.status !== 'failed').map((x) => <option value={x.version}>v{x.version}</option>)}
      </select>
      <button disabled={!v} onClick={() => act('predictor.promote', { version: v, reason: 'console' })}>Promote</button>
      <input type="number" min="1" max="100" value={share} onInput={(e) => setShare(e.currentTarget.value)} /> %
      <button disabled={!v} onClick={() => act('predictor.rollout', { version: v, share: Number(share) / 100, reason: 'console' })}>Roll out</button>
      <button onClick={() => act('predictor.rollback')}>Roll back</button>
      <button onClick={() => act('predictor.train', { reason: 'console' })}>Train now</button>
      <ErrorLine error={error} />
      {result && <p class="muted">done: {JSON.stringify(result)}</p>}
    </section>
  );
}

export function PredictorPage() {
  const [list, error, reload] = usePoll(() => api.get('predictor.list'), [], 5000);
  const [fleet, fError] = usePoll(() => api.get('predictor.fleet'), [], 5000);
  if (error && error.code === 'unavailable') return <div><h1>Predictor</h1><p>{error.message}</p></div>;
  if (!list) return <div><h1>Predictor</h1><ErrorLine error={error} /><p>loading…</p></div>;
  const trained = list.versions.filter((v) => v.regret !== undefined)
    .sort((a, b) => a.version - b.version);
  const roles = fleet ? fleet.versions.filter((v) => v.mean_reward !== undefined) : [];
  return (
    <div>
      <h1>Predictor</h1>
      <ErrorLine error={error || fError} />
      <p>serving: <b>{String(list.serving)}</b> · exploration share {fmt(list.explore)}</p>
      {list.last_failure && <p class="error">last training failed: v{list.last_failure.version}: {list.last_failure.note}</p>}
      <Actions versions={list.versions} reload={reload} />
      <div class="charts">
        {trained.length > 0 &&
          <Chart title="Learning curve: held-out regret of each version" x={trained.map((v) => v.version)}
                 xLabel="version" yLabel="regret (lower is better)"
                 series={[{ label: 'the version', y: trained.map((v) => v.regret) },
                          { label: 'the cold start', y: trained.map((v) => v.regret_cold_start ?? null) }]} />}
        {roles.length > 0 &&
          <Chart title="Mean reward by serving version" points x={roles.map((_, i) => i + 1)}
                 xLabel={roles.map((r) => `${r.version ? 'v' + r.version : 'cold'} (${r.role})`).join(' · ')}
                 yLabel="mean reward" series={[{ label: 'mean reward', y: roles.map((r) => r.mean_reward) }]} />}
      </div>
      <h2>Rollout</h2>
      {fleet && (fleet.rollout
        ? <p>v{fleet.rollout.version} serves {fmt(100 * fleet.rollout.share, 1)} % of the boxes against
            {fleet.rollout.baseline ? ` v${fleet.rollout.baseline}` : ' the cold start'}; rolled back automatically
            when its mean reward falls more than {fmt(fleet.rollout.margin, 3)} below (after {fleet.rollout.min_traces} traces each).</p>
        : <p class="muted">no rollout running</p>)}
      {fleet && <Table head={['version', 'role', 'boxes', 'traces', 'mean reward', 'meets T']}
        rows={fleet.versions.map((v) => [v.version ? `v${v.version}` : 'cold start', v.role, v.agents,
          fmt(v.traces), fmt(v.mean_reward, 4), fmt(v.met_latency, 3)])} />}
      <h2>Versions</h2>
      <Table head={['version', 'status', 'trained in', 'traces', 'held-out regret', 'cold start\'s', 'normalised reward', 'note']}
        rows={list.versions.map((v) => [`v${v.version}${v.serving ? ' (serving)' : ''}`, v.status,
          v.trained_in || 'fleet', v.training_traces, fmt(v.regret, 4), fmt(v.regret_cold_start, 4),
          fmt(v.normalised_reward, 3), v.note])} />
    </div>
  );
}
