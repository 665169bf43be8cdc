// The console's small parts on their own: the security-event ring, the sign-in limiter, the token store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityEvents } from '../../src/console/securityEvents.js';
import { AttemptLimiter } from '../../src/console/rateLimit.js';
import { mintToken, redeemToken, sweepTokens } from '../../src/console/signInTokens.js';

const DAY = 86_400_000;

describe('console security events', () => {
  it('keeps the newest events up to its capacity, newest first', () => {
    const events = new SecurityEvents(3, 30);
    for (let i = 0; i < 5; i++) events.record({ at: i, kind: 'refused', originator: `C${i}`, reason: 'r' });
    assert.deepEqual(
      events.recent().map((e) => e.originator),
      ['C4', 'C3', 'C2'],
    );
  });

  it("keeps its own findings (sign-ins, certificates) apart: refused requests, however many, do not push them out", () => {
    const events = new SecurityEvents(3, 30);
    events.record({ at: 1, kind: 'authentication-failed', originator: '(console sign-in)', reason: 'the sign-in token is not valid' });
    const transport = { binding: 'http' as const, remoteAddress: '192.0.2.9', secure: false };
    for (let i = 0; i < 20; i++) events.observe({ op: 2, to: 'cse-in/evil', fr: 'CAdmin-looks-legit', rqi: `f${i}` }, transport, { rsc: 4103, rqi: `f${i}` }, 10 + i);
    const recent = events.recent();
    assert.equal(recent.length, 4);
    assert.deepEqual(recent.at(-1)?.originator, '(console sign-in)');
    assert.deepEqual(recent.slice(0, 3).map((e) => e.at), [29, 28, 27], 'the newest refusals, newest first');
  });

  it('notes refusals and failed authentications from responses, nothing else', () => {
    const events = new SecurityEvents(10, 30);
    const transport = { binding: 'http' as const, remoteAddress: '192.0.2.1', secure: false };
    events.observe({ op: 2, to: 'cse-in/x', fr: 'Cbob', rqi: '1' }, transport, { rsc: 4103, rqi: '1', pc: { 'm2m:dbg': 'no privilege' } }, 1);
    events.observe({ op: 1, to: 'cse-in', fr: 'Cx', rqi: '2' }, transport, { rsc: 4106, rqi: '2' }, 2);
    events.observe({ op: 2, to: 'cse-in', fr: 'Cok', rqi: '3' }, transport, { rsc: 2000, rqi: '3' }, 3);
    events.observe({ op: 2, to: 'cse-in/nothing', fr: 'Cok', rqi: '4' }, transport, { rsc: 4004, rqi: '4' }, 4);
    const [auth, refused, ...rest] = events.recent();
    assert.equal(rest.length, 0);
    assert.deepEqual([auth?.kind, auth?.rsc, auth?.reason], ['authentication-failed', 4106, 'answered 4106']);
    assert.deepEqual([refused?.kind, refused?.operation, refused?.target, refused?.reason, refused?.remote], ['refused', 'RETRIEVE', 'cse-in/x', 'no privilege', '192.0.2.1']);
  });

  it('warns of a certificate expiring within the period, once a day per certificate', () => {
    const events = new SecurityEvents(10, 30);
    const now = Date.UTC(2026, 0, 1);
    events.certificateSeen('far', 'f1', now + 90 * DAY, now);
    events.certificateSeen('near', 'f2', now + 10 * DAY, now);
    events.certificateSeen('near', 'f2', now + 10 * DAY, now + 1000);
    events.certificateSeen('expired', 'f3', now - DAY, now);
    assert.deepEqual(
      events.recent().map((e) => [e.originator, e.reason]),
      [
        ['expired', 'the certificate has expired'],
        ['near', 'the certificate expires in 10 days'],
      ],
    );
    events.certificateSeen('near', 'f2', now + 10 * DAY, now + DAY + 1);
    assert.equal(events.recent().length, 3);
  });
});

describe('console sign-in limiter', () => {
  it('counts attempts as they start, gives back those that sign in, and shares one count once the table is full', () => {
    const limiter = new AttemptLimiter(2, 2);
    assert.equal(limiter.attempt('a', 0), true);
    assert.equal(limiter.attempt('a', 1), true);
    assert.equal(limiter.attempt('a', 2), false, 'per address, counted before any is answered (attempts at once)');
    limiter.succeeded('a');
    assert.equal(limiter.attempt('a', 3), true, 'one that signed in does not count');
    assert.equal(limiter.attempt('b', 3), true);
    assert.equal(limiter.overTotal(), true, 'past the total: failures are answered 429');
    assert.equal(limiter.attempt('c', 4), true, 'an address that has not failed still tries (a valid token signs in)');
    assert.equal(limiter.retryAfter(4), 60);
    assert.equal(limiter.attempt('a', 60_000), true, 'a new window');
    assert.equal(limiter.overTotal(), false);
    // 10 000 addresses fill the table: every further one shares one count, with one address's limit.
    const full = new AttemptLimiter(2, 1_000_000);
    for (let i = 0; i < 10_000; i++) full.attempt(`k${i}`, 0);
    assert.equal(full.attempt('new1', 1), true);
    assert.equal(full.attempt('new2', 1), true);
    assert.equal(full.attempt('new3', 1), false, 'new addresses share the overflow count');
    assert.equal(full.attempt('k1', 1), true, 'a counted address keeps its own');
  });
});

