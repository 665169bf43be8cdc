// The documents a new user reads first must match the code they describe.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

describe('documents', () => {
  it('LICENSE is the license package.json declares', () => {
    const pkg = JSON.parse(read('package.json')) as { license: string };
    assert.equal(pkg.license, 'BSD-3-Clause');
    assert.match(read('LICENSE'), /^BSD 3-Clause License/);
    assert.match(read('LICENSE'), /Neither the name of the copyright holder/);
  });

  it('.gitignore keeps key material out of commits', () => {
    const ignored = read('.gitignore').split('\n').map((l) => l.trim());
    assert.ok(ignored.includes('pki/'));
    assert.ok(ignored.includes('*.key'));
  });

  it('CONTRIBUTING.md says how to run one test file, the benchmark and the conformance suite', () => {
    const text = read('CONTRIBUTING.md');
    assert.match(text, /node --test dist\/test\/conformance\/\S+\.test\.js/);
    assert.match(text, /npm run bench -- --only ingest/);
    assert.match(text, /npm run conformance/);
  });

  it('the README runs the CLI as npx warden (it is not on PATH after npm install) and links no file outside the repository', () => {
    const readme = read('README.md');
    // Every command shown, inline or in a code block; only the sentence naming what `npm start` runs is exempt.
    for (const m of readme.matchAll(/(\S*\s?)\bwarden (serve|migrate|pki)\b/g)) {
      const before = m[1] ?? '';
      const at = (m.index ?? 0) + before.length;
      assert.ok(before.endsWith('npx ') || readme.slice(at - 30, at).endsWith('`npm start` runs `'), `bare command: '${m[0]}'`);
    }
    assert.doesNotMatch(readme, /node bin\/warden\.js/);
    assert.match(readme, /npm link/);
    assert.doesNotMatch(readme, /\.\.\/shared\/design\.md/);
    assert.doesNotMatch(read('docs/architecture.md'), /\.\.\/shared\/design\.md/);
    assert.doesNotMatch(readme, /when the MQTT binding lands/);
  });

  it('every curl example with a geo query passes -g (curl reads [ ] as a URL pattern otherwise)', () => {
    const curls = read('README.md').split('\n').filter((l) => /^curl .*geom=/.test(l));
    assert.ok(curls.length > 0, 'the README shows a geo query with curl');
    for (const line of curls) assert.match(line, /^curl (-\S+ )*-g /, line);
  });

  it('docs/architecture.md says how to add a resource type, a binding and a storage backend, naming files that exist', () => {
    const text = read('docs/architecture.md');
    for (const heading of ['## How to add a resource type', '## How to add a binding', '## How to add a storage backend']) assert.ok(text.includes(heading), heading);
    for (const m of text.matchAll(/`((?:src|test)\/[\w/.-]+\.ts)`/g)) assert.ok(existsSync(`${ROOT}${m[1]}`), `${m[1]} named in docs/architecture.md exists`);
  });
});
