// Stage 8: the content of CREATE and UPDATE against the type's attribute table and the parent's child types.
import { CseError, badRequest, notAllowed, quotedName } from '../../primitive/errors.js';
import { checkResourceName } from '../../primitive/identifiers.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import type { ResourceTypeDefinition, Specialization } from '../../resources/define.js';
import type { ResourceRegistry } from '../../resources/registry.js';
import { validateAttributes } from '../../resources/validate.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Stage } from '../pipeline.js';

/** The content's one resource: its name and its attributes. */
function unwrap(pc: unknown, expected: string): [string, Record<string, unknown>] {
  if (typeof pc !== 'object' || pc === null || Array.isArray(pc)) throw badRequest(`content must be an object {"${expected}": {...}}`);
  const keys = Object.keys(pc);
  const [name] = keys;
  if (keys.length !== 1 || name === undefined) {
    throw badRequest(`content must hold exactly one resource named '${expected}', found ${keys.slice(0, 8).map((k) => `'${quotedName(k)}'`).join(', ') || 'nothing'}`);
  }
  const inner = (pc as Record<string, unknown>)[name];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw badRequest(`'${quotedName(name)}' must be an object of attributes`);
  return [name, inner as Record<string, unknown>];
}

/** The named content of a CREATE: a specialized type (flexContainer) takes its table from the name. */
function createContent(pc: unknown, definition: ResourceTypeDefinition): [Specialization, Record<string, unknown>] {
  const [name, content] = unwrap(pc, definition.typeName);
  const specialization = definition.specialization?.forCreate(name, content) ?? definition;
  if (name !== specialization.typeName) throw badRequest(`content must hold exactly one resource named '${specialization.typeName}', found '${quotedName(name)}'`);
  return [specialization, content];
}

/**
 * The definition a CREATE asks for. A type with specializations (mgmtObj) is told by the content's root element
 * (m2m:fwr …); a root that names none is 4000 naming the attribute that tells them apart when it has a value no
 * specialization has (an unknown mgd), else listing the names this CSE knows.
 */
export function createdDefinition(registry: ResourceRegistry, ty: number | undefined, pc: unknown): ResourceTypeDefinition | undefined {
  const base = registry.get(ty ?? -1);
  const specializations = base?.specializations;
  if (!specializations) return base;
  const content = typeof pc === 'object' && pc !== null && !Array.isArray(pc) ? (pc as Record<string, unknown>) : {};
  const [root] = Object.keys(content);
  const named = specializations.find((s) => s.typeName === root);
  if (named) return named;
  const known = specializations.map((s) => `${String(s.specializedBy?.value)} (${s.typeName})`).join(', ');
  const attribute = specializations[0]?.specializedBy?.attribute;
  const inner = root === undefined ? undefined : content[root];
  const value = attribute && typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>)[attribute] : undefined;
  if (attribute && value !== undefined && !specializations.some((s) => s.specializedBy?.value === value)) {
    throw badRequest(`attribute '${attribute}' ${JSON.stringify(value)} names no ${base.typeName} specialization this CSE supports: ${known}`);
  }
  throw badRequest(`content must hold one ${base.typeName} specialization named by its root element, found ${root === undefined ? 'nothing' : `'${root}'`}: ${known}`);
}

export const validateContent: Stage = {
  name: 'validateContent',
  run(ctx) {
    const r = ctx.request;
    const { registry } = ctx.services;
    const resource = ctx.resource;
    if (!resource) throw new Error('validateContent runs after resolveTarget');
    // Through fopt the content is for the members, each of which validates it itself.
    if (ctx.virtual === 'fopt') return undefined;
    if (r.op === OPERATION.CREATE) {
      const definition = createdDefinition(registry, r.ty, r.pc);
      const parentDefinition = registry.of(resource);
      if (!definition || !parentDefinition) throw badRequest(`resource type ${String(r.ty)} is not supported`);
      if (!definition.creatable) throw notAllowed(`${definition.typeName} cannot be created by a request`);
      if (definition.ty === RESOURCE_TYPE.subscription && !parentDefinition.childTypes.includes(definition.ty)) {
        // The spec's code for a parent that cannot be subscribed to, instead of 4108 [TS-0004 §7.4.8.2.1].
        throw new CseError(RSC.TARGET_NOT_SUBSCRIBABLE, `${parentDefinition.typeName} cannot be subscribed to`);
      }
      if (!parentDefinition.childTypes.includes(definition.ty)) {
        throw new CseError(RSC.INVALID_CHILD_RESOURCE_TYPE, `${definition.typeName} cannot be a child of ${parentDefinition.typeName}`);
      }
      const [specialization, given] = createContent(r.pc, definition);
      const content = validateAttributes(specialization.typeName, specialization.attributes, given, 'create');
      // The parent's virtual children (a container's la / ol) own these names: no request may create them.
      if (typeof content.rn === 'string' && (parentDefinition.virtualChildren as readonly string[] | undefined)?.includes(content.rn)) {
        throw notAllowed(`attribute 'rn': '${content.rn}' names a virtual resource of ${parentDefinition.typeName}`);
      }
      if (content.rn !== undefined) {
        const problem = checkResourceName(content.rn as string);
        if (problem) throw badRequest(`attribute 'rn' ${problem}`);
      }
      ctx.content = content;
    } else if (r.op === OPERATION.UPDATE) {
      const definition = registry.of(resource);
      if (!definition) throw new Error(`stored resource of unknown type ${resource.ty}`);
      if (!definition.updatable) throw notAllowed(`${definition.typeName} cannot be updated`);
      const specialization = definition.specialization?.of(resource) ?? definition;
      const [name, content] = unwrap(r.pc, specialization.typeName);
      // TS-0004 names no code for an UPDATE whose content is another type than its target; ACME answers 4102.
      if (name !== specialization.typeName) throw new CseError(RSC.CONTENTS_UNACCEPTABLE, `the content is a '${name}', and the target is a '${specialization.typeName}'`);
      // An UPDATE naming no attribute changes none, and is still an update: lt and st move [TS-0004 §7.3.3.7], and
      // §7.2.1.1 requires attributes only in a CREATE's Content (an UPDATE's is a partial resource).
      validateAttributes(specialization.typeName, specialization.attributes, content, 'update');
      ctx.content = content;
    }
    return undefined;
  },
};
