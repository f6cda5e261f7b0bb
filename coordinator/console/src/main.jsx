// The console's shell: the login, the navigation and the hash routes
//   #/ fleet · #/box/ID one box · #/predictor · #/keys
import { h, render, useEffect, useState } from './ui.js';
import * as api from './api.js';
import { FleetPage } from './fleet.jsx';
import { BoxPage } from './box.jsx';
import { PredictorPage } from './predictor.jsx';
import { KeysPage } from './keys.jsx';

function Login({ why, onIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(why || '');
  const submit = async (e) => {
    e.preventDefault();
    try {
      onIn(await api.login(token));
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>edgenas console</h1>
      <p>Paste a token from <code>edgenasctl console token</code> (it is tied to the admin who minted it and expires).</p>
      <input type="password" name="token" autocomplete="off" placeholder="token" value={token}
             onInput={(e) => setToken(e.currentTarget.value)} />
      <button type="submit">Log in</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Page({ hash }) {
  if (hash.startsWith('#/box/')) return <BoxPage id={decodeURIComponent(hash.slice(6))} />;
  if (hash === '#/predictor') return <PredictorPage />;
  if (hash === '#/keys') return <KeysPage />;
  return <FleetPage />;
}

function App() {
  const [who, setWho] = useState(undefined);  // undefined: asking; null: logged out
  const [why, setWhy] = useState('');
  const hash = useHash();
  useEffect(() => {
    api.whenLoggedOut((message) => {
      setWhy(message);
      setWho(null);
    });
    api.session().then(setWho, () => setWho(null));
  }, []);
  if (who === undefined) return <p>loading…</p>;
  if (who === null) return <Login why={why} onIn={setWho} />;
  const tab = (href, label) => <a href={href} class={hash === href ? 'on' : ''}>{label}</a>;
  return (
    <div>
      <nav>
        <strong>edgenas</strong>
        {tab('#/', 'Fleet')}{tab('#/predictor', 'Predictor')}{tab('#/keys', 'Keys')}
        <span class="who">{who.admin}
          <button onClick={async () => { await api.logout(); setWho(null); }}>Log out</button></span>
      </nav>
      <main><Page hash={hash} /></main>
    </div>
  );
}

const root = document.getElementById('app');
root.textContent = '';
render(<App />, root);
