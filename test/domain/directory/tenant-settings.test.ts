import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_MEETING_POLICY,
  defaultTenantSettings,
  parseTenantSettings,
  type TenantSettings,
} from '../../../src/domain/directory/tenant-settings.js';

/** parseTenantSettings before issue #6 memoized it: a fresh merge over fresh defaults on every call. */
function referenceParse(json: string): TenantSettings {
  const parsed = JSON.parse(json) as Partial<TenantSettings>;
  const defaults = defaultTenantSettings();
  return {
    dialIn: { ...defaults.dialIn, ...parsed.dialIn },
    meetingPolicy: { ...defaults.meetingPolicy, ...parsed.meetingPolicy },
  };
}

/** A copy of a string that is a different string object, as each database read returns. */
const fresh = (text: string) => Buffer.from(text).toString();

const tenantA = JSON.stringify({
  dialIn: { tollNumbers: ['+14255550111'], tollFreeNumbers: [] },
  meetingPolicy: { allowedPresenters: 'organizer', lobbyBypassSettings: { scope: 'invited', isDialInBypassEnabled: true } },
});
const tenantB = JSON.stringify({ dialIn: { tollNumbers: ['+442071234567'] }, meetingPolicy: { allowRecording: false } });

describe('parseTenantSettings', () => {
  it('merges the stored settings over the defaults, as before', () => {
    for (const json of [tenantA, tenantB, '{}', JSON.stringify(defaultTenantSettings()), '{"dialIn":null}', '[]', '7']) {
      assert.deepEqual(parseTenantSettings(fresh(json)), referenceParse(json), json);
    }
    const a = parseTenantSettings(tenantA);
    assert.deepEqual(a.dialIn, { tollNumbers: ['+14255550111'], tollFreeNumbers: [] });
    assert.equal(a.meetingPolicy.allowedPresenters, 'organizer');
    assert.equal(a.meetingPolicy.allowRecording, true, 'unset options keep the default');
  });

  it('matches the previous implementation for generated settings (fast-check, fixed seed)', () => {
    const option = fc.constantFrom(...Object.keys(DEFAULT_MEETING_POLICY), 'unknownOption', '__proto__');
    const value = fc.oneof(fc.boolean(), fc.string(), fc.constant(null), fc.dictionary(fc.string(), fc.boolean()));
    const settings = fc.record(
      {
        dialIn: fc.record({ tollNumbers: fc.array(fc.string()), tollFreeNumbers: fc.array(fc.string()) }, { requiredKeys: [] }),
        meetingPolicy: fc.dictionary(option, value),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(settings, (s) => {
        const json = JSON.stringify(s);
        assert.deepEqual(parseTenantSettings(fresh(json)), referenceParse(json));
        assert.deepEqual(parseTenantSettings(fresh(json)), referenceParse(json), 'a cache hit too');
      }),
      { seed: 0x6a02, numRuns: 500 },
    );
  });

  it("never gives one tenant's settings to another, whatever the order", () => {
    const a1 = parseTenantSettings(fresh(tenantA));
    const b1 = parseTenantSettings(fresh(tenantB));
    const a2 = parseTenantSettings(fresh(tenantA));
    const b2 = parseTenantSettings(fresh(tenantB));
    assert.deepEqual(a1, referenceParse(tenantA));
    assert.deepEqual(b1, referenceParse(tenantB));
    assert.equal(a2, a1, 'the same text is parsed once');
    assert.equal(b2, b1);
    assert.notDeepEqual(a1, b1);
    assert.deepEqual(a2.dialIn.tollNumbers, ['+14255550111']);
    assert.deepEqual(b2.dialIn.tollNumbers, ['+442071234567']);
  });

  it('parses a changed settings string afresh', () => {
    const before = parseTenantSettings(fresh(tenantA));
    const changed = JSON.stringify({ ...JSON.parse(tenantA), meetingPolicy: { allowedPresenters: 'everyone', allowRecording: false } });
    const after = parseTenantSettings(changed);
    assert.equal(after.meetingPolicy.allowedPresenters, 'everyone');
    assert.equal(after.meetingPolicy.allowRecording, false);
    assert.equal(after.meetingPolicy.lobbyBypassSettings.scope, 'organization', 'the dropped override is back to the default');
    assert.equal(before.meetingPolicy.allowedPresenters, 'organizer', 'the old result is untouched');
    assert.equal(parseTenantSettings(fresh(tenantA)).meetingPolicy.allowedPresenters, 'organizer');
  });

  it('returns deeply frozen settings, so a caller cannot change what the next caller gets', () => {
    const settings = parseTenantSettings(fresh(tenantA));
    assert.throws(() => settings.dialIn.tollNumbers.push('+1'), TypeError);
    assert.throws(() => {
      settings.dialIn.tollFreeNumbers = ['+1'];
    }, TypeError);
    assert.throws(() => {
      settings.meetingPolicy.allowedPresenters = 'everyone';
    }, TypeError);
    assert.throws(() => {
      settings.meetingPolicy.lobbyBypassSettings.scope = 'everyone';
    }, TypeError);
    assert.throws(() => {
      settings.meetingPolicy.chatRestrictions.allowTextOnly = true; // from the defaults
    }, TypeError);
    assert.deepEqual(parseTenantSettings(fresh(tenantA)), referenceParse(tenantA));
    const defaults = parseTenantSettings('{}');
    assert.ok(Object.isFrozen(defaults.dialIn.tollNumbers));
    assert.deepEqual(defaults, defaultTenantSettings());
    // What callers do with it still works: copies are mutable.
    const copy = structuredClone(settings.meetingPolicy);
    copy.allowedPresenters = 'everyone';
    const numbers = [...settings.dialIn.tollNumbers];
    numbers.push('+1');
    assert.equal(settings.meetingPolicy.allowedPresenters, 'organizer');
  });

  it('stays correct when more tenants than the cache holds come and go', () => {
    const texts = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({ dialIn: { tollNumbers: [`+1425555${String(i).padStart(4, '0')}`] } }),
    );
    for (let round = 0; round < 2; round++) {
      for (const [i, json] of texts.entries()) {
        assert.deepEqual(parseTenantSettings(fresh(json)).dialIn.tollNumbers, [`+1425555${String(i).padStart(4, '0')}`]);
      }
    }
  });

  it('parses large settings without caching them, and rethrows bad JSON every time', () => {
    const big = JSON.stringify({ dialIn: { tollNumbers: Array.from({ length: 2000 }, (_, i) => `+1${i}`) } });
    assert.ok(big.length > 16_384);
    const first = parseTenantSettings(big);
    assert.deepEqual(first, referenceParse(big));
    assert.notEqual(parseTenantSettings(big), first, 'not kept');
    for (let i = 0; i < 2; i++) assert.throws(() => parseTenantSettings('{'), SyntaxError);
    for (let i = 0; i < 2; i++) assert.throws(() => parseTenantSettings('null'), TypeError);
  });
});

describe('defaultTenantSettings', () => {
  it('returns a fresh mutable copy each time', () => {
    const a = defaultTenantSettings();
    a.dialIn.tollNumbers.push('+1');
    a.meetingPolicy.allowRecording = false;
    a.meetingPolicy.lobbyBypassSettings.scope = 'everyone';
    const b = defaultTenantSettings();
    assert.deepEqual(b.dialIn.tollNumbers, ['+14255550100']);
    assert.equal(b.meetingPolicy.allowRecording, true);
    assert.equal(b.meetingPolicy.lobbyBypassSettings.scope, 'organization');
    assert.deepEqual(b.meetingPolicy, DEFAULT_MEETING_POLICY);
    assert.deepEqual(parseTenantSettings(fresh('{}')), b, 'the parse base is untouched too');
  });

  it('keeps DEFAULT_MEETING_POLICY frozen, so the parse base cannot drift from it', () => {
    assert.ok(Object.isFrozen(DEFAULT_MEETING_POLICY));
    assert.ok(Object.isFrozen(DEFAULT_MEETING_POLICY.lobbyBypassSettings));
    assert.throws(() => {
      (DEFAULT_MEETING_POLICY as { allowRecording: boolean }).allowRecording = false;
    }, TypeError);
  });
});
