// Filling a container with many contentInstances for the discovery scenarios, without one HTTP request each:
// one instance is created through the CSE, then copied in the database (on SQLite while the CSE is stopped, as it
// holds its file exclusively; on PostgreSQL while it runs: the CSE keeps no resource cache, so what it reads next
// is what the database holds). The container's counters and the creator's quota usage are moved on as the CSE
// would have moved them. The copies are numbered with a fixed width, so that their identifiers sort in the order of
// their creation, as the CSE's own identifiers do (newResourceId).
import Database from 'better-sqlite3';
import pg from 'pg';

export type SeedTarget = { backend: 'sqlite'; path: string } | { backend: 'postgres'; url: string };

export async function copyInstance(target: SeedTarget, templateRi: string, count: number): Promise<void> {
  if (target.backend === 'sqlite') {
    const db = new Database(target.path);
    db.pragma('busy_timeout = 30000');
    try {
      // IMMEDIATE: a deferred transaction reads first and then cannot upgrade to a write if Warden committed in
      // between (SQLITE_BUSY at once, the busy timeout never applies); seen once in six runs at 100 000 instances.
      db.transaction(() => {
        const t = db.prepare('SELECT pi, bytes, charge, doc FROM resources WHERE ri = ?').get(templateRi) as { pi: string; bytes: number; charge: string | null; doc: string };
        const size = Number((JSON.parse(t.doc) as { cs?: number }).cs ?? 0);
        db.prepare(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
           INSERT INTO resources (ri, pi, ty, rn, srn, ct, lt, et, owner, doc, charge, bytes)
           SELECT t.ri || printf('-%07d', n.i), t.pi, t.ty, t.rn || printf('-%07d', n.i), t.srn || printf('-%07d', n.i), t.ct, t.lt, t.et, t.owner,
                  json_set(t.doc, '$.ri', t.ri || printf('-%07d', n.i), '$.rn', t.rn || printf('-%07d', n.i)), t.charge, t.bytes
           FROM n, resources t WHERE t.ri = ?`,
        ).run(count, templateRi);
        db.prepare(`UPDATE resources SET doc = json_set(doc, '$.cni', json_extract(doc, '$.cni') + ?, '$.cbs', json_extract(doc, '$.cbs') + ?) WHERE ri = ?`).run(count, count * size, t.pi);
        if (t.charge !== null) db.prepare('UPDATE quota_usage SET resources = resources + ?, bytes = bytes + ? WHERE originator = ?').run(count, count * t.bytes, t.charge);
      }).immediate();
    } finally {
      db.close();
    }
    return;
  }
  const c = new pg.Client({ connectionString: target.url });
  await c.connect();
  try {
    await c.query('BEGIN');
    const { rows } = await c.query<{ pi: string; bytes: string; charge: string | null; doc: string }>('SELECT pi, bytes, charge, doc FROM resources WHERE ri = $1', [templateRi]);
    const t = rows[0];
    if (!t) throw new Error(`no template ${templateRi}`);
    const size = Number((JSON.parse(t.doc) as { cs?: number }).cs ?? 0);
    await c.query(
      `INSERT INTO resources (ri, pi, ty, rn, srn, ct, lt, et, owner, doc, charge, bytes)
       SELECT t.ri || '-' || lpad(n.i::text, 7, '0'), t.pi, t.ty, t.rn || '-' || lpad(n.i::text, 7, '0'), t.srn || '-' || lpad(n.i::text, 7, '0'), t.ct, t.lt, t.et, t.owner,
              (t.doc::jsonb || jsonb_build_object('ri', t.ri || '-' || lpad(n.i::text, 7, '0'), 'rn', t.rn || '-' || lpad(n.i::text, 7, '0')))::text, t.charge, t.bytes
       FROM generate_series(1, $1::int) AS n(i), resources t WHERE t.ri = $2`,
      [count, templateRi],
    );
    await c.query(
      `UPDATE resources SET doc = (doc::jsonb || jsonb_build_object('cni', (doc::jsonb->>'cni')::bigint + $1, 'cbs', (doc::jsonb->>'cbs')::bigint + $2))::text WHERE ri = $3`,
      [count, count * size, t.pi],
    );
    if (t.charge !== null) await c.query('UPDATE quota_usage SET resources = resources + $1, bytes = bytes + $2 WHERE originator = $3', [count, count * Number(t.bytes), t.charge]);
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
}
