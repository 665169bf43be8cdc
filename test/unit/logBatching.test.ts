// The CSE's log lines wait in a batch (src/log/logger.ts): they must still all reach stdout, in order, when the
// process ends, and leave on their own while it runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const LOGGER = new URL('../../src/log/logger.js', import.meta.url).href;

/** Runs `body` in a child with the CSE's logger as `log`; its stdout goes to a file, returned with its stderr. */
function runWithLogger(body: string): { lines: Array<Record<string, unknown>>; stderr: string; status: number | null } {
  const out = join(mkdtempSync(join(tmpdir(), 'warden-log-')), 'stdout');
  const fd = openSync(out, 'w');
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `const { createLogger } = await import(${JSON.stringify(LOGGER)}); const log = createLogger('info'); ${body}`], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 20_000 });
  closeSync(fd);
  const lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, stderr: child.stderr, status: child.status };
}

describe('log batching', () => {
  it('writes every line, in order, when the process exits', () => {
    const { lines, status } = runWithLogger("for (let i = 0; i < 500; i++) log.info({ i }, 'line'); process.exit(3);");
    assert.equal(status, 3);
    assert.deepEqual(
      lines.map((l) => l.i),
      Array.from({ length: 500 }, (_, i) => i),
    );
  });

  it('writes what waits when an uncaught error ends the process', () => {
    const { lines, status, stderr } = runWithLogger("log.info({ before: true }, 'last words'); throw new Error('boom');");
    assert.notEqual(status, 0);
    assert.match(stderr, /boom/);
    assert.deepEqual(lines.map((l) => l.msg), ['last words']);
  });

  it('writes a lone line while the process runs, without waiting for more', () => {
    // The child checks its own stdout file after a pause far above the batch's 250 ms.
    const { stderr } = runWithLogger("log.info('alone'); setTimeout(() => { process.stderr.write('size ' + (await import('node:fs')).fstatSync(1).size); }, 2000);".replace('setTimeout(() => {', 'setTimeout(async () => {'));
    const size = Number(/size (\d+)/.exec(stderr)?.[1] ?? 0);
    assert.ok(size > 0, `nothing was written within 2 s: ${stderr}`);
  });
});
