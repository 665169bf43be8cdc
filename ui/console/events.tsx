// Security events (admin only): refused requests, failed authentications, certificates close to expiry.
import { useEffect, useState } from 'preact/hooks';
import { call } from './api.js';

interface SecurityEvent {
  at: number;
  kind: string;
  originator: string;
  operation?: string;
  target?: string;
  rsc?: number;
  reason: string;
  remote?: string;
  binding?: string;
}

export function EventsView() {
  const [data, setData] = useState<{ events: SecurityEvent[]; certificateDays: number | null } | undefined>();
  const [problem, setProblem] = useState('');
  const load = (): void => {
    call<{ events: SecurityEvent[]; certificateDays: number | null }>('GET', 'events').then(setData, (err: Error) => setProblem(err.message));
  };
  useEffect(load, []);
  return (
    <section class="events" id="events-view">
      <h2>Security events</h2>
      <button id="events-reload" onClick={load}>
        Reload
      </button>
      {problem && <p class="answer refused">{problem}</p>}
      {data && (
        <>
          <p>{data.certificateDays === null ? 'This CSE has no certificate (plain HTTP).' : `The CSE certificate expires in ${data.certificateDays} days.`}</p>
          <table class="attributes" id="events-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Kind</th>
                <th>Originator</th>
                <th>Request</th>
                <th>Reason</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {data.events.map((e, i) => (
                <tr key={i} class={`event kind-${e.kind}`}>
                  <td>{new Date(e.at).toISOString()}</td>
                  <td>{e.kind}</td>
                  <td>
                    <code>{e.originator}</code>
                  </td>
                  <td>
                    {e.operation} <code>{e.target}</code> {e.rsc}
                  </td>
                  <td>{e.reason}</td>
                  <td>
                    {e.remote} {e.binding}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.events.length === 0 && <p class="muted">No security event since Warden started.</p>}
        </>
      )}
    </section>
  );
}
