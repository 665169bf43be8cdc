// The Warden web console (Preact). Everything is rendered as text: no HTML is ever built from data.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, useCsrf, type Me, type SignedOut } from './api.js';
import { TreeNode } from './tree.js';
import { ResourceView } from './resource.js';
import { EventsView } from './events.js';

function SignIn({ certificate, onSignedIn }: { certificate: boolean; onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState('');
  async function signIn(body: unknown): Promise<void> {
    setProblem('');
    try {
      onSignedIn(await call<Me>('POST', 'session', body));
    } catch (err) {
      setProblem(err instanceof ApiError ? err.message : 'the server could not be reached');
    }
  }
  return (
    <section class="sign-in" id="sign-in">
      <h1>Warden console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void signIn({ token });
        }}
      >
        <p>
          Paste a sign-in token. The operator mints one on the server machine with{' '}
          <code>npx warden console-token --originator &lt;originator&gt;</code>; it works once, for a few minutes.
        </p>
        <input id="token" type="password" autocomplete="off" placeholder="sign-in token" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <button type="submit" id="sign-in-submit">
          Sign in
        </button>
      </form>
      {certificate && (
        <p>
          <button id="sign-in-certificate" onClick={() => void signIn({ certificate: true })}>
            Sign in with my client certificate
          </button>
        </p>
      )}
      {problem && (
        <p class="answer refused" id="sign-in-problem">
          {problem}
        </p>
      )}
    </section>
  );
}

function Main({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const root = `/${me.cseRn}`;
  const [selected, setSelected] = useState(root);
  const [view, setView] = useState<'resources' | 'events'>('resources');
  const [revision, setRevision] = useState(0);
  const [goto, setGoto] = useState('');
  async function signOut(): Promise<void> {
    await call('DELETE', 'session').catch(() => undefined);
    onSignedOut();
  }
  return (
    <div class="layout">
      <header>
        <strong>Warden</strong> <code>/{me.cseId}</code>
        <nav>
          <button id="view-resources" class={view === 'resources' ? 'tab active' : 'tab'} onClick={() => setView('resources')}>
            Resources
          </button>
          {me.admin && (
            <button id="view-events" class={view === 'events' ? 'tab active' : 'tab'} onClick={() => setView('events')}>
              Security events
            </button>
          )}
        </nav>
        <span class="who" id="who">
          {me.originator} · {me.kind === 'certificate' ? 'client certificate (authenticated)' : 'sign-in token (not authenticated)'}
        </span>
        <button id="sign-out" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {view === 'resources' ? (
        <div class="split">
          <aside class="tree" id="tree">
            <form
              class="goto"
              onSubmit={(e) => {
                e.preventDefault();
                const path = goto.trim();
                if (path.startsWith('/')) setSelected(path);
              }}
            >
              <input id="goto" placeholder="/cse-in/… (path)" value={goto} onInput={(e) => setGoto((e.target as HTMLInputElement).value)} />
              <button type="submit" id="goto-submit">
                Open
              </button>
            </form>
            <ul>
              <TreeNode path={root} ty={5} selected={selected} onSelect={setSelected} revision={revision} initiallyOpen />
            </ul>
          </aside>
          <ResourceView path={selected} me={me} onChanged={() => setRevision((r) => r + 1)} />
        </div>
      ) : (
        <EventsView />
      )}
    </div>
  );
}

function App() {
  const [state, setState] = useState<Me | SignedOut | undefined>();
  const [problem, setProblem] = useState('');
  const refresh = (): void => {
    call<Me | SignedOut>('GET', 'session').then(
      (s) => {
        if (s.signedIn) useCsrf(s.csrf);
        setState(s);
      },
      () => setProblem('the server could not be reached'),
    );
  };
  useEffect(refresh, []);
  if (problem) return <p class="answer refused">{problem}</p>;
  if (!state) return <p class="loading">Loading…</p>;
  if (!state.signedIn)
    return (
      <SignIn
        certificate={state.certificate}
        onSignedIn={(me) => {
          useCsrf(me.csrf);
          setState(me);
        }}
      />
    );
  return (
    <Main
      me={state}
      onSignedOut={() => {
        useCsrf('');
        refresh();
      }}
    />
  );
}

const mount = document.getElementById('app');
if (mount) {
  mount.textContent = '';
  render(<App />, mount);
}
