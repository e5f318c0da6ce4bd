/**
 * Change notifications through the official graph-client v3 (in the NODE_EXTRA_CA_CERTS worker): a scheduler
 * subscribes to a mailbox's events with a webhook receiver on loopback, renews, reads and deletes the
 * subscription, and receives the notification of an event it creates (issue #18, artifacts spec §3.2, §3.5).
 * The Kiota subscriptions package is not a dependency of this project, so Kiota is not exercised here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_APP, SdkCallError, startSdkWorker, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const C = DEMO.contoso;
const ADMIN = 'sdk-subscriptions-admin-key-0123';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

for (const kind of STORES) {
  describe(`${kind}: subscriptions through graph-client v3`, () => {
    let t: TestApp;
    let w: SdkWorker;
    let hook: WebhookReceiver;
    before(async () => {
      t = await startTestApp(kind, { listen: true, env: { ADMIN_KEY: ADMIN } });
      w = await startSdkWorker(t.caPath);
      hook = await new WebhookReceiver().start();
    });
    after(async () => {
      await hook?.stop();
      await w?.close();
      await t?.close();
    });
    const v3 = (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown) =>
      w.call('v3RequestTraced', { origin: t.origin, cred: DEMO_APP, method, path, body });

    test('create (validated), patch, get, notification of a created event, delete; a wrong echo is the SDK error', async () => {
      const expiry = new Date(t.app.graphMeetings.clock.now() + 3600_000).toISOString();
      const created = await v3('post', '/subscriptions', {
        changeType: 'created',
        notificationUrl: hook.url,
        resource: `/users/${C.alice.id}/events`,
        expirationDateTime: expiry,
        clientState: 'sdk-state',
      });
      assert.equal(created.wire.status, 201);
      const sub = created.result as Json;
      assert.equal(hook.validations.length, 1);
      const renewed = await v3('patch', `/subscriptions/${sub.id}`, {
        expirationDateTime: new Date(Date.parse(expiry) + 3600_000).toISOString(),
      });
      assert.equal(renewed.wire.status, 200);
      assert.ok((renewed.result as Json).expirationDateTime > sub.expirationDateTime);
      assert.equal(((await v3('get', `/subscriptions/${sub.id}`)).result as Json).clientState, 'sdk-state');

      await v3('post', `/users/${C.alice.id}/events`, {
        subject: 'Through the SDK',
        start: { dateTime: '2031-01-01T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2031-01-01T11:00:00', timeZone: 'UTC' },
      });
      const flushed = await t.inject({
        method: 'POST',
        url: '/_emulator/notifications/flush',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(flushed.statusCode, 200);
      const [item] = hook.bodies().flatMap((b) => b.value) as Json[];
      assert.equal(item.subscriptionId, sub.id);
      assert.equal(item.clientState, 'sdk-state');
      assert.equal(item.changeType, 'created');

      assert.equal((await v3('delete', `/subscriptions/${sub.id}`)).wire.status, 204);
      hook.onValidation = (_r, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('nope');
      await assert.rejects(
        v3('post', '/subscriptions', {
          changeType: 'created',
          notificationUrl: hook.url,
          resource: `users/${C.alice.id}/events`,
          expirationDateTime: expiry,
        }),
        (err: unknown) => err instanceof SdkCallError && /must exactly match validationToken/.test(String((err as Error).message)),
      );
    });
  });
}
