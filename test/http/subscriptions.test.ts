import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { loadConfig } from '../../src/config/config.js';
import { GRAPH_TIMINGS } from '../../src/notifications/notification-delivery.js';
import { refusalReason, webhookPolicy } from '../../src/notifications/webhook-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { receiverTls, WebhookReceiver, type ReceiverTls } from '../helpers/webhook-receiver.js';

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

const inMinutes = (t: TestApp, minutes: number) => new Date(t.app.graphMeetings.clock.now() + minutes * 60_000).toISOString();

test('Graph timings: validation within 10 s, deliveries within 3 s (artifacts spec §3.4, §3.8)', () => {
  assert.deepEqual(GRAPH_TIMINGS, { validationTimeoutMs: 10_000, deliveryTimeoutMs: 3_000 });
});

test('NOTIFICATION_HOSTS: loopback by default; https required except on loopback; patterns; no credentials', () => {
  const config = loadConfig({}, '/');
  assert.deepEqual(config.notifications.hosts, ['localhost', '127.0.0.1', '::1']);
  const policy = webhookPolicy(config.notifications.hosts, []);
  assert.equal(refusalReason('https://127.0.0.1:9/x', policy), undefined);
  assert.equal(refusalReason('http://localhost:9/x', policy), undefined);
  assert.equal(refusalReason('http://[::1]:9/x', policy), undefined);
  assert.match(refusalReason('https://example.com/x', policy)!, /NOTIFICATION_HOSTS/);
  assert.match(refusalReason('https://169.254.169.254/latest', policy)!, /NOTIFICATION_HOSTS/);
  assert.match(refusalReason('ftp://127.0.0.1/x', policy)!, /https/);
  assert.match(refusalReason('https://u:p@127.0.0.1/x', policy)!, /credentials/);
  const wide = webhookPolicy(loadConfig({ NOTIFICATION_HOSTS: 'hooks.example.com, *.contoso.test' }, '/').notifications.hosts, []);
  assert.equal(refusalReason('https://hooks.example.com/x', wide), undefined);
  assert.equal(refusalReason('https://a.b.contoso.test/x', wide), undefined);
  assert.match(refusalReason('https://contoso.test/x', wide)!, /NOTIFICATION_HOSTS/);
  assert.match(refusalReason('http://hooks.example.com/x', wide)!, /loopback/);
  assert.throws(() => loadConfig({ NOTIFICATION_HOSTS: 'a b' }, '/'), /NOTIFICATION_HOSTS/);
});

