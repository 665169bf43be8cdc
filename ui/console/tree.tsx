// The resource tree: each node's children are fetched when it is opened, a page at a time (discovery with
// lvl=1, lim and ofst), so a CSE of 100 000 resources costs one page per opened node.
import { useEffect, useState } from 'preact/hooks';
import { onem2m, messageOf, rscText } from './api.js';

export const PAGE = 50;

interface Children {
  paths: string[];
  /** Offset of the next page, when there is one. */
  next?: number;
  error?: string;
  loading: boolean;
}

function nameOf(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}

/** A discovery result (m2m:uril) as console paths: structured addresses are CSE-relative. */
function pathsOf(pc: unknown): string[] {
  const uril = (pc as Record<string, unknown> | undefined)?.['m2m:uril'];
  if (!Array.isArray(uril)) return [];
  return uril.filter((u): u is string => typeof u === 'string').map((u) => (u.startsWith('//') ? `/_${u.slice(1)}` : u.startsWith('/') ? `/~${u}` : `/${u}`));
}

interface NodeProps {
  path: string;
  selected: string;
  onSelect: (path: string) => void;
  /** Bumped by the resource view after a create or delete, to reload the open nodes. */
  revision: number;
  initiallyOpen?: boolean;
}

export function TreeNode({ path, selected, onSelect, revision, initiallyOpen = false }: NodeProps) {
  const [open, setOpen] = useState(initiallyOpen);
  const [children, setChildren] = useState<Children>({ paths: [], loading: false });

  async function load(offset: number): Promise<void> {
    setChildren((c) => ({ ...c, loading: true }));
    const answer = await onem2m('GET', `${path}?fu=1&lvl=1&lim=${PAGE}&ofst=${offset}`);
    if (answer.rsc !== 2000) {
      setChildren((c) => ({ ...c, loading: false, error: `${rscText(answer.rsc)} ${messageOf(answer)}` }));
      return;
    }
    // Discovery lists the node itself first when it matches; a child list does not repeat its parent.
    const found = pathsOf(answer.pc).filter((p) => p !== path);
    const more = answer.cnst === 1 ? answer.cnot : found.length >= PAGE ? offset + PAGE : undefined;
    setChildren((c) => ({ paths: offset === 0 ? found : [...c.paths, ...found], loading: false, ...(more === undefined ? {} : { next: more }) }));
  }

  useEffect(() => {
    if (open) void load(0);
  }, [open, revision]);

  return (
    <li class="node">
      <button class="toggle" aria-label={open ? 'collapse' : 'expand'} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'}
      </button>
      <button class={selected === path ? 'name selected' : 'name'} data-path={path} onClick={() => onSelect(path)}>
        {nameOf(path)}
      </button>
      {open && (
        <ul class="children">
          {children.error && <li class="error">{children.error}</li>}
          {children.paths.map((p) => (
            <TreeNode key={p} path={p} selected={selected} onSelect={onSelect} revision={revision} />
          ))}
          {children.loading && <li class="muted">loading…</li>}
          {!children.loading && children.next !== undefined && (
            <li>
              <button class="more" onClick={() => void load(children.next ?? 0)}>
                more…
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}
