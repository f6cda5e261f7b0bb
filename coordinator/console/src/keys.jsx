// Agent keys: pending, accepted, rejected, revoked; accept, reject or revoke each.
import { h, useState } from './ui.js';
import * as api from './api.js';
import { usePoll, when, ErrorLine, Table } from './util.jsx';

export function KeysPage() {
  const [keys, error, reload] = usePoll(() => api.get('keys.list'), []);
  const [actError, setActError] = useState(null);
  const act = async (op, who) => {
    try {
      setActError(null);
      await api.post(op, { who });
      reload();
    } catch (e) {
      setActError(e);
    }
  };
  if (error && error.code === 'unavailable') return <div><h1>Keys</h1><p>{error.message}</p></div>;
  if (!keys) return <div><h1>Keys</h1><ErrorLine error={error} /><p>loading…</p></div>;
  const order = { pending: 0, accepted: 1, rejected: 2, revoked: 3 };
  const sorted = [...keys.keys].sort((a, b) => order[a.state] - order[b.state]);
  const button = (op, label, k) => <button data-op={op} onClick={() => act(op, k.key)}>{label}</button>;
  return (
    <div>
      <h1>Keys</h1>
      <p>{keys.auto_accept ? 'Unknown keys are accepted automatically.' : 'Unknown keys wait here until an admin accepts them.'}</p>
      <ErrorLine error={error || actError} />
      <Table head={['key', 'state', 'box', 'address', 'last seen', '']}
        rows={sorted.map((k) => [<code data-key={k.key}>{k.key}</code>, <span class={`state ${k.state}`}>{k.state}</span>,
          k.agent_id || '–', k.address, when(k.last_seen_ms),
          <span class="row-actions">
            {k.state === 'pending' && button('keys.accept', 'Accept', k)}
            {k.state === 'pending' && button('keys.reject', 'Reject', k)}
            {k.state === 'accepted' && button('keys.revoke', 'Revoke', k)}
            {(k.state === 'rejected' || k.state === 'revoked') && button('keys.accept', 'Accept again', k)}
          </span>])} />
    </div>
  );
}