for (const kind of STORES) {
  describe(`${kind}: subscriptions API and the validation handshake (artifacts spec §3.1-§3.4)`, () => {
    let t: TestApp;
    let tls: ReceiverTls;
    let secure: WebhookReceiver;
    let plain: WebhookReceiver;
    let app: string;
    before(async () => {
      tls = receiverTls();
      t = await startTestApp(kind, {
        env: { NOTIFICATION_CA_FILES: tls.caFile },
        deps: { notificationTimings: { validationTimeoutMs: 1500 } },
      });
      secure = await new WebhookReceiver(tls).start();
      plain = await new WebhookReceiver().start();
      app = await t.appToken();
    });
    after(async () => {
      await secure.stop();
      await plain.stop();
      await t.close();
    });
    beforeEach(() => {
      for (const r of [secure, plain]) {
        r.validations.length = 0;
        r.notifications.length = 0;
        r.onValidation = (q, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(q.query.get('validationToken'));
      }
    });

    const eventsSub = (overrides: Record<string, unknown> = {}) => ({
      changeType: 'created,updated,deleted',
      notificationUrl: secure.url,
      resource: `users/${C.alice.id}/events`,
      expirationDateTime: inMinutes(t, 60),
      clientState: 'secretClientValue',
      ...overrides,
    });

    test('create over https validates the endpoint (decoded token, text/plain POST), answers 201 with §3.1', async () => {
      const res = await graph(t, 'POST', '/v1.0/subscriptions', app, eventsSub());
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as Json;
      assert.match(body['@odata.context'], /\/v1\.0\/\$metadata#subscriptions\/\$entity$/);
      assert.match(body.id, /^[0-9a-f-]{36}$/);
      assert.equal(body.resource, `users/${C.alice.id}/events`);
      assert.equal(body.changeType, 'created,updated,deleted');
      assert.equal(body.clientState, 'secretClientValue');
      assert.equal(body.applicationId, C.scheduler.clientId);
      assert.match(body.creatorId, /^[0-9a-f-]{36}$/);
      assert.equal(body.includeResourceData, false);
      assert.equal(body.latestSupportedTlsVersion, 'v1_2');
      assert.match(body.expirationDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
      assert.equal(secure.validations.length, 1);
      const v = secure.validations[0]!;
      assert.match(v.query.get('validationToken')!, /^Validation: Testing client application reachability/);
      assert.match(v.contentType!, /^text\/plain/);

      const got = await graph(t, 'GET', `/v1.0/subscriptions/${body.id}`, app);
      assert.equal(got.statusCode, 200);
      assert.equal((got.json() as Json).clientState, 'secretClientValue');
      const list = (await graph(t, 'GET', '/beta/subscriptions', app)).json() as Json;
      const listed = list.value.find((s: Json) => s.id === body.id);
      assert.equal(listed.clientState, null, 'List hides clientState (§3.1)');

      const renewed = await graph(t, 'PATCH', `/v1.0/subscriptions/${body.id}`, app, { expirationDateTime: inMinutes(t, 4000) });
      assert.equal(renewed.statusCode, 200, renewed.body);
      assert.ok((renewed.json() as Json).expirationDateTime > body.expirationDateTime);
      const tooFar = await graph(t, 'PATCH', `/v1.0/subscriptions/${body.id}`, app, { expirationDateTime: inMinutes(t, 4231) });
      assert.equal(tooFar.statusCode, 400);
      assert.equal((tooFar.json() as Json).error.code, 'ExtensionError');
      const addLifecycle = await graph(t, 'PATCH', `/v1.0/subscriptions/${body.id}`, app, { lifecycleNotificationUrl: secure.url });
      assert.equal(addLifecycle.statusCode, 400);
      assert.match((addLifecycle.json() as Json).error.message, /lifecycleNotificationUrl cannot be added/);
      assert.equal((await graph(t, 'POST', `/v1.0/subscriptions/${body.id}/reauthorize`, app)).statusCode, 204);

      // Another tenant's app sees nothing.
      const other = await t.appToken(DEMO.fabrikam.scheduler.clientId, DEMO.fabrikam.scheduler.secret, DEMO.fabrikam.tenantId);
      assert.equal((await graph(t, 'GET', `/v1.0/subscriptions/${body.id}`, other)).statusCode, 404);
      assert.equal((await graph(t, 'DELETE', `/v1.0/subscriptions/${body.id}`, other)).statusCode, 404);

      assert.equal((await graph(t, 'DELETE', `/v1.0/subscriptions/${body.id}`, app)).statusCode, 204);
      const gone = await graph(t, 'GET', `/v1.0/subscriptions/${body.id}`, app);
      assert.equal(gone.statusCode, 404);
      assert.equal((gone.json() as Json).error.code, 'ResourceNotFound');
    });

    test('http on loopback works; a lifecycleNotificationUrl equal to notificationUrl gets its own validation (§3.4)', async () => {
      const res = await graph(
        t,
        'POST',
        '/beta/subscriptions',
        app,
        eventsSub({ notificationUrl: plain.url, lifecycleNotificationUrl: plain.url }),
      );
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(plain.validations.length, 2);
      await graph(t, 'DELETE', `/v1.0/subscriptions/${(res.json() as Json).id}`, app);
    });

    const refusedCreate = async (code: string, message: RegExp, overrides: Record<string, unknown> = {}) => {
      const before = ((await graph(t, 'GET', '/v1.0/subscriptions', app)).json() as Json).value.length;
      const res = await graph(t, 'POST', '/v1.0/subscriptions', app, eventsSub(overrides));
      assert.equal(res.statusCode, 400, res.body);
      const err = (res.json() as Json).error;
      assert.equal(err.code, code);
      assert.match(err.message, message);
      assert.ok(err.innerError['request-id']);
      const afterCount = ((await graph(t, 'GET', '/v1.0/subscriptions', app)).json() as Json).value.length;
      assert.equal(afterCount, before, 'nothing was stored');
    };

    test('a receiver that echoes wrongly, still encoded, too late, with an error, a redirect, as HTML or too long makes the create fail', async () => {
      secure.onValidation = (_q, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('something else');
      await refusedCreate('ValidationError', /must exactly match validationToken/);
      secure.onValidation = (q, res) =>
        void res.writeHead(200, { 'content-type': 'text/plain' }).end(encodeURIComponent(q.query.get('validationToken')!));
      await refusedCreate('ValidationError', /must exactly match validationToken/);
      secure.onValidation = (q, res) =>
        void setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(q.query.get('validationToken')), 2500);
      await refusedCreate('InvalidRequest', /timed out/);
      secure.onValidation = (_q, res) => void res.writeHead(500).end();
      await refusedCreate('ValidationError', /must respond with 200 OK/);
      // A redirect is never followed, even to a receiver that would answer correctly.
      secure.onValidation = (q, res) => void res.writeHead(302, { location: `${plain.url}?${q.query.toString()}` }).end();
      await refusedCreate('ValidationError', /must respond with 200 OK/);
      assert.equal(plain.validations.length, 0);
      secure.onValidation = (q, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end(q.query.get('validationToken'));
      await refusedCreate('ValidationError', /must respond with 200 OK/);
      // An answer over 64 KiB is cut off (the service reads no more).
      secure.onValidation = (_q, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(200_000));
      await refusedCreate('ValidationError', /must respond with 200 OK/);
      // Nobody listening.
      await refusedCreate('ValidationError', /must respond with 200 OK/, { notificationUrl: 'https://127.0.0.1:1/hook' });
    });

    test('refused notification URLs: other hosts, plain http off loopback, not a URL (nothing is requested)', async () => {
      await refusedCreate('InvalidRequest', /NOTIFICATION_HOSTS/, { notificationUrl: 'https://webhook.example.com/api' });
      await refusedCreate('InvalidRequest', /NOTIFICATION_HOSTS/, { notificationUrl: 'https://10.0.0.1/api' });
      await refusedCreate('InvalidRequest', /https/, { notificationUrl: 'http://webhook.example.com/api' });
      await refusedCreate('InvalidRequest', /not an absolute URL/, { notificationUrl: 'hook' });
      await refusedCreate('InvalidRequest', /NOTIFICATION_HOSTS/, { lifecycleNotificationUrl: 'https://webhook.example.com/life' });
      assert.equal(secure.validations.length, 0);
    });

    test("Graph's errors for bad bodies: required properties, lifetimes, changeType, unknown properties, certificates", async () => {
      await refusedCreate('InvalidRequest', /expirationDateTime is a required property/, { expirationDateTime: undefined });
      await refusedCreate('InvalidRequest', /resource is a required property/, { resource: undefined });
      await refusedCreate('ExtensionError', /can only be 4230 minutes in the future/, { expirationDateTime: inMinutes(t, 4231) });
      await refusedCreate('InvalidRequest', /must be in the future/, { expirationDateTime: inMinutes(t, -1) });
      await refusedCreate('InvalidRequest', /not a valid ISO 8601/, { expirationDateTime: 'tomorrow' });
      await refusedCreate('InvalidRequest', /changeType 'created,moved' is invalid/, { changeType: 'created,moved' });
      await refusedCreate('InvalidRequest', /spelled and camelCased/, { notificationURL: secure.url });
      await refusedCreate('InvalidRequest', /at most 128/, { clientState: 'x'.repeat(129) });
      await refusedCreate('ExtensionError', /not supported for change notifications/, { resource: 'me/messages' });
      await refusedCreate('InvalidRequest', /encryptionCertificate is required/, { includeResourceData: true });
      await refusedCreate('InvalidRequest', /not a base64-encoded X.509/, { includeResourceData: true, encryptionCertificate: 'bm9wZQ==' });
    });

    test('permissions: read access to the subscribed resource, as Graph checks it', async () => {
      const noCalendar = await t.userToken(C.alice.upn, ['OnlineMeetings.ReadWrite']);
      const r1 = await graph(t, 'POST', '/v1.0/subscriptions', noCalendar, eventsSub({ resource: 'me/events' }));
      assert.equal(r1.statusCode, 403);
      const reader = await t.userToken(C.alice.upn, ['Calendars.Read']);
      const r2 = await graph(t, 'POST', '/v1.0/subscriptions', reader, eventsSub({ resource: `users/${C.bob.id}/events` }));
      assert.equal(r2.statusCode, 403, 'delegated: own mailbox only');
      const r3 = await graph(t, 'POST', '/v1.0/subscriptions', app, eventsSub({ resource: 'me/events' }));
      assert.equal(r3.statusCode, 400, '/me with an app token');
      const r4 = await graph(t, 'POST', '/v1.0/subscriptions', reader, eventsSub({ resource: '/me/calendar/events' }));
      assert.equal(r4.statusCode, 201, r4.body);
      // A delegated subscription is the signed-in user's: the same app's app-only token lists only its own.
      const mine = ((await graph(t, 'GET', '/v1.0/subscriptions', reader)).json() as Json).value;
      assert.deepEqual(
        mine.map((s: Json) => s.id),
        [(r4.json() as Json).id],
      );
      await graph(t, 'DELETE', `/v1.0/subscriptions/${(r4.json() as Json).id}`, reader);

      const transcripts = { changeType: 'created', resource: 'communications/onlineMeetings/getAllTranscripts' };
      const r5 = await graph(t, 'POST', '/v1.0/subscriptions', reader, eventsSub(transcripts));
      assert.equal(r5.statusCode, 403, 'getAllTranscripts: application permissions only');
      // The demo API app holds no application permission.
      const bare = await t.appToken(C.api.clientId, C.api.secret);
      const r6 = await graph(t, 'POST', '/v1.0/subscriptions', bare, eventsSub(transcripts));
      assert.equal(r6.statusCode, 403, 'OnlineMeetingTranscript.Read.All is missing');
    });

    test('list pages by 100 with @odata.nextLink; the control API needs the admin key', async () => {
      const bob = `users/${C.bob.id}/events`;
      const ids: string[] = [];
      for (let i = 0; i < 101; i++)
        ids.push(
          ((await graph(t, 'POST', '/v1.0/subscriptions', app, eventsSub({ resource: bob, notificationUrl: plain.url }))).json() as Json)
            .id,
        );
      const first = (await graph(t, 'GET', '/v1.0/subscriptions', app)).json() as Json;
      assert.equal(first.value.length, 100);
      const next = new URL(first['@odata.nextLink']);
      const second = (await graph(t, 'GET', `${next.pathname}${next.search}`, app)).json() as Json;
      const seen = [...first.value, ...second.value].map((v: Json) => v.id);
      for (const id of ids) assert.ok(seen.includes(id));
      assert.equal(second['@odata.nextLink'], undefined);
      for (const id of ids) await graph(t, 'DELETE', `/v1.0/subscriptions/${id}`, app);
      assert.equal((await t.inject({ method: 'GET', url: '/_emulator/notifications' })).statusCode, 401);
      assert.equal((await t.inject({ method: 'POST', url: '/_emulator/notifications/flush' })).statusCode, 401);
    });

    test('transcripts and recordings: created only, lifecycleNotificationUrl past 1 hour, one per app and resource', async () => {
      await new DirectoryService(t.testStore.store.db).grantApplicationPermission(C.scheduler.clientId, 'OnlineMeetingTranscript.Read.All');
      await new DirectoryService(t.testStore.store.db).grantApplicationPermission(C.scheduler.clientId, 'OnlineMeetingRecording.Read.All');
      t.app.graphMeetings.directory.clear();
      const token = await t.appToken();
      const transcripts = { changeType: 'created', resource: 'communications/onlineMeetings/getAllTranscripts' };
      const r1 = await graph(t, 'POST', '/v1.0/subscriptions', token, eventsSub({ ...transcripts, changeType: 'created,updated' }));
      assert.equal(r1.statusCode, 400);
      assert.equal((r1.json() as Json).error.code, 'ExtensionError');
      const r2 = await graph(t, 'POST', '/v1.0/subscriptions', token, eventsSub({ ...transcripts, expirationDateTime: inMinutes(t, 61) }));
      assert.equal(r2.statusCode, 400);
      assert.match((r2.json() as Json).error.message, /lifecycleNotificationUrl is required/);
      const r3 = await graph(
        t,
        'POST',
        '/v1.0/subscriptions',
        token,
        eventsSub({ ...transcripts, expirationDateTime: inMinutes(t, 4321), lifecycleNotificationUrl: secure.url }),
      );
      assert.equal(r3.statusCode, 400);
      assert.match((r3.json() as Json).error.message, /4320 minutes/);
      const ok = await graph(
        t,
        'POST',
        '/v1.0/subscriptions',
        token,
        eventsSub({ ...transcripts, expirationDateTime: inMinutes(t, 4320), lifecycleNotificationUrl: secure.url }),
      );
      assert.equal(ok.statusCode, 201, ok.body);
      const again = await graph(t, 'POST', '/v1.0/subscriptions', token, eventsSub({ ...transcripts }));
      assert.equal(again.statusCode, 403);
      assert.match((again.json() as Json).error.message, /quota/i);
      const recordings = await graph(
        t,
        'POST',
        '/v1.0/subscriptions',
        token,
        eventsSub({ changeType: 'created', resource: `users/${C.alice.id}/onlineMeetings/getAllRecordings` }),
      );
      assert.equal(recordings.statusCode, 201, recordings.body);
      const carol = await graph(
        t,
        'POST',
        '/v1.0/subscriptions',
        token,
        eventsSub({ changeType: 'created', resource: `users/${C.carol.id}/onlineMeetings/getAllRecordings` }),
      );
      assert.equal(carol.statusCode, 403, 'no application access policy for Carol');
      const unknownMeeting = await graph(
        t,
        'POST',
        '/v1.0/subscriptions',
        token,
        eventsSub({ changeType: 'created', resource: 'communications/onlineMeetings/MSoxxx/transcripts' }),
      );
      assert.equal(unknownMeeting.statusCode, 404);
      for (const r of [ok, recordings]) await graph(t, 'DELETE', `/v1.0/subscriptions/${(r.json() as Json).id}`, token);
    });
  });
}
