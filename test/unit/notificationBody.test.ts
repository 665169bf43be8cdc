// A notification's JSON body written as text over its event's shared payload (jsonBodyOf, issue #18) is the same
// bytes as encoding the content the deliverer builds for every other serialization (readEnvelope).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonBodyOf, readEnvelope, type EventPayload, type SharedSgn, type StoredEnvelope } from '../../src/notifications/events.js';

const payload: EventPayload = {
  typeName: 'm2m:cin',
  uri: 'cin123',
  full: { rn: 'cin_1', ri: 'cin123', con: 'a "quoted" \u2028 value', lbl: ['x', 'ü'], nested: { k: [1, null, true] } },
  mod: { con: 'a' },
};

const sgns: SharedSgn[] = [
  { sur: '/id-in/sub1', net: 3, rep: 'full' },
  { sur: '/id-in/sub2', net: 1, rep: 'mod', cr: 'CAdmin' },
  { sur: '/id-in/sub3', net: 3, rep: 'uri', nfu: '/id-in/grp/fopt' },
  { sur: '/id-in/sub4', net: 7, rep: 'full', om: { ops: 2, or: 'Cx' } },
  { sur: '/id-in/sub5', net: 8, rep: 'tsn', tsn: { mdlt: ['20260101T000000'], mdc: 1 } },
  { sur: '/id-in/sub"6', net: 3, rep: 'full', cr: 'C"q', nfu: 'x\\y' },
];

describe('notification bodies over a shared payload', () => {
  it('are the bytes of the content readEnvelope builds, for every kind of representation, twice (the second from what was made once)', () => {
    for (const id of [1, 1, 2]) {
      for (const sgn of sgns) {
        const stored: StoredEnvelope = { sgn };
        const message = { payload: id, shared: JSON.stringify(payload), content: '' };
        assert.equal(jsonBodyOf(message, stored), JSON.stringify(readEnvelope(message, stored).pc));
      }
    }
  });

  it('follow the payload when one id comes with another text, and leave whole contents to the caller', () => {
    const other = { ...payload, full: { con: 'other' } };
    const stored: StoredEnvelope = { sgn: { sur: '/id-in/s', net: 3, rep: 'full' } };
    jsonBodyOf({ payload: 9, shared: JSON.stringify(payload) }, stored);
    const message = { payload: 9, shared: JSON.stringify(other), content: '' };
    assert.equal(jsonBodyOf(message, stored), JSON.stringify(readEnvelope(message, stored).pc));
    assert.equal(jsonBodyOf({ payload: 9, shared: JSON.stringify(other) }, { pc: { 'm2m:sgn': { sud: true } } }), undefined);
    assert.equal(jsonBodyOf({}, stored), undefined);
  });
});
