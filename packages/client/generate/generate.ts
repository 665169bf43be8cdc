// Generates packages/client/src/generated/resources.ts from Warden's own tables: the resource types of the
// registry (their content names, numbers and attribute tables, with the create / update rules of each attribute)
// and the response status codes of src/primitive/rsc.ts. The client is published on its own, so it cannot import
// Warden's sources; it carries this generated copy instead, and test/client/generated.test.ts fails when the copy
// and the tables drift apart. Run after changing a table:
//   npx tsc -p tsconfig.json && node dist/packages/client/generate/generate.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AttributeSpec, AttributeTable, ResourceTypeDefinition } from '../../../src/resources/define.js';
import { ResourceRegistry } from '../../../src/resources/registry.js';
import { RESOURCE_TYPE } from '../../../src/resources/types.js';
import { RSC } from '../../../src/primitive/rsc.js';

/** Where the generated file lives, from the compiled script (dist/packages/client/generate) or the source. */
export const GENERATED_FILE = fileURLToPath(new URL('../../../../packages/client/src/generated/resources.ts', import.meta.url));

const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

/** The TypeScript type of an attribute's value, from its data type in the table. */
function valueType(spec: AttributeSpec): string {
  const literals = spec.values && spec.values.length > 0 ? spec.values.join(' | ') : 'number';
  switch (spec.type) {
    case 'string':
    case 'timestamp':
    case 'anyURI':
      return 'string';
    case 'duration':
      // xs:duration text ('PT1S') or milliseconds.
      return 'string | number';
    case 'boolean':
      return 'boolean';
    case 'integer':
    case 'number':
    case 'nonNegInteger':
    case 'positiveInteger':
      return 'number';
    case 'enum':
      return literals;
    case 'enumList':
      return literals === 'number' ? 'number[]' : `Array<${literals}>`;
    case 'stringList':
    case 'anyURIList':
      return 'string[]';
    case 'list':
      return 'unknown[]';
    case 'object':
      return 'Record<string, unknown>';
    case 'any':
      return 'unknown';
  }
}

/** Attribute names sorted, so the output does not depend on the order tables are spread in. */
const sortedEntries = (table: AttributeTable): Array<[string, AttributeSpec]> => Object.entries(table).sort(([a], [b]) => a.localeCompare(b));

function doc(spec: AttributeSpec): string {
  const extra = spec.maxLength === undefined ? '' : `, at most ${spec.maxLength}`;
  return `/** ${spec.type}; create ${spec.create}, update ${spec.update}${extra} */`;
}

interface Named {
  readonly name: string;
  readonly definition: ResourceTypeDefinition;
}

/** The types an AE author addresses: every registered type but the announced ones (10000+), mgmtObj specializations each by name. */
function namedTypes(registry: ResourceRegistry): Named[] {
  const byTy = new Map<number, string>(Object.entries(RESOURCE_TYPE).map(([name, ty]) => [ty, name]));
  const out: Named[] = [];
  for (const ty of registry.supportedTypes()) {
    const definition = registry.get(ty);
    const name = byTy.get(ty);
    if (!definition || name === undefined) continue;
    out.push({ name: pascal(name), definition });
    for (const s of definition.specializations ?? []) out.push({ name: `${pascal(name)}${pascal(s.typeName.split(':')[1] ?? '')}`, definition: s });
  }
  return out;
}

/** The whole generated file, as text. */
export function renderClientTypes(registry = new ResourceRegistry()): string {
  const types = namedTypes(registry);
  const lines: string[] = [
    '// GENERATED from Warden\'s attribute tables (src/resources/types/*.ts, src/primitive/rsc.ts) by',
    '// packages/client/generate/generate.ts. Do not edit: change the tables and run the generator;',
    '// test/client/generated.test.ts fails when this file and the tables differ.',
    '',
    '/** Every resource type by its content name: its number (ty) and its name in TS-0004. */',
    'export const RESOURCE_TYPES = {',
  ];
  for (const { name, definition } of types) {
    lines.push(`  '${definition.typeName}': { ty: ${definition.ty}, name: '${name}', creatable: ${definition.creatable}, updatable: ${definition.updatable} },`);
  }
  lines.push('} as const;', '', '/** A content name such as `m2m:cnt`. */', 'export type TypeName = keyof typeof RESOURCE_TYPES;', '');
  for (const { name, definition } of types) {
    const flexible = definition.specialization !== undefined;
    const table = sortedEntries(definition.attributes);
    lines.push(`/** <${definition.typeName}> (ty ${definition.ty}) as the CSE shows it. */`, `export interface ${name} {`);
    for (const [attr, spec] of table) lines.push(`  ${doc(spec)}`, `  ${attr}?: ${valueType(spec)};`);
    // A flexContainer's specialization adds attributes of its own, named per containerDefinition.
    if (flexible) lines.push('  /** Attributes of the specialization (containerDefinition). */', '  [custom: string]: unknown;');
    lines.push('}', '');
    lines.push(`/** What a CREATE of <${definition.typeName}> may carry (M required, O optional, NP left out). */`, `export interface ${name}Create {`);
    for (const [attr, spec] of table) {
      if (spec.create === 'NP') continue;
      // creator may only be named with null in a request: the CSE fills it in.
      lines.push(`  ${attr}${spec.create === 'M' ? '' : '?'}: ${attr === 'cr' ? 'null' : valueType(spec)};`);
    }
    if (flexible) lines.push('  [custom: string]: unknown;');
    lines.push('}', '');
    lines.push(`/** What an UPDATE of <${definition.typeName}> may carry (null removes an optional attribute). */`, `export interface ${name}Update {`);
    for (const [attr, spec] of table) {
      if (spec.update === 'NP') continue;
      const type = valueType(spec);
      lines.push(`  ${attr}?: ${type}${spec.update === 'O' && type !== 'unknown' ? ' | null' : ''};`);
    }
    if (flexible) lines.push('  [custom: string]: unknown;');
    lines.push('}', '');
  }
  for (const [map, suffix] of [
    ['ResourceMap', ''],
    ['CreateMap', 'Create'],
    ['UpdateMap', 'Update'],
  ] as const) {
    lines.push(`export interface ${map} {`);
    for (const { name, definition } of types) lines.push(`  '${definition.typeName}': ${name}${suffix};`);
    lines.push('}', '');
  }
  lines.push('/** Response status codes (TS-0004 §6.6.3) by name, as Warden answers them. */', 'export const RSC = {');
  for (const [name, code] of Object.entries(RSC)) lines.push(`  ${name}: ${code},`);
  lines.push('} as const;', '');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(GENERATED_FILE, renderClientTypes());
  process.stdout.write(`wrote ${GENERATED_FILE}\n`);
}
