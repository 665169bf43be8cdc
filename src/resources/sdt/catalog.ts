// The specializations of <flexContainer> as typed attribute tables, built once from the data in specializations.ts.
import type { AttributeSpec, AttributeTable, AttributeType, Presence, Specialization } from '../define.js';
import type { StoredResource } from '../../storage/store.js';
import { SPECIALIZATIONS, type SpecializationEntry } from './specializations.js';

export interface SdtDefinition {
  /** The name content of this specialization goes under, e.g. `cod:binSh`. */
  readonly typeName: string;
  /** Undefined where the specialization leaves containerDefinition to the creator (TS-0004 Annex J). */
  readonly containerDefinition: string | undefined;
  /** The custom attributes (SDT data points) by short name. */
  readonly dataPoints: AttributeTable;
}

const TYPES: Readonly<Record<string, AttributeType>> = {
  s: 'string',
  t: 'timestamp',
  f: 'number',
  i: 'integer',
  n: 'nonNegInteger',
  b: 'boolean',
  l: 'list',
  u: 'anyURI',
};

function presence(rule: string): [Presence, string] {
  for (const p of ['NP', 'M', 'O'] as const) if (rule.startsWith(p)) return [p, rule.slice(p.length)];
  return ['O', rule];
}

function dataPoint(owner: string, name: string, rule: string): AttributeSpec {
  const type = TYPES[rule.charAt(0)];
  if (!type) throw new Error(`specialization ${owner}: data point '${name}' has the unknown type '${rule}'`);
  const [create, rest] = presence(rule.slice(1));
  const [update] = presence(rest);
  return { type, create, update };
}

function definitionOf([typeName, cnd, points]: SpecializationEntry): SdtDefinition {
  const dataPoints: Record<string, AttributeSpec> = {};
  for (const [name, rule] of Object.entries(points)) dataPoints[name] = dataPoint(typeName, name, rule);
  return { typeName, containerDefinition: cnd === '' ? undefined : cnd, dataPoints };
}

class SdtCatalog {
  private readonly byName = new Map<string, SdtDefinition>();
  private readonly byCnd = new Map<string, SdtDefinition>();
  private readonly dataPointNames = new Set<string>();

  constructor(entries: readonly SpecializationEntry[]) {
    for (const entry of entries) {
      const definition = definitionOf(entry);
      this.byName.set(definition.typeName, definition);
      if (definition.containerDefinition !== undefined) this.byCnd.set(definition.containerDefinition, definition);
      for (const name of Object.keys(definition.dataPoints)) this.dataPointNames.add(name);
    }
  }

  named(typeName: string): SdtDefinition | undefined {
    return this.byName.get(typeName);
  }

  forContainerDefinition(cnd: string): SdtDefinition | undefined {
    return this.byCnd.get(cnd);
  }

  definesDataPoint(name: string): boolean {
    return this.dataPointNames.has(name);
  }
}

export const SDT_CATALOG = new SdtCatalog(SPECIALIZATIONS);

/** Where a specialized resource keeps the name of its specialization (internal: never shown). */
export const SPECIALIZATION_KEY = '__sdt';

/**
 * A type's attribute table per specialization, built once each: the type's own attributes plus the data points
 * (read-only where the type is an immutable instance). The type's own attributes win a clash of names.
 */
export function specializedTables(base: AttributeTable, readOnly: boolean): (definition: SdtDefinition) => Specialization {
  const built = new Map<string, Specialization>();
  return (definition) => {
    let specialization = built.get(definition.typeName);
    if (!specialization) {
      const points = readOnly
        ? Object.fromEntries(Object.entries(definition.dataPoints).map(([name, spec]) => [name, { ...spec, create: 'NP', update: 'NP' } satisfies AttributeSpec]))
        : definition.dataPoints;
      specialization = { typeName: definition.typeName, attributes: { ...points, ...base } };
      built.set(definition.typeName, specialization);
    }
    return specialization;
  };
}

/** The specialization a stored resource was created as; its type's base table if the catalog lost it. */
export function storedSpecialization(resource: StoredResource, tables: (definition: SdtDefinition) => Specialization, fallback: Specialization): Specialization {
  const name = resource.doc[SPECIALIZATION_KEY];
  const definition = typeof name === 'string' ? SDT_CATALOG.named(name) : undefined;
  return definition ? tables(definition) : fallback;
}

/** The custom attributes of a specialized resource: the names its specialization adds to the type's own. */
export function customAttributeNames(specialization: Specialization, base: AttributeTable): string[] {
  return Object.keys(specialization.attributes).filter((name) => !Object.hasOwn(base, name));
}
