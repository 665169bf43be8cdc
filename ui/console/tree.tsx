// The resource tree: each node's children are fetched when it is opened, a page at a time (discovery with
// lvl=1, lim and ofst), so a CSE of 100 000 resources costs one page per opened node. The page asks for child
// resource references (rcn=6: m2m:rrl, each with nm, typ and val) rather than a bare URI list, so every child's
// resource type comes with the same answer: no request per child.
import { useEffect, useState } from 'preact/hooks';
import { RESOURCE_TYPE_NAMES } from '../../src/console/referenceNames.ts';
import { onem2m, messageOf, rscText } from './api.js';

export const PAGE = 50;

interface Child {
  path: string;
  /** The resource type number (typ of the reference), when the answer gave one. */
  ty?: number;
}

interface Children {
  children: Child[];
  /** Offset of the next page, when there is one. */
  next?: number;
  error?: string;
  loading: boolean;
}

function nameOf(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}

/** A oneM2M address as a console path: structured addresses are CSE-relative. */
function pathOf(u: string): string {
  return u.startsWith('//') ? `/_${u.slice(1)}` : u.startsWith('/') ? `/~${u}` : `/${u}`;
}

/**
 * A discovery result with child resource references (m2m:rrl {rrf: [{nm, typ, val}]}) as children. A plain URI
 * list (m2m:uril) is read too, without types. Anything malformed is left out rather than shown.
 */
export function childrenOf(pc: unknown): Child[] {
  const content = pc as Record<string, unknown> | undefined;
  const uril = content?.['m2m:uril'];
  if (Array.isArray(uril)) return uril.filter((u): u is string => typeof u === 'string').map((u) => ({ path: pathOf(u) }));
  const rrf = (content?.['m2m:rrl'] as Record<string, unknown> | undefined)?.rrf;
  if (!Array.isArray(rrf)) return [];
  const children: Child[] = [];
  for (const ref of rrf as unknown[]) {
    const r = ref as Record<string, unknown> | null;
    if (typeof r?.val !== 'string') continue;
    children.push({ path: pathOf(r.val), ...(typeof r.typ === 'number' && Number.isInteger(r.typ) ? { ty: r.typ } : {}) });
  }
  return children;
}

/**
 * A short label for a resource type, from the reference names the attribute view uses: "Container" becomes
 * "container", "ContentInstance" "contentInstance"; names that begin with an acronym (CSEBase) stay as they are.
 */
export function typeLabel(ty: number): string {
  const full = RESOURCE_TYPE_NAMES[ty]?.[1];
  if (!full) return `ty ${ty}`;
  const name = full.replace(/\s+/g, '');
  return /^[A-Z][A-Z]/.test(name) ? name : name.charAt(0).toLowerCase() + name.slice(1);
}

interface NodeProps {
  path: string;
  /** The node's resource type, when its parent's listing told it. */
  ty?: number;
  selected: string;
  onSelect: (path: string) => void;
  /** Bumped by the resource view after a create or delete, to reload the open nodes. */
  revision: number;
  initiallyOpen?: boolean;
}

export function TreeNode({ path, ty, selected, onSelect, revision, initiallyOpen = false }: NodeProps) {
  const [open, setOpen] = useState(initiallyOpen);
  const [children, setChildren] = useState<Children>({ children: [], loading: false });

  async function load(offset: number): Promise<void> {
    setChildren((c) => ({ ...c, loading: true }));
    const answer = await onem2m('GET', `${path}?fu=1&lvl=1&rcn=6&lim=${PAGE}&ofst=${offset}`);
    if (answer.rsc !== 2000) {
      setChildren((c) => ({ ...c, loading: false, error: `${rscText(answer.rsc)} ${messageOf(answer)}` }));
      return;
    }
    // Discovery lists the node itself first when it matches; a child list does not repeat its parent.
    const found = childrenOf(answer.pc).filter((c) => c.path !== path);
    const more = answer.cnst === 1 ? answer.cnot : found.length >= PAGE ? offset + PAGE : undefined;
    setChildren((c) => ({ children: offset === 0 ? found : [...c.children, ...found], loading: false, ...(more === undefined ? {} : { next: more }) }));
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
      {ty !== undefined && (
        <span class="node-type" data-ty={ty} title={`${RESOURCE_TYPE_NAMES[ty]?.[0] ?? 'unknown type'} (ty=${ty})`}>
          {typeLabel(ty)}
        </span>
      )}
      {open && (
        <ul class="children">
          {children.error && <li class="error">{children.error}</li>}
          {children.children.map((c) => (
            <TreeNode key={c.path} path={c.path} {...(c.ty === undefined ? {} : { ty: c.ty })} selected={selected} onSelect={onSelect} revision={revision} />
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
