// Locations (m2m:geoCoordinates: geometryType `typ` + coordinates `crd`, TS-0004 §6.3.5.x, Release 4) and the
// spatial functions of a geoQuery (Within, Contains, Intersects). The relations themselves come from Turf.
import { booleanContains } from '@turf/boolean-contains';
import { booleanIntersects } from '@turf/boolean-intersects';
import type { Geometry, Position } from 'geojson';

/** m2m:geometryType [TS-0004 §6.3.4.2.x]. */
export const GEOMETRY_TYPE = { Point: 1, LineString: 2, Polygon: 3, MultiPoint: 4, MultiLineString: 5, MultiPolygon: 6 } as const;
/** m2m:geoSpatialFunctionType. */
export const GEO_FUNCTION = { WITHIN: 1, CONTAINS: 2, INTERSECTS: 3 } as const;

/**
 * Most positions one geometry may hold: a location is a place, not a map. Spatial tests cost up to the product
 * of both geometries' positions, so a query geometry is held to fewer.
 */
export const MAX_LOCATION_POSITIONS = 500;
export const MAX_QUERY_POSITIONS = 128;
const MAX_COORDINATES_TEXT = 256 * 1024;

export class GeometryError extends Error {}

interface Counter {
  n: number;
  max: number;
}

function position(value: unknown, count: Counter): Position {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3 || !value.every((c) => typeof c === 'number' && Number.isFinite(c))) {
    throw new GeometryError('a position is [longitude, latitude] (or with altitude) of finite numbers');
  }
  if (++count.n > count.max) throw new GeometryError(`a geometry may hold at most ${count.max} positions`);
  return value as Position;
}

function positions(value: unknown, min: number, count: Counter): Position[] {
  if (!Array.isArray(value)) throw new GeometryError('expected a list of positions');
  const list = value.map((p) => position(p, count));
  if (list.length < min) throw new GeometryError(`expected at least ${min} positions`);
  return list;
}

function ring(value: unknown, count: Counter): Position[] {
  const list = positions(value, 4, count);
  const first = list[0] as Position;
  const last = list[list.length - 1] as Position;
  if (first[0] !== last[0] || first[1] !== last[1]) throw new GeometryError('a polygon ring must end where it starts');
  return list;
}

/** A ring list, also accepting the single ring open CSEs (ACME) write for a polygon without holes. */
function polygon(value: unknown, count: Counter): Position[][] {
  if (!Array.isArray(value) || value.length === 0) throw new GeometryError('a polygon is a list of rings');
  const isSingleRing = Array.isArray(value[0]) && typeof (value[0] as unknown[])[0] === 'number';
  return isSingleRing ? [ring(value, count)] : value.map((r) => ring(r, count));
}

function list<T>(value: unknown, item: (v: unknown) => T): T[] {
  if (!Array.isArray(value) || value.length === 0) throw new GeometryError('expected a non-empty list');
  return value.map(item);
}

/** The GeoJSON geometry that a geometryType and coordinates (already parsed from JSON) describe. */
export function toGeometry(type: number, coordinates: unknown, maxPositions = MAX_LOCATION_POSITIONS): Geometry {
  const count: Counter = { n: 0, max: maxPositions };
  switch (type) {
    case GEOMETRY_TYPE.Point:
      return { type: 'Point', coordinates: position(coordinates, count) };
    case GEOMETRY_TYPE.LineString:
      return { type: 'LineString', coordinates: positions(coordinates, 2, count) };
    case GEOMETRY_TYPE.Polygon:
      return { type: 'Polygon', coordinates: polygon(coordinates, count) };
    case GEOMETRY_TYPE.MultiPoint:
      return { type: 'MultiPoint', coordinates: positions(coordinates, 1, count) };
    case GEOMETRY_TYPE.MultiLineString:
      return { type: 'MultiLineString', coordinates: list(coordinates, (l) => positions(l, 2, count)) };
    case GEOMETRY_TYPE.MultiPolygon: {
      // GeoJSON nests rings in polygons; ACME writes a list of single rings. Both are accepted.
      const isRingList = Array.isArray(coordinates) && Array.isArray(coordinates[0]) && Array.isArray((coordinates[0] as unknown[])[0]) && typeof ((coordinates[0] as unknown[][])[0] as unknown[])[0] === 'number';
      return { type: 'MultiPolygon', coordinates: isRingList ? list(coordinates, (r) => [ring(r, count)]) : list(coordinates, (p) => polygon(p, count)) };
    }
    default:
      throw new GeometryError('geometryType must be 1 (Point) … 6 (MultiPolygon)');
  }
}

/** Coordinates travel as JSON text (crd, geom); parsed here with a bound on their size. */
export function parseCoordinates(text: string): unknown {
  if (text.length > MAX_COORDINATES_TEXT) throw new GeometryError('coordinates are too long');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GeometryError('coordinates must be a JSON array such as [8.4, 49.0]');
  }
}

/** Validation of a `loc` attribute value (m2m:geoCoordinates); returns a problem or undefined. */
export function checkLocation(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object with typ and crd';
  const keys = Object.keys(value);
  if (keys.some((k) => k !== 'typ' && k !== 'crd')) return 'may hold only typ (geometryType) and crd (coordinates)';
  const { typ, crd } = value as { typ?: unknown; crd?: unknown };
  if (typeof typ !== 'number' || typeof crd !== 'string') return 'needs typ (geometryType 1-6) and crd (coordinates as JSON text)';
  try {
    toGeometry(typ, parseCoordinates(crd));
  } catch (err) {
    return err instanceof GeometryError ? `is not a valid location: ${err.message}` : 'is not a valid location';
  }
  // The Release 4 data type (geoJsonCoordinate) is not in the V3 texts; ACME, whose reading the community suite
  // encodes, takes a position's numbers as floats and refuses [1, 2]: Warden does the same for a stored location
  // (not for a query's geom, which ACME takes as written). Numbers are written with a fraction or an exponent.
  if (INTEGER_NUMBER.test(crd)) return 'is not a valid location: coordinates are decimal numbers written with a fraction (1.0, not 1)';
  return undefined;
}

