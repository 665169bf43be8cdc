// The small parsers of the request language: ISO durations, label queries, content filters, geometries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAbsRelTimestamp, parseDuration } from '../../src/primitive/identifiers.js';
import { compileLabelsQuery } from '../../src/operations/labelsQuery.js';
import { compileContentFilter } from '../../src/operations/contentFilter.js';
import { GEO_FUNCTION, spatialMatch, toGeometry } from '../../src/resources/geometry.js';

describe('ISO 8601 durations', () => {
  it('reads every part and refuses empty or malformed ones', () => {
    assert.equal(parseDuration('PT30S'), 30_000);
    assert.equal(parseDuration('PT1.5S'), 1_500);
    assert.equal(parseDuration('P1DT2H3M'), ((24 + 2) * 60 + 3) * 60_000);
    assert.equal(parseDuration('P2W'), 14 * 86_400_000);
    assert.equal(parseDuration('P1Y'), 365 * 86_400_000);
    for (const bad of ['P', 'PT', 'P1H', 'PT1D', '1S', 'PTxS', 'P-1D', '']) assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(parseAbsRelTimestamp('PT2S', 1_000), 3_000);
    assert.equal(parseAbsRelTimestamp('2000', 1_000), 3_000);
  });
});

describe('label queries', () => {
  it('matches keys, pairs and value lists, and names the keys a match needs', () => {
    const q = compileLabelsQuery(['color IN (red, green)', 'size']);
    assert.equal(q.test(['color:green']), true);
    assert.equal(q.test(['size']), true);
    assert.equal(q.test(['color:blue']), false);
    assert.equal(q.test('not a list'), false);
    assert.deepEqual(q.keys, ['color', 'size']);
    assert.equal(q.exact, undefined, 'a key-only expression has no exact labels');
    assert.deepEqual(compileLabelsQuery(['a EQ 1', 'b:2']).exact, ['a:1', 'b:2']);
    assert.equal(compileLabelsQuery(['NT a']).keys, undefined, 'NT needs no key');
    assert.throws(() => compileLabelsQuery([]), /empty/);
    assert.throws(() => compileLabelsQuery(Array.from({ length: 17 }, () => 'a')), /at most 16/);
  });
});

describe('content filters', () => {
  const json = (con: unknown) => ({ cnf: 'application/json:0', con: JSON.stringify(con) });
  it('evaluates clauses left to right on JSON content only', () => {
    const f = compileContentFilter(1, '$.a GT 1 OR $.b EQ "x" AND $.c EQ true');
    assert.equal(f(json({ a: 2, c: true })), true);
    assert.equal(f(json({ a: 2, c: false })), false, '(true OR false) AND false');
    assert.equal(f({ cnf: 'text/plain:0', con: '{"a": 5, "c": true}' }), false);
    assert.equal(f({ cnf: 'application/json:1', con: 'eyJhIjo1fQ==' }), false, 'base64 content is not read');
    assert.equal(compileContentFilter(undefined, '$.list[1]."x y" MATCH "ell"')(json({ list: [0, { 'x y': 'hello' }] })), true);
    assert.throws(() => compileContentFilter(2, '$.a EQ 1'), /must be 1/);
    assert.throws(() => compileContentFilter(1, undefined), /needs a contentFilterQuery/);
  });
});

describe('geometries', () => {
  it('accepts GeoJSON and single-ring polygons, and tests with the query geometry first', () => {
    const square = toGeometry(3, [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]);
    const point = toGeometry(1, [1, 1]);
    assert.equal(spatialMatch(GEO_FUNCTION.CONTAINS, square, point), true, 'the query square contains the location');
    assert.equal(spatialMatch(GEO_FUNCTION.WITHIN, point, square), true, 'the query point lies within the location');
    assert.equal(spatialMatch(GEO_FUNCTION.WITHIN, square, point), false);
    assert.equal(spatialMatch(GEO_FUNCTION.INTERSECTS, toGeometry(2, [[-1, 1], [3, 1]]), square), true);
    const multi = toGeometry(6, [[[0, 0], [1, 0], [1, 1], [0, 0]], [[5, 5], [6, 5], [6, 6], [5, 5]]]);
    assert.equal(multi.type, 'MultiPolygon');
    assert.throws(() => toGeometry(3, [[0, 0], [1, 1]]), /at least 4/);
    assert.throws(() => toGeometry(1, [1, 2], 0), /at most 0/);
  });
});
