// Benchmark scenarios: each prepares its resources, then builds request i of the measured run.
import type { LoadRequest } from './load.js';
import type { BenchContext } from './run.js';

export interface Scenario {
  name: string;
  prepare(ctx: BenchContext): Promise<(i: number) => LoadRequest>;
  ok(rsc: number): boolean;
}

const headers = (origin: string, rqi: string, ty?: number): Record<string, string> => ({
  'X-M2M-Origin': origin,
  'X-M2M-RI': rqi,
  'X-M2M-RVI': '3',
  Accept: 'application/json',
  ...(ty === undefined ? {} : { 'Content-Type': `application/json;ty=${ty}` }),
});

async function setUp(ctx: BenchContext, ae: string, container: string): Promise<void> {
  await ctx.call({ method: 'POST', path: '/cse-in', headers: headers(`C${ae}`, `setup-${ae}`, 2), body: JSON.stringify({ 'm2m:ae': { rn: ae, api: `N${ae}`, rr: false, srv: ['3'] } }) });
  await ctx.call({ method: 'POST', path: `/cse-in/${ae}`, headers: headers(`C${ae}`, `setup-${ae}-c`, 3), body: JSON.stringify({ 'm2m:cnt': { rn: container, mni: 1000 } }) });
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'ingest (CREATE cin)',
    async prepare(ctx) {
      await setUp(ctx, 'ingest', 'data');
      return (i) => ({
        method: 'POST',
        path: '/cse-in/ingest/data',
        headers: headers('Cingest', `ingest-${i}`, 4),
        body: JSON.stringify({ 'm2m:cin': { cnf: 'application/json:0', con: { temperature: 20 + (i % 10), seq: i } } }),
      });
    },
    ok: (rsc) => rsc === 2001,
  },
  {
    name: 'read-latest (GET la)',
    async prepare(ctx) {
      await setUp(ctx, 'reader', 'data');
      for (let i = 0; i < 100; i++) {
        await ctx.call({ method: 'POST', path: '/cse-in/reader/data', headers: headers('Creader', `seed-${i}`, 4), body: JSON.stringify({ 'm2m:cin': { con: String(i) } }) });
      }
      return (i) => ({ method: 'GET', path: '/cse-in/reader/data/la', headers: headers('Creader', `la-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
];
