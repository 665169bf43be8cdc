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
  {
    name: 'read (owner)',
    async prepare(ctx) {
      await setUp(ctx, 'home', 'data');
      await ctx.call({ method: 'POST', path: '/cse-in/home/data', headers: headers('Chome', 'seed', 4), body: JSON.stringify({ 'm2m:cin': { rn: 'reading', con: '42' } }) });
      return (i) => ({ method: 'GET', path: '/cse-in/home/data/reading', headers: headers('Chome', `own-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // The same read by another AE, granted only by the last of several rules with contexts.
    name: 'read-by-other (ACP)',
    async prepare(ctx) {
      await setUp(ctx, 'shared', 'data');
      await ctx.call({ method: 'POST', path: '/cse-in', headers: headers('Cvisitor', 'setup-visitor', 2), body: JSON.stringify({ 'm2m:ae': { rn: 'visitor', api: 'Nvisitor', rr: false, srv: ['3'] } }) });
      const policy = {
        'm2m:acp': {
          rn: 'policy',
          pv: {
            acr: [
              { acor: ['Cmaintenance', '/id-in/Cops*'], acop: 63 },
              { acor: ['Cvisitor'], acop: 2, acco: [{ actw: ['* * * * * * 2000-2001'] }] },
              { acor: ['Cvisitor'], acop: 2, acco: [{ acip: { ipv4: ['10.0.0.0/8'] } }] },
              { acor: ['Cvisitor'], acop: 2, acco: [{ actw: ['* * 0-23 * * 0-6 *'], acip: { ipv4: ['127.0.0.0/8'], ipv6: ['::1/128'] } }] },
            ],
          },
          pvs: { acr: [{ acor: ['Cshared'], acop: 63 }] },
        },
      };
      const acp = await ctx.call({ method: 'POST', path: '/cse-in/shared', headers: headers('Cshared', 'setup-acp', 1), body: JSON.stringify(policy) });
      const acpRi = String((acp?.['m2m:acp'] as Record<string, unknown>).ri);
      await ctx.call({ method: 'POST', path: '/cse-in/shared/data', headers: headers('Cshared', 'seed', 4), body: JSON.stringify({ 'm2m:cin': { rn: 'reading', con: '42' } }) });
      await ctx.call({ method: 'PUT', path: '/cse-in/shared/data', headers: { ...headers('Cshared', 'setup-link'), 'Content-Type': 'application/json' }, body: JSON.stringify({ 'm2m:cnt': { acpi: [acpRi] } }) });
      return (i) => ({ method: 'GET', path: '/cse-in/shared/data/reading', headers: headers('Cvisitor', `other-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
];
