// The access view: the policies linked to a resource (each read as the signed-in originator, so only those its
// selfPrivileges let it read are shown) and the "why" of a decision, from the CSE's own decision code.
import { useEffect, useState } from 'preact/hooks';
import { call, onem2m, messageOf, resourceOf, rscText, type Answer } from './api.js';
import { valueText } from './resource.js';

const OPERATIONS = ['RETRIEVE', 'CREATE', 'UPDATE', 'DELETE', 'NOTIFY', 'DISCOVERY'] as const;

type Decision = { granted: true; basis: string; policy?: string; rule?: number; attributes?: string[] } | { granted: false; reason: string };
type Explanation = { shown: false; why: string; rsc?: number } | { shown: true; resource: string; policies: string[]; governedBy: string; decision: Decision };

function policyPath(id: string): string {
  if (id.startsWith('//')) return `/_${id.slice(1)}`;
  return id.startsWith('/') ? `/~${id}` : `/${id}`;
}

const OPERATION_BITS: ReadonlyArray<[number, string]> = [
  [1, 'CREATE'],
  [2, 'RETRIEVE'],
  [4, 'UPDATE'],
  [8, 'DELETE'],
  [16, 'NOTIFY'],
  [32, 'DISCOVERY'],
];

/** accessControlOperations as names. */
function operationsOf(acop: unknown): string {
  if (typeof acop !== 'number') return valueText(acop);
  return OPERATION_BITS.filter(([bit]) => (acop & bit) !== 0)
    .map(([, name]) => name)
    .join(', ');
}

/** One rule set (setOfAcrs) as a table: rule number (as the why view counts them), originators, operations, conditions. */
function Rules({ title, set }: { title: string; set: unknown }) {
  const rules = Array.isArray((set as { acr?: unknown } | undefined)?.acr) ? ((set as { acr: unknown[] }).acr as Array<Record<string, unknown>>) : [];
  return (
    <table class="attributes rules-table">
      <caption>{title}</caption>
      <thead>
        <tr>
          <th>Rule</th>
          <th>Originators (acor)</th>
          <th>Operations (acop)</th>
          <th>Conditions</th>
        </tr>
      </thead>
      <tbody>
        {rules.map((rule, i) => {
          const { acor, acop, ...rest } = rule;
          return (
            <tr key={i}>
              <td>{i}</td>
              <td>
                <pre class="value">{valueText(acor)}</pre>
              </td>
              <td>{operationsOf(acop)}</td>
              <td>{Object.keys(rest).length > 0 && <pre class="value">{valueText(rest)}</pre>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Policy({ id }: { id: string }) {
  const [answer, setAnswer] = useState<Answer | undefined>();
  useEffect(() => void onem2m('GET', policyPath(id)).then(setAnswer), [id]);
  const policy = answer ? resourceOf(answer) : undefined;
  return (
    <li class="policy" data-policy={id}>
      <code>{id}</code>{' '}
      {!answer && <span class="muted">loading…</span>}
      {answer && !policy && (
        <span class="refused">
          not readable by you: {rscText(answer.rsc)} {messageOf(answer)}
        </span>
      )}
      {policy && (
        <div class="rules">
          <Rules title="privileges (pv)" set={policy.attributes.pv} />
          <Rules title="selfPrivileges (pvs)" set={policy.attributes.pvs} />
        </div>
      )}
    </li>
  );
}

function Why({ path, me }: { path: string; me: { originator: string } }) {
  const [originator, setOriginator] = useState(me.originator);
  const [operation, setOperation] = useState<string>('RETRIEVE');
  const [authenticated, setAuthenticated] = useState(false);
  const [result, setResult] = useState<Explanation | undefined>();
  const [problem, setProblem] = useState('');
  async function ask(e: Event): Promise<void> {
    e.preventDefault();
    setProblem('');
    setResult(undefined);
    try {
      setResult(await call<Explanation>('POST', 'explain', { target: path, originator, operation, authenticated }));
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <form class="why" id="why-form" onSubmit={(e) => void ask(e)}>
      <h3>Why?</h3>
      <label>
        Originator <input id="why-originator" value={originator} onInput={(e) => setOriginator((e.target as HTMLInputElement).value)} />
      </label>{' '}
      <label>
        Operation{' '}
        <select id="why-operation" value={operation} onChange={(e) => setOperation((e.target as HTMLSelectElement).value)}>
          {OPERATIONS.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        <input type="checkbox" checked={authenticated} onChange={(e) => setAuthenticated((e.target as HTMLInputElement).checked)} /> authenticated
      </label>{' '}
      <button type="submit" id="why-submit">
        Explain
      </button>
      {problem && <p class="answer refused">{problem}</p>}
      {result && (
        <div id="why-result" class={result.shown ? (result.decision.granted ? 'answer ok' : 'answer refused') : 'answer muted'}>
          {!result.shown && <p>Not shown: {result.why}</p>}
          {result.shown && result.decision.granted && (
            <p>
              GRANTED to <code>{originator}</code> ({operation}) — basis {result.decision.basis}
              {result.decision.policy !== undefined && (
                <>
                  {' '}
                  by policy <code>{result.decision.policy}</code> rule {result.decision.rule}
                </>
              )}
              {result.decision.attributes && <> (attributes {result.decision.attributes.join(', ')} only)</>}
            </p>
          )}
          {result.shown && !result.decision.granted && (
            <p>
              DENIED to <code>{originator}</code> ({operation}) because {result.decision.reason}
            </p>
          )}
          {result.shown && <p class="muted">Policies considered ({result.governedBy}): {result.policies.length ? result.policies.join(', ') : 'none (default policy: creator or custodian only)'}</p>}
        </div>
      )}
    </form>
  );
}

export function AccessView({ path, attributes, me }: { path: string; attributes: Record<string, unknown>; me: { originator: string; admin: boolean } }) {
  const acpi = Array.isArray(attributes.acpi) ? attributes.acpi.filter((p): p is string => typeof p === 'string') : [];
  return (
    <div class="access" id="access-view">
      <h3>Policies linked (acpi)</h3>
      {acpi.length === 0 ? (
        <p class="muted">none: only the creator (or custodian) has access, unless a parent governs this resource</p>
      ) : (
        <ul>
          {acpi.map((id) => (
            <Policy key={id} id={id} />
          ))}
        </ul>
      )}
      <Why path={path} me={me} />
    </div>
  );
}
