// The files of dynamicAuthorization are checked at start-up: a missing or malformed issuer file, decryption key,
// revocation list or DAS rule file stops `warden serve` with one line naming the key, the file and the problem.
// The revocation list is read again while running: one that becomes malformed refuses every token (fail closed,
// logged) until it is good again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startTestCse } from '../harness.js';
import { capturingLogger } from '../logCapture.js';

type Attrs = Record<string, unknown>;
const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/** `warden serve` with these flags; bounded, so that a CSE that starts after all does not hang the test. */
function serve(flags: readonly string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [WARDEN, 'serve', '--http.port=0', '--ops.port=0', '--storage.path=:memory:', '--log.level=warn', ...flags], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('dynamicAuthorization files are checked at start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-dafiles-'));
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  const cases: Array<[string, string, string, RegExp]> = [
    ['tokenIssuers', 'issuers-not-json.json', '{"issuers": [', /not valid JSON|JSON/],
    ['tokenIssuers', 'issuers-none.json', JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['none'], secret: 'c2VjcmV0' }] }), /issuers\[0\]: alg none is never accepted/],
    ['tokenIssuers', 'issuers-bad-key.json', JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], publicKey: 'not a key' }] }), /issuers\[0\]: /],
    ['tokenIssuers', 'issuers-bad-roles.json', JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['HS256'], secret: 'c2VjcmV0', roleDomains: ['not a domain'] }] }), /issuers\[0\]: roleDomains must list domain names/],
    ['tokenDecryptionKey', 'decrypt.pem', 'not a private key', /decrypt\.pem: /],
    ['tokenDecryptionKey', 'ed25519.pem', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /a ed25519 key cannot decrypt JWE tokens/],
    ['revokedTokens', 'revoked-shape.json', JSON.stringify({ revoked: [1, 2] }), /expected \{"revoked"/],
    ['dasRules', 'das-operation.json', JSON.stringify({ rules: [{ originators: ['/id-in/Cx'], targets: ['*'], operations: ['READ'] }] }), /rules\[0\]\.operations: unknown operation READ/],
    ['dasRules', 'das-key.json', JSON.stringify({ tokens: { issuer: 'CWardenDas', privateKeyFile: join(dir, 'absent.pem') } }), /tokens: ENOENT/],
  ];
  for (const [key, name, content, problem] of cases) {
    it(`${key}: ${name}`, () => {
      const path = file(name, content);
      const { status, stderr } = serve([`--dynamicAuthorization.${key}=${path}`]);
      assert.equal(status, 2, stderr);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]?.startsWith(`warden: invalid configuration: dynamicAuthorization.${key}: ${path}: `), lines[0]);
      assert.match(lines[0] ?? '', problem);
    });
  }

  it('a file that does not exist', () => {
    const path = join(dir, 'missing.json');
    const { status, stderr } = serve([`--dynamicAuthorization.revokedTokens=${path}`]);
    assert.equal(status, 2, stderr);
    assert.match(stderr.trim(), new RegExp(`^warden: invalid configuration: dynamicAuthorization\\.revokedTokens: ${path}: ENOENT`));
  });
});

describe('a revocation list that becomes malformed while running refuses every token until it is good again', () => {
  it('fails closed, logs why, and recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-darevoke-'));
    const cseId = `id-rv${process.pid}`;
    const pair = await generateKeyPair('ES256', { extractable: true });
    const issuers = join(dir, 'issuers.json');
    const revocations = join(dir, 'revoked.json');
    writeFileSync(issuers, JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey) }] }));
    writeFileSync(revocations, JSON.stringify({ revoked: [] }));
    const captured = capturingLogger();
    const t = await startTestCse(
      { 'cse.id': cseId, 'dynamicAuthorization.tokenIssuers': issuers, 'dynamicAuthorization.revokedTokens': revocations, 'dynamicAuthorization.tokenRequiresAuthentication': false },
      { logger: captured.logger },
    );
    try {
      const owner = await t.client.registerAe('owner');
      await t.client.registerAe('guest');
      const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
      const made = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'box', acpi: [(acp.body?.['m2m:acp'] as Attrs).ri] } }, owner);
      const ri = (made.body?.['m2m:cnt'] as Attrs).ri as string;
      const now = Math.floor(Date.now() / 1000);
      const tkns = await new SignJWT({ tkvr: '1', jti: 'tk-rv@das.example.net', iss: 'CDas', azp: 'Cguest', nbf: now - 60, exp: now + 600, aud: [`/${cseId}`], tkps: { pm: [{ ris: [ri], pv: { acr: [{ acor: ['Cguest'], acop: 2 }] } }] } })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
        .sign(pair.privateKey);
      const get = (): Promise<number> => t.client.retrieve('/cse-in/owner/box', 'Cguest', { headers: { Authorization: tkns } }).then((r) => r.rsc);
      assert.equal(await get(), 2000);
      writeFileSync(revocations, '{"revoked": ["tk-rv@das.example.net"'); // cut short while being written
      await sleep(1100); // the list is looked at no more than once a second
      assert.equal(await get(), 4103, 'a malformed list revokes everything');
      const logged = captured.lines.find((line) => line.event === 'token-revocations');
      assert.ok(logged, 'the problem is logged');
      assert.match(String(logged.reason), /revoked\.json/);
      writeFileSync(revocations, JSON.stringify({ revoked: ['another@das.example.net'] }));
      await sleep(1100);
      assert.equal(await get(), 2000, 'good again: the token is not revoked');
    } finally {
      await t.close();
    }
  });
});
