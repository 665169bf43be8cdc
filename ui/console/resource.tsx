// One resource: every attribute with its long name and meaning; create, update and delete with the CSE's own
// answers (RSC and message); the live view and the access view.
import { useEffect, useState } from 'preact/hooks';
import { ATTRIBUTE_NAMES, RESOURCE_TYPE_NAMES } from '../../src/console/referenceNames.ts';
import { onem2m, messageOf, resourceOf, rscText, type Answer } from './api.js';
import { LiveView } from './live.js';
import { AccessView } from './access.js';

/** A value as text: a string as it is, a list of strings one per line, anything else as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('\n');
  return JSON.stringify(value, null, 1);
}

/** What the CSE answered, as text: the RSC with its name and the message (m2m:dbg) when there is one. */
export function AnswerLine({ answer, what }: { answer: Answer; what: string }) {
  const ok = answer.rsc >= 2000 && answer.rsc < 3000;
  return (
    <p class={ok ? 'answer ok' : 'answer refused'} role="status">
      {what}: {rscText(answer.rsc)}
      {messageOf(answer) && <span class="dbg"> — {messageOf(answer)}</span>}
      {answer.location && <span> — {answer.location}</span>}
    </p>
  );
}

const TEMPLATES: ReadonlyArray<{ ty: number; label: string; body: unknown }> = [
  { ty: 3, label: 'container', body: { 'm2m:cnt': { rn: 'container', mni: 100, lbl: [] } } },
  { ty: 4, label: 'contentInstance', body: { 'm2m:cin': { cnf: 'text/plain:0', con: 'hello' } } },
  { ty: 2, label: 'AE', body: { 'm2m:ae': { rn: 'app', api: 'Napp', rr: false, srv: ['3'] } } },
  { ty: 1, label: 'accessControlPolicy', body: { 'm2m:acp': { rn: 'policy', pv: { acr: [{ acor: ['CAnyone'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } },
  { ty: 23, label: 'subscription', body: { 'm2m:sub': { rn: 'subscription', nu: ['http://127.0.0.1:9999/notify'], enc: { net: [1, 3] } } } },
  { ty: 9, label: 'group', body: { 'm2m:grp': { rn: 'group', mt: 0, mnm: 10, mid: [] } } },
];

function CreateForm({ path, onDone }: { path: string; onDone: () => void }) {
  const [ty, setTy] = useState(3);
  const [text, setText] = useState(JSON.stringify(TEMPLATES[0]?.body, null, 2));
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [problem, setProblem] = useState('');
  function choose(value: number): void {
    setTy(value);
    setText(JSON.stringify(TEMPLATES.find((t) => t.ty === value)?.body ?? {}, null, 2));
  }
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    setProblem('');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      setProblem('the content is not valid JSON');
      return;
    }
    const result = await onem2m('POST', path, body, ty);
    setAnswer(result);
    if (result.rsc === 2001) onDone();
  }
  return (
    <form class="editor" id="create-form" onSubmit={(e) => void submit(e)}>
      <label>
        Type{' '}
        <select id="create-type" value={String(ty)} onChange={(e) => choose(Number((e.target as HTMLSelectElement).value))}>
          {TEMPLATES.map((t) => (
            <option key={t.ty} value={String(t.ty)}>
              {t.label} (ty {t.ty})
            </option>
          ))}
        </select>
      </label>
      <textarea id="create-body" rows={10} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
      <button type="submit" id="create-submit">
        Create
      </button>
      {problem && <p class="answer refused">{problem}</p>}
      {answer && <AnswerLine answer={answer} what="Create" />}
    </form>
  );
}

function UpdateForm({ path, typeName, onDone }: { path: string; typeName: string; onDone: () => void }) {
  const [text, setText] = useState(JSON.stringify({ [typeName]: { lbl: [] } }, null, 2));
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [problem, setProblem] = useState('');
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    setProblem('');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      setProblem('the content is not valid JSON');
      return;
    }
    const result = await onem2m('PUT', path, body);
    setAnswer(result);
    if (result.rsc === 2004) onDone();
  }
  return (
    <form class="editor" id="update-form" onSubmit={(e) => void submit(e)}>
      <textarea id="update-body" rows={8} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
      <button type="submit" id="update-submit">
        Update
      </button>
      {problem && <p class="answer refused">{problem}</p>}
      {answer && <AnswerLine answer={answer} what="Update" />}
    </form>
  );
}

function DeleteForm({ path, onDone }: { path: string; onDone: () => void }) {
  const [armed, setArmed] = useState(false);
  const [answer, setAnswer] = useState<Answer | undefined>();
  async function remove(): Promise<void> {
    const result = await onem2m('DELETE', path);
    setAnswer(result);
    setArmed(false);
    if (result.rsc === 2002) onDone();
  }
  return (
    <div class="editor">
      {!armed ? (
        <button id="delete-arm" onClick={() => setArmed(true)}>
          Delete this resource…
        </button>
      ) : (
        <p>
          Delete <code>{path}</code> and everything under it?{' '}
          <button id="delete-confirm" class="danger" onClick={() => void remove()}>
            Delete
          </button>{' '}
          <button onClick={() => setArmed(false)}>Cancel</button>
        </p>
      )}
      {answer && <AnswerLine answer={answer} what="Delete" />}
    </div>
  );
}

function Attributes({ attributes }: { attributes: Record<string, unknown> }) {
  return (
    <table class="attributes" id="attributes">
      <thead>
        <tr>
          <th>Attribute</th>
          <th>Meaning</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(attributes).map(([name, value]) => {
          const known = ATTRIBUTE_NAMES[name];
          return (
            <tr key={name} data-attribute={name}>
              <td>
                <code>{name}</code>
              </td>
              <td>
                {known ? known[0] : <span class="muted">(not in the reference tables)</span>}
                {known && (
                  <span class="muted">
                    {' '}
                    · {known[1]}
                    {known[2] ? `, cardinality ${known[2]}` : ''}
                  </span>
                )}
              </td>
              <td>
                <pre class="value">{valueText(value)}</pre>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

type Tab = 'attributes' | 'create' | 'update' | 'delete' | 'live' | 'access';
const TABS: ReadonlyArray<[Tab, string]> = [
  ['attributes', 'Attributes'],
  ['create', 'Create child'],
  ['update', 'Update'],
  ['delete', 'Delete'],
  ['live', 'Live'],
  ['access', 'Access'],
];

export function ResourceView({ path, me, onChanged }: { path: string; me: { originator: string; admin: boolean }; onChanged: () => void }) {
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [tab, setTab] = useState<Tab>('attributes');
  const [revision, setRevision] = useState(0);
  // A new resource starts blank on its attributes; a reload after a change keeps the open tab and its answer.
  useEffect(() => {
    setAnswer(undefined);
    setTab('attributes');
  }, [path]);
  useEffect(() => {
    void onem2m('GET', path).then(setAnswer);
  }, [path, revision]);
  const resource = answer ? resourceOf(answer) : undefined;
  const ty = typeof resource?.attributes.ty === 'number' ? resource.attributes.ty : undefined;
  const typeInfo = ty === undefined ? undefined : RESOURCE_TYPE_NAMES[ty];
  const changed = (): void => {
    setRevision((r) => r + 1);
    onChanged();
  };
  return (
    <section class="resource" id="resource-view">
      <h2>
        <code>{path}</code> {typeInfo && <span class="type">{typeInfo[1]} ({typeInfo[0]})</span>}
      </h2>
      {!answer && <p class="muted">loading…</p>}
      {answer && !resource && <AnswerLine answer={answer} what="Retrieve" />}
      {resource && (
        <>
          <nav class="tabs">
            {TABS.map(([id, label]) => (
              <button key={id} id={`tab-${id}`} class={tab === id ? 'tab active' : 'tab'} onClick={() => setTab(id)}>
                {label}
              </button>
            ))}
          </nav>
          {tab === 'attributes' && <Attributes attributes={resource.attributes} />}
          {tab === 'create' && <CreateForm path={path} onDone={changed} />}
          {tab === 'update' && <UpdateForm path={path} typeName={resource.typeName} onDone={changed} />}
          {tab === 'delete' && <DeleteForm path={path} onDone={onChanged} />}
          {tab === 'live' && <LiveView path={path} />}
          {tab === 'access' && <AccessView path={path} attributes={resource.attributes} me={me} />}
        </>
      )}
    </section>
  );
}
