/**
 * Issue #11 item 2 on the interactive sign-in page, on every store: the page's password check goes
 * through the same smart lockout as the password grant (identity/sign-in/password-check.ts). After 10
 * wrong passwords for an account, the page answers Entra's AADSTS50053 (even to the right password) and
 * issues no code; the lockout is shared with the token endpoint's password grant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import { authorizeUrl, form, pkce, signInThroughPage } from './sign-in-helpers.js';

const C = DEMO.contoso;
const SCOPE = 'openid profile offline_access https://graph.microsoft.com/OnlineMeetings.ReadWrite';

for (const kind of STORES) {
  describe(`${kind}: smart lockout on the sign-in page`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind);
    });
    after(() => t.close());

    const url = () => {
      const p = pkce();
      return authorizeUrl(C.tenantId, {
        client_id: C.portal.clientId,
        response_type: 'code',
        redirect_uri: C.portal.redirectUri,
        scope: SCOPE,
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
      });
    };

    test('10 wrong passwords lock the account: the page shows AADSTS50053, even for the right password; the password grant too', async () => {
      for (let i = 0; i < 10; i++) {
        const { res } = await signInThroughPage(t, url(), { username: C.carol.upn, password: `wrong-password-${i}` });
        assert.equal(res.statusCode, 200, `attempt ${i + 1}: the page again`);
        assert.doesNotMatch(res.body, /AADSTS50053/, `attempt ${i + 1} is not locked yet`);
        assert.match(res.body, /password is incorrect|incorrect/i);
      }
      const { res } = await signInThroughPage(t, url(), { username: C.carol.upn, password: DEMO.password });
      assert.equal(res.statusCode, 200, 'no redirect with a code');
      assert.equal(res.headers.location, undefined);
      assert.match(res.body, /AADSTS50053/);
      assert.match(res.body, /The account is locked/);
      // One lockout for every form that takes a password: the token endpoint's password grant agrees.
      const grant = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.carol.upn,
          password: DEMO.password,
          scope: SCOPE,
        }),
      });
      assert.equal(grant.statusCode, 400);
      assert.deepEqual(grant.json().error_codes, [50053]);
      // Another account is not affected.
      const other = await signInThroughPage(t, url(), { username: C.bob.upn, password: DEMO.password });
      assert.equal(other.res.statusCode, 302, other.res.body);
    });
  });
}
