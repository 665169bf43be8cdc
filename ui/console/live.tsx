// The live view: a real <subscription> on the resource, created as the signed-in originator, whose notifications
// arrive over a server-sent-events stream; closing the view deletes the subscription.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, messageOf, rscText, type Answer } from './api.js';
import { valueText } from './resource.js';

interface Arrival {
  at: number;
  notification: Record<string, unknown>;
}

const EVENT_NAMES: Readonly<Record<number, string>> = { 1: 'updated', 2: 'deleted', 3: 'child created', 4: 'child deleted' };
const KEPT = 200;

function summary(n: Record<string, unknown>): string {
  if (n.sud === true) return 'the subscription was deleted';
  const nev = n.nev as { net?: number; rep?: Record<string, Record<string, unknown>> } | undefined;
  const [typeName, rep] = Object.entries(nev?.rep ?? {})[0] ?? [];
  const what = EVENT_NAMES[nev?.net ?? 0] ?? `event ${String(nev?.net)}`;
  const name = typeof rep?.rn === 'string' ? rep.rn : '';
  const con = rep && 'con' in rep ? ` con=${valueText(rep.con)}` : '';
  return `${what}: ${typeName ?? ''} ${name}${con}`;
}

export function LiveView({ path }: { path: string }) {
  const [arrivals, setArrivals] = useState<Arrival[]>([]);
  const [state, setState] = useState<'idle' | 'starting' | 'watching' | 'closed'>('idle');
  const [problem, setProblem] = useState('');
  const channel = useRef<{ id: string; source: EventSource } | undefined>(undefined);

  function stop(): void {
    const current = channel.current;
    channel.current = undefined;
    if (!current) return;
    current.source.close();
    void call('DELETE', `live/${current.id}`).catch(() => undefined);
    setState('closed');
  }

  async function start(): Promise<void> {
    setProblem('');
    setState('starting');
    const opened = await call<Answer & { channel?: string }>('POST', 'live', { target: path });
    if (!opened.channel) {
      setProblem(`the subscription was not created: ${rscText(opened.rsc)} ${messageOf(opened)}`);
      setState('idle');
      return;
    }
    const source = new EventSource(`/console/api/live/${opened.channel}`);
    source.addEventListener('notification', (e) => {
      const arrival = JSON.parse((e as MessageEvent<string>).data) as Arrival;
      setArrivals((list) => [arrival, ...list].slice(0, KEPT));
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setState('closed');
    };
    channel.current = { id: opened.channel, source };
    setState('watching');
  }

  // Leaving the view (another resource, another tab, sign-out) removes the subscription.
  useEffect(() => stop, [path]);

  return (
    <div class="live" id="live-view">
      <p>
        {state === 'watching' ? (
          <>
            <span id="live-state" class="badge ok">
              watching
            </span>{' '}
            <button id="live-stop" onClick={stop}>
              Stop
            </button>
          </>
        ) : (
          <button id="live-start" disabled={state === 'starting'} onClick={() => void start()}>
            Watch this resource
          </button>
        )}{' '}
        <span class="muted">A subscription is created as you; it is deleted when you stop or leave.</span>
      </p>
      {problem && <p class="answer refused">{problem}</p>}
      <ol class="arrivals" id="live-arrivals">
        {arrivals.map((a, i) => (
          <li key={`${a.at}-${i}`}>
            <time>{new Date(a.at).toISOString()}</time> <span class="summary">{summary(a.notification)}</span>
            <details>
              <summary>notification</summary>
              <pre class="value">{JSON.stringify(a.notification, null, 1)}</pre>
            </details>
          </li>
        ))}
      </ol>
    </div>
  );
}
