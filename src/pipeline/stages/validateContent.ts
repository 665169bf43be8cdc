// Stage 8: the content of CREATE and UPDATE against the type's attribute table and the parent's child types.
import { CseError, badRequest, notAllowed } from '../../primitive/errors.js';
import { checkResourceName } from '../../primitive/identifiers.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import type { ResourceTypeDefinition, Specialization } from '../../resources/define.js';
import { validateAttributes } from '../../resources/validate.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Stage } from '../pipeline.js';

/** The content's one resource: its name and its attributes. */
function unwrap(pc: unknown, expected: string): [string, Record<string, unknown>] {
  if (typeof pc !== 'object' || pc === null || Array.isArray(pc)) throw badRequest(`content must be an object {"${expected}": {...}}`);
  const keys = Object.keys(pc);
  const [name] = keys;
  if (keys.length !== 1 || name === undefined) {
    throw badRequest(`content must hold exactly one resource named '${expected}', found ${keys.map((k) => `'${k}'`).join(', ') || 'nothing'}`);
  }
  const inner = (pc as Record<string, unknown>)[name];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw badRequest(`'${name}' must be an object of attributes`);
  return [name, inner as Record<string, unknown>];
}

/** The named content of a CREATE: a specialized type (flexContainer) takes its table from the name. */
function createContent(pc: unknown, definition: ResourceTypeDefinition): [Specialization, Record<string, unknown>] {
  const [name, content] = unwrap(pc, definition.typeName);
  const specialization = definition.specialization?.forCreate(name, content) ?? definition;
  if (name !== specialization.typeName) throw badRequest(`content must hold exactly one resource named '${specialization.typeName}', found '${name}'`);
  return [specialization, content];
}

export const validateContent: Stage = {
  name: 'validateContent',
  run(ctx) {
    const r = ctx.request;
    const { registry } = ctx.services;
    const resource = ctx.resource;
    if (!resource) throw new Error('validateContent runs after resolveTarget');
    // Through fopt the content is for the members, each of which validates it itself.
    if (ctx.virtual === 'fopt') return Promise.resolve();
    if (r.op === OPERATION.CREATE) {
      const definition = registry.get(r.ty ?? -1);
      const parentDefinition = registry.get(resource.ty);
      if (!definition || !parentDefinition) throw badRequest(`resource type ${String(r.ty)} is not supported`);
      if (!definition.creatable) throw notAllowed(`${definition.typeName} cannot be created by a request`);
      if (definition.ty === RESOURCE_TYPE.subscription && !parentDefinition.childTypes.includes(definition.ty)) {
        // The spec's code for a parent that cannot be subscribed to, instead of 4108 [TS-0004 §7.4.8.2.1].
        throw new CseError(RSC.TARGET_NOT_SUBSCRIBABLE, `${parentDefinition.typeName} cannot be subscribed to`);
      }
      if (!parentDefinition.childTypes.includes(definition.ty)) {
        throw new CseError(RSC.INVALID_CHILD_RESOURCE_TYPE, `${definition.typeName} cannot be a child of ${parentDefinition.typeName}`);
      }
      const [specialization, content] = createContent(r.pc, definition);
      validateAttributes(specialization.typeName, specialization.attributes, content, 'create');
      if (content.rn !== undefined) {
        const problem = checkResourceName(content.rn as string);
        if (problem) throw badRequest(`attribute 'rn' ${problem}`);
      }
      ctx.content = content;
    } else if (r.op === OPERATION.UPDATE) {
      const definition = registry.get(resource.ty);
      if (!definition) throw new Error(`stored resource of unknown type ${resource.ty}`);
      if (!definition.updatable) throw notAllowed(`${definition.typeName} cannot be updated`);
      const specialization = definition.specialization?.of(resource) ?? definition;
      const [name, content] = unwrap(r.pc, specialization.typeName);
      if (name !== specialization.typeName) throw badRequest(`content must hold exactly one resource named '${specialization.typeName}', found '${name}'`);
      if (Object.keys(content).length === 0) throw badRequest('UPDATE content names no attribute');
      validateAttributes(specialization.typeName, specialization.attributes, content, 'update');
      ctx.content = content;
    }
    return Promise.resolve();
  },
};