/** A JSON number token without fraction or exponent; crd has been checked to hold numbers only, no strings. */
const INTEGER_NUMBER = /(?<![\d.eE+-])-?\d+(?![\d.eE])/;

/** The geometry of a stored `loc`, or undefined when the resource has none (or an unreadable one). */
export function locationOf(doc: Record<string, unknown>): Geometry | undefined {
  const loc = doc.loc;
  if (typeof loc !== 'object' || loc === null) return undefined;
  const { typ, crd } = loc as { typ?: unknown; crd?: unknown };
  if (typeof typ !== 'number' || typeof crd !== 'string') return undefined;
  try {
    return toGeometry(typ, parseCoordinates(crd));
  } catch {
    return undefined;
  }
}

function parts(g: Geometry): Geometry[] {
  switch (g.type) {
    case 'MultiPoint':
      return g.coordinates.map((coordinates) => ({ type: 'Point', coordinates }));
    case 'MultiLineString':
      return g.coordinates.map((coordinates) => ({ type: 'LineString', coordinates }));
    case 'MultiPolygon':
      return g.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }));
    default:
      return [g];
  }
}

/**
 * Whether `outer` contains `inner`. Turf covers the usual pairs; for the others a multi-part inner is
 * contained when each part is, and a multi-part outer contains what one of its parts contains.
 */
export function contains(outer: Geometry, inner: Geometry): boolean {
  try {
    return booleanContains(outer, inner);
  } catch {
    const inners = parts(inner);
    if (inners.length > 1 || inners[0] !== inner) return inners.every((p) => contains(outer, p));
    const outers = parts(outer);
    if (outers.length > 1 || outers[0] !== outer) return outers.some((p) => contains(p, inner));
    // What Turf leaves out is a lower-dimensional set around a higher one (a point around a line, a line
    // around a polygon): never a containment.
    return false;
  }
}

/**
 * The spatial function of a geoQuery. As in ACME (which passes the oneM2M test suite), the query geometry is
 * the first operand: Within holds when the query geometry lies within the resource's location, Contains
 * when it contains the location. (Mobius reverses the operands; TS-0004 does not spell the order out.)
 */
export function spatialMatch(fn: number, query: Geometry, location: Geometry): boolean {
  switch (fn) {
    case GEO_FUNCTION.WITHIN:
      return contains(location, query);
    case GEO_FUNCTION.CONTAINS:
      return contains(query, location);
    case GEO_FUNCTION.INTERSECTS:
      return booleanIntersects(query, location);
    default:
      return false;
  }
}

/** The bounding box of a geometry: [west, south, east, north]. */
export function boundingBox(g: Geometry): [number, number, number, number] {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  forEachPosition(g, ([x, y]) => {
    box[0] = Math.min(box[0], x as number);
    box[1] = Math.min(box[1], y as number);
    box[2] = Math.max(box[2], x as number);
    box[3] = Math.max(box[3], y as number);
  });
  return box;
}

/** Internal document keys holding the bounding box of `loc`, so the database can narrow geo queries. */
export const LOCATION_BOX_KEYS = ['__locW', '__locS', '__locE', '__locN'] as const;

/** Keeps the bounding-box keys of a document in step with its `loc` (call after every write of loc). */
export function deriveLocationBox(doc: Record<string, unknown>): void {
  const geometry = doc.loc === undefined ? undefined : locationOf(doc);
  const box = geometry ? boundingBox(geometry) : undefined;
  LOCATION_BOX_KEYS.forEach((key, i) => {
    if (box) doc[key] = box[i];
    else delete doc[key];
  });
}

/**
 * What a geoSpatialFunction requires of a location's bounding box, given the query geometry's box: necessary
 * conditions the database can test before the exact test (inclusive bounds; [key, min, max]).
 */
export function boxConditions(fn: number, query: Geometry): Array<[string, number | undefined, number | undefined]> {
  const [w, s, e, n] = boundingBox(query);
  switch (fn) {
    case GEO_FUNCTION.CONTAINS:
      // The query contains the location: the location's box lies inside the query's.
      return [['__locW', w, undefined], ['__locS', s, undefined], ['__locE', undefined, e], ['__locN', undefined, n]];
    case GEO_FUNCTION.WITHIN:
      // The query lies within the location: the location's box holds the query's.
      return [['__locW', undefined, w], ['__locS', undefined, s], ['__locE', e, undefined], ['__locN', n, undefined]];
    default:
      // They intersect: the boxes overlap.
      return [['__locW', undefined, e], ['__locS', undefined, n], ['__locE', w, undefined], ['__locN', s, undefined]];
  }
}

/** How many positions a geometry holds (the size that spatial tests cost). */
export function positionCount(g: Geometry): number {
  let n = 0;
  forEachPosition(g, () => n++);
  return n;
}

/** Every position of a geometry, at whatever depth its type nests them. */
function forEachPosition(g: Geometry, fn: (position: Position) => void): void {
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') fn(c as Position);
    else if (Array.isArray(c)) for (const inner of c) visit(inner);
  };
  if (g.type !== 'GeometryCollection') visit(g.coordinates);
}