describe('console sign-in tokens', () => {
  it('redeems once, refuses malformed, expired and loosely permitted token files', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'warden-tokens-')), 't');
    const { token } = mintToken(dir, 'CAdmin', 60, 1000);
    assert.equal(redeemToken(dir, '../../etc/passwd', 1000), undefined);
    assert.equal(redeemToken(dir, token, 1000), 'CAdmin');
    assert.equal(redeemToken(dir, token, 1000), undefined);
    const late = mintToken(dir, 'CAdmin', 60, 1000).token;
    assert.equal(redeemToken(dir, late, 61_001), undefined);
    const loose = mintToken(dir, 'CAdmin', 60, 1000).token;
    for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o644);
    assert.equal(redeemToken(dir, loose, 1000), undefined, 'a file others could have written is not trusted');
    assert.throws(() => mintToken(dir, 'not an originator!', 60, 1000));
  });

  it('refuses a token directory another account owns, a link, or one in a directory anyone may replace it in', (t) => {
    const base = mkdtempSync(join(tmpdir(), 'warden-tokens-'));
    // A link to a directory: not followed.
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(base, 'link'));
    assert.throws(() => mintToken(join(base, 'link'), 'CAdmin', 60, 1000), /not a directory/);
    // A world-writable parent without the sticky bit: someone could swap the directory.
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    assert.throws(() => mintToken(join(open, 't'), 'CAdmin', 60, 1000), /anyone may write/);
    // With the sticky bit (as /tmp) it is fine.
    const sticky = join(base, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const { token } = mintToken(join(sticky, 't'), 'CAdmin', 60, 1000);
    assert.equal(redeemToken(join(sticky, 't'), token, 1000), 'CAdmin');
    if (process.getuid?.() !== 0) {
      t.diagnostic('not root: a directory of another account cannot be made here');
      return;
    }
    // Made first by another account in a shared place: its owner could rename a pending token's file to the hash of
    // a token of its own. Neither minted into nor redeemed from, even by root.
    const theirs = join(sticky, 'theirs');
    const { token: before } = mintToken(theirs, 'CAdmin', 60, 1000);
    chownSync(theirs, 65534, 65534);
    assert.throws(() => mintToken(theirs, 'CAdmin', 60, 1000), /another account/);
    assert.equal(redeemToken(theirs, before, 1000), undefined);
  });

  it('sweeps expired and unreadable pending tokens', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'warden-tokens-')), 't');
    mintToken(dir, 'CAdmin', 60, 1000);
    mintToken(dir, 'CAdmin', 600, 1000);
    writeFileSync(join(dir, 'garbage.json'), '{', { mode: 0o600 });
    sweepTokens(dir, 100_000);
    assert.equal(readdirSync(dir).length, 1);
  });
});

describe('console live views: a stream whose reader stopped reading', () => {
  it('holds at most about 1 MiB unread, drops the rest and tells the page how many it dropped', async () => {
    const { LiveViews } = await import('../../src/console/live.js');
    type Gateway = ConstructorParameters<typeof LiveViews>[0];
    // The gateway creates the subscription (and deletes it at close), as the pipeline would.
    const gateway = { send: () => Promise.resolve({ rsc: 2001, pc: { 'm2m:sub': { ri: 'sub1', rn: 'console-live' } } }) } as unknown as Gateway;
    const views = new LiveViews(gateway, 'id-in', () => 0);
    const session = { originator: 'Calice', kind: 'token', csrf: 'x', expires: Date.now() + 60_000 } as unknown as Parameters<typeof views.attach>[1];
    const opened = await views.open(session, { remoteAddress: '127.0.0.1', secure: false }, '/cse-in/alice/data');
    const id = String(opened.channel);
    // A response whose client reads nothing: what is written stays in its buffer.
    const written: string[] = [];
    const drained: Array<() => void> = [];
    const stream = {
      writableLength: 0,
      writeHead: () => undefined,
      write(chunk: string) {
        written.push(chunk);
        this.writableLength += chunk.length;
        return false;
      },
      on: () => undefined,
      once(event: string, listener: () => void) {
        if (event === 'drain') drained.push(listener);
      },
      end: () => undefined,
    };
    assert.equal(views.attach(id, session, stream as never), true);
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 40; i++) {
      await views.deliver(new URL(`console://${id}`), { op: 5, to: '', fr: '', rqi: 'n', pc: { 'm2m:sgn': { sur: '/id-in/sub1', nev: { rep: big } } } });
    }
    assert.ok(stream.writableLength < 1_048_576 + 250_000, `unread ${stream.writableLength} bytes`);
    // The reader catches up (the stream drains): the page is told at once how many were dropped.
    stream.writableLength = 0;
    assert.equal(drained.length, 1, 'one wait for the stream to drain');
    for (const listener of drained.splice(0)) listener();
    const dropped = written.at(-1) ?? '';
    assert.match(dropped, /^event: dropped/);
    assert.match(dropped, /"count":3[0-9]/);
    await views.deliver(new URL(`console://${id}`), { op: 5, to: '', fr: '', rqi: 'n', pc: { 'm2m:sgn': { sur: '/id-in/sub1', nev: { rep: 'small' } } } });
    assert.match(written.at(-1) ?? '', /small/);
    assert.equal(written.filter((w) => w.startsWith('event: dropped')).length, 1, 'told once');
    await views.closeAll();
  });
});
