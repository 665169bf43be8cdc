// The deployment examples in docs/deploy must keep working as the configuration schema changes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = `${ROOT}docs/deploy/warden.example.json`;
const UNIT = `${ROOT}docs/deploy/warden.service`;
const WARDEN = `${ROOT}bin/warden.js`;

describe('deployment examples', () => {
  it('the example configuration loads, every key known and valid', () => {
    const config = loadConfig({ file: EXAMPLE });
    assert.equal(config.http.tls, true);
    assert.equal(config.http.port, 8443);
    assert.equal(config.security.authentication, 'all');
    assert.equal(config.security.adminFromLoopback, false);
    assert.equal(config.storage.path, '/var/lib/warden/warden.sqlite');
    assert.equal(config.ops.port, 9464);
    assert.equal(config.ops.host, '127.0.0.1');
  });

  it('warden accepts it as --config', () => {
    // migrate stops right after loading the configuration (SQLite migrates itself): exit 2 with that message only.
    const result = spawnSync(process.execPath, [WARDEN, 'migrate', '--config', EXAMPLE], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /migrate applies to storage\.backend=postgres/);
    assert.doesNotMatch(result.stderr, /invalid configuration/);
  });

  it('the systemd unit runs warden serve with that configuration and may write where the database is', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { storage: { path: string }; ops: { port: number } };
    assert.match(unit, /^ExecStart=\/usr\/bin\/node --max-semi-space-size=8 \/opt\/warden\/bin\/warden\.js serve --config \/etc\/warden\/warden\.json$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^RestartPreventExitStatus=2$/m, 'a configuration error (exit 2) is not restarted');
    const writable = /^ReadWritePaths=(.+)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    assert.ok(writable.some((dir) => example.storage.path.startsWith(`${dir}/`)), 'storage.path is writable under ProtectSystem=strict');
    assert.ok(unit.includes(`127.0.0.1:${example.ops.port}/ready`));
  });
});
