import assert from 'node:assert/strict';
import { constants, createDecipheriv, createHmac, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { GRAPH_NOTIFICATION_PUBLISHER } from '../../src/domain/notifications/rich-content.js';
import { openStore } from '../../src/storage/database.js';
import { EmulatorClock } from '../../src/util/clock.js';
import { makeCertificate } from '../helpers/certificates.js';
import { ARTIFACT_SCOPES, calendarMeeting, SAMPLE_VTT } from '../helpers/artifacts.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { receiverTls, WebhookReceiver, type ReceiverTls } from '../helpers/webhook-receiver.js';

const C = DEMO.contoso;
const ADMIN = 'notifications-admin-key-0123456789';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

const event = (subject: string) => ({
  subject,
  start: { dateTime: '2031-03-01T10:00:00', timeZone: 'UTC' },
  end: { dateTime: '2031-03-01T11:00:00', timeZone: 'UTC' },
});

/** The decryption a receiver does (artifacts spec §3.6): RSA-OAEP key, HMAC check first, AES-CBC with the key's first 16 bytes as IV. */
function decrypt(content: Json, privateKey: string): Json {
  const key = privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(content.dataKey, 'base64'),
  );
  assert.equal(key.length, 32);
  const data = Buffer.from(content.data, 'base64');
  const signature = createHmac('sha256', key).update(data).digest();
  assert.ok(timingSafeEqual(signature, Buffer.from(content.dataSignature, 'base64')), 'dataSignature matches');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  return JSON.parse(Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8'));
}

const base64Der = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

for (const kind of STORES) {
  describe(`${kind}: change notifications delivered from the outbox (artifacts spec §3.5-§3.9, events spec §7)`, () => {
    let t: TestApp;
    let tls: ReceiverTls;
    let hook: WebhookReceiver;
    let life: WebhookReceiver;
    let clock: EmulatorClock;
    const env = () => ({ NOTIFICATION_CA_FILES: tls.caFile, ADMIN_KEY: ADMIN });

    before(async () => {
      tls = receiverTls();
      clock = new EmulatorClock({ start: Date.now(), frozen: true });
      t = await startTestApp(kind, { env: env(), deps: { clock } });
      hook = await new WebhookReceiver(tls).start();
      life = await new WebhookReceiver().start();
    });
    after(async () => {
      await hook.stop();
      await life.stop();
      await t.close();
    });
    beforeEach(async () => {
      await flush(t);
      for (const r of [hook, life]) {
        r.notifications.length = 0;
        r.validations.length = 0;
        r.onNotification = (_r, res) => void res.writeHead(202).end();
      }
    });

    const flush = async (app: TestApp = t) => {
      const res = await app.inject({
        method: 'POST',
        url: '/_emulator/notifications/flush',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as Json;
    };
    const outbox = async (subscriptionId: string, app: Pick<TestApp, 'inject'> = t) => {
      const res = await app.inject({
        method: 'GET',
        url: `/_emulator/notifications?subscriptionId=${subscriptionId}`,
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as Json).value as Json[];
    };
    const subscribe = async (token: string, body: Record<string, unknown>) => {
      const res = await graph(t, 'POST', '/v1.0/subscriptions', token, {
        changeType: 'created,updated,deleted',
        notificationUrl: hook.url,
        resource: `users/${C.alice.id}/events`,
        expirationDateTime: new Date(clock.now() + 3 * 3_600_000).toISOString(),
        clientState: 'state-42',
        ...body,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as Json;
    };

    test('events: created, updated and deleted, shaped as Graph sends them; nothing from before the subscription', async () => {
      const app = await t.appToken();
      const earlier = (await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event('before'))).json() as Json;
      const sub = await subscribe(app, {});
      const created = (await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event('Planning'))).json() as Json;
      assert.equal(
        (await graph(t, 'PATCH', `/v1.0/users/${C.alice.id}/events/${created.id}`, app, { subject: 'Planning 2' })).statusCode,
        200,
      );
      assert.equal((await graph(t, 'DELETE', `/v1.0/users/${C.alice.id}/events/${created.id}`, app)).statusCode, 204);
      // Bob's calendar is not watched.
      await graph(t, 'POST', `/v1.0/users/${C.bob.id}/events`, app, event('Bob'));
      await flush();
      const items = hook.bodies().flatMap((b) => b.value);
      assert.deepEqual(
        items.map((i) => `${i.changeType}:${(i.resourceData as Json).id}`).sort(),
        [`created:${created.id}`, `deleted:${created.id}`, `updated:${created.id}`].sort(),
      );
      assert.ok(!items.some((i) => (i.resourceData as Json).id === earlier.id), 'the earlier event is not announced');
      const c = items.find((i) => i.changeType === 'created')! as Json;
      assert.equal(c.subscriptionId, sub.id);
      assert.match(c.subscriptionExpirationDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
      assert.equal(c.clientState, 'state-42');
      assert.equal(c.tenantId, C.tenantId);
      assert.equal(c.resource, `Users/${C.alice.id}/Events/${created.id}`);
      assert.equal(c.resourceData['@odata.type'], '#Microsoft.Graph.Event');
      assert.equal(c.resourceData['@odata.id'], c.resource);
      assert.match(c.resourceData['@odata.etag'], /^W\/"DwAAABYAAA/);
      assert.equal(c.encryptedContent, undefined);
      assert.match(hook.notifications[0]!.contentType!, /^application\/json/);
      const log = await outbox(sub.id);
      assert.equal(log.length, 3);
      assert.ok(log.every((l) => l.status === 'delivered' && l.attempts === 1 && l.lastStatus === 202));
      await graph(t, 'DELETE', `/v1.0/subscriptions/${sub.id}`, app);
    });

    test('a stopped receiver: the item waits with back-off and is delivered once the receiver is back', async () => {
      const app = await t.appToken();
      const sub = await subscribe(app, {});
      await hook.stop();
      const created = (await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event('while down'))).json() as Json;
      await flush();
      let [item] = await outbox(sub.id);
      assert.equal(item.status, 'pending');
      assert.ok(item.attempts >= 1);
      assert.match(item.lastError, /network/);
      assert.ok(item.nextAttemptDateTime > item.lastAttemptDateTime, 'a back-off is scheduled');
      await hook.start();
      clock.advance(60);
      await flush();
      [item] = await outbox(sub.id);
      assert.equal(item.status, 'delivered');
      assert.ok(item.attempts >= 2);
      assert.equal((hook.bodies()[0]!.value[0]!.resourceData as Json).id, created.id);
      await graph(t, 'DELETE', `/v1.0/subscriptions/${sub.id}`, app);
    });

    test('4 hours of failures: the item is discarded and an events subscription hears `missed` (§3.8, §3.9)', async () => {
      const app = await t.appToken();
      const sub = await subscribe(app, {
        lifecycleNotificationUrl: life.url,
        expirationDateTime: new Date(clock.now() + 4000 * 60_000).toISOString(),
      });
      hook.onNotification = (_r, res) => void res.writeHead(503).end();
      await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event('never'));
      await flush();
      clock.advance(4 * 3600 + 60);
      await flush();
      const [item] = (await outbox(sub.id)).filter((i) => i.kind === 'change');
      assert.equal(item.status, 'dropped');
      assert.equal(item.lastStatus, 503);
      await flush();
      const lifecycle = life.bodies().flatMap((b) => b.value);
      assert.deepEqual(
        lifecycle.map((l) => l.lifecycleEvent),
        ['missed'],
      );
      assert.equal(lifecycle[0]!.subscriptionId, sub.id);
      assert.equal(lifecycle[0]!.clientState, 'state-42');
      await graph(t, 'DELETE', `/v1.0/subscriptions/${sub.id}`, await t.appToken());
    });

    test('rich notifications: encryptedContent decrypts with the private key, dataSignature and validationTokens verify', async () => {
      const app = await t.appToken();
      const cert = makeCertificate({ commonName: 'notification receiver' });
      const tooLong = await graph(t, 'POST', '/v1.0/subscriptions', app, {
        changeType: 'created',
        notificationUrl: hook.url,
        resource: `users/${C.alice.id}/events`,
        expirationDateTime: new Date(clock.now() + 1441 * 60_000).toISOString(),
        includeResourceData: true,
        encryptionCertificate: base64Der(cert.certificate),
      });
      assert.equal(tooLong.statusCode, 400);
      assert.match((tooLong.json() as Json).error.message, /1440 minutes/);
      const sub = await subscribe(app, {
        changeType: 'created',
        includeResourceData: true,
        encryptionCertificate: base64Der(cert.certificate),
        encryptionCertificateId: 'receiver-cert-1',
      });
      await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event('Rich and secret'));
      await flush();
      const [body] = hook.bodies();
      const item = body!.value[0] as Json;
      assert.equal(item.encryptedContent.encryptionCertificateId, 'receiver-cert-1');
      assert.equal(item.encryptedContent.encryptionCertificateThumbprint, cert.thumbprint);
      const data = decrypt(item.encryptedContent, cert.privateKey);
      assert.equal(data.subject, 'Rich and secret');
      assert.equal(data.id, item.resourceData.id);

      assert.equal(body!.validationTokens?.length, 1);
      const jwks = (await t.inject({ method: 'GET', url: `/${C.tenantId}/discovery/v2.0/keys` })).json() as JSONWebKeySet;
      const { payload } = await jwtVerify(body!.validationTokens![0]!, createLocalJWKSet(jwks), {
        audience: C.scheduler.clientId,
        issuer: `https://sts.windows.net/${C.tenantId}/`,
        // The tokens live on the emulated timeline, which earlier tests moved ahead.
        currentDate: new Date(clock.now()),
      });
      assert.equal(payload.appid, GRAPH_NOTIFICATION_PUBLISHER);
      assert.equal(payload.tid, C.tenantId);
      await graph(t, 'DELETE', `/v1.0/subscriptions/${sub.id}`, app);

      // $select in the resource narrows the encrypted data (events spec §7).
      hook.notifications.length = 0;
      const narrow = await subscribe(app, {
        changeType: 'created',
        resource: `users/${C.alice.id}/events?$select=subject,start`,
        includeResourceData: true,
        encryptionCertificate: base64Der(cert.certificate),
      });
      await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event('Narrow'));
      await flush();
      const narrowed = decrypt((hook.bodies()[0]!.value[0] as Json).encryptedContent, cert.privateKey);
      assert.deepEqual(
        Object.keys(narrowed)
          .filter((k) => !k.startsWith('@odata.'))
          .sort(),
        ['id', 'start', 'subject'],
      );
      assert.equal(narrowed.subject, 'Narrow');
      await graph(t, 'DELETE', `/v1.0/subscriptions/${narrow.id}`, app);
    });

    test('transcripts: the ChangeFeed notifies subscribers that existed before transcription started, encrypted (§3.3, §3.5)', async () => {
      const directory = new DirectoryService(t.testStore.store.db);
      await directory.grantApplicationPermission(C.scheduler.clientId, 'OnlineMeetingTranscript.Read.All');
      t.app.graphMeetings.directory.clear();
      const app = await t.appToken();
      const cert = makeCertificate();
      const beforeSub = new Date(clock.now() - 1000).toISOString();
      const sub = await subscribe(app, {
        changeType: 'created',
        resource: 'communications/onlineMeetings/getAllTranscripts',
        lifecycleNotificationUrl: life.url,
        includeResourceData: true,
        encryptionCertificate: base64Der(cert.certificate),
        encryptionCertificateId: 'transcripts',
      });
      clock.advance(1);
      const feed = t.app.graphMeetings.changeFeed;
      const artifact = (id: string, startedAt: string) =>
        feed.artifactCreated({
          kind: 'transcripts',
          tenantId: C.tenantId,
          meetingId: 'MSoxMjM0',
          organizerId: C.alice.id,
          artifactId: id,
          startedAt,
          resource: { id, meetingId: 'MSoxMjM0', transcriptContentUrl: `communications/onlineMeetings/MSoxMjM0/transcripts/${id}/content` },
        });
      await t.testStore.store.db.executeQuery(artifact('VjIjIzEx-early', beforeSub));
      await t.testStore.store.db.executeQuery(artifact('VjIjIzEx-late', new Date(clock.now()).toISOString()));
      await flush();
      const items = hook.bodies().flatMap((b) => b.value) as Json[];
      assert.equal(items.length, 1, 'the transcript that started before the subscription is not announced');
      assert.equal(items[0].resource, "communications/onlineMeetings('MSoxMjM0')/transcripts('VjIjIzEx-late')");
      assert.equal(items[0].resourceData['@odata.type'], '#Microsoft.Graph.callTranscript');
      assert.equal(
        decrypt(items[0].encryptedContent, cert.privateKey).transcriptContentUrl,
        'communications/onlineMeetings/MSoxMjM0/transcripts/VjIjIzEx-late/content',
      );
      await graph(t, 'DELETE', `/v1.0/subscriptions/${sub.id}`, app);
    });

    test('a recorded session (#17) notifies transcript and recording subscribers, in the transaction that stores it', async () => {
      const app = await t.appToken();
      const alice = await t.userToken(C.alice.upn, ARTIFACT_SCOPES);
      const { meetingId, joinWebUrl } = await calendarMeeting(t, alice, 'Notified sync');
      const cert = makeCertificate();
      const transcripts = await subscribe(app, {
        changeType: 'created',
        resource: 'communications/onlineMeetings/getAllTranscripts',
        lifecycleNotificationUrl: life.url,
        includeResourceData: true,
        encryptionCertificate: base64Der(cert.certificate),
        encryptionCertificateId: 'tenant-transcripts',
      });
      const recordings = await subscribe(app, {
        changeType: 'created',
        resource: `communications/onlineMeetings/${meetingId}/recordings`,
        lifecycleNotificationUrl: life.url,
      });
      const record = async (startMs: number) => {
        const res = await t.inject({
          method: 'POST',
          url: '/_emulator/sessions',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          payload: JSON.stringify({
            meeting: { joinWebUrl },
            startDateTime: new Date(startMs).toISOString(),
            endDateTime: new Date(startMs + 30 * 60_000).toISOString(),
            participants: [
              {
                user: C.alice.upn,
                intervals: [
                  { joinDateTime: new Date(startMs).toISOString(), leaveDateTime: new Date(startMs + 30 * 60_000).toISOString() },
                ],
              },
            ],
            transcript: { content: SAMPLE_VTT },
            recording: { contentType: 'video/mp4', contentBase64: Buffer.from('fake-mp4').toString('base64') },
          }),
        });
        assert.equal(res.statusCode, 201, res.body);
        return res.json() as Json;
      };
      // A session that started before the subscriptions existed is not announced (§3.3).
      await record(clock.now() - 3_600_000);
      const session = await record(clock.now() + 60_000);
      await flush();
      const items = hook.bodies().flatMap((b) => b.value) as Json[];
      assert.equal(items.length, 2, JSON.stringify(items));
      const t1 = items.find((i) => i.subscriptionId === transcripts.id)!;
      assert.equal(t1.resource, `communications/onlineMeetings('${meetingId}')/transcripts('${session.transcriptId}')`);
      assert.equal(t1.resourceData['@odata.type'], '#Microsoft.Graph.callTranscript');
      const data = decrypt(t1.encryptedContent, cert.privateKey);
      assert.equal(data.id, session.transcriptId);
      assert.equal(data.meetingId, meetingId);
      assert.equal(data.meetingOrganizer.user.id, C.alice.id);
      assert.equal(data.transcriptContentUrl, `communications/onlineMeetings/${meetingId}/transcripts/${session.transcriptId}/content`);
      const r1 = items.find((i) => i.subscriptionId === recordings.id)!;
      assert.equal(r1.resource, `communications/onlineMeetings('${meetingId}')/recordings('${session.recordingId}')`);
      assert.equal(r1.resourceData['@odata.type'], '#Microsoft.Graph.callRecording');
      assert.equal(r1.encryptedContent, undefined);
      // The notification leads to the artifact (§3.5: /users/{organizer}/onlineMeetings/{meetingId}/transcripts/{id}).
      const got = await graph(
        t,
        'GET',
        `/v1.0/users/${data.meetingOrganizer.user.id}/onlineMeetings/${data.meetingId}/transcripts/${data.id}`,
        app,
      );
      assert.equal(got.statusCode, 200, got.body);

      // A recording streamed after the session is announced once its upload is complete.
      hook.notifications.length = 0;
      const later = await t.inject({
        method: 'POST',
        url: '/_emulator/sessions',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        payload: JSON.stringify({
          meeting: { joinWebUrl },
          startDateTime: new Date(clock.now() + 120_000).toISOString(),
          endDateTime: new Date(clock.now() + 900_000).toISOString(),
          participants: [
            {
              user: C.alice.upn,
              intervals: [
                {
                  joinDateTime: new Date(clock.now() + 120_000).toISOString(),
                  leaveDateTime: new Date(clock.now() + 900_000).toISOString(),
                },
              ],
            },
          ],
        }),
      });
      assert.equal(later.statusCode, 201, later.body);
      const upload = await t.inject({
        method: 'PUT',
        url: `/_emulator/sessions/${(later.json() as Json).id}/recording`,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'video/mp4' },
        payload: Buffer.alloc(300_000, 7),
      });
      assert.ok(upload.statusCode < 300, upload.body);
      await flush();
      const streamed = hook.bodies().flatMap((b) => b.value) as Json[];
      assert.equal(streamed.length, 1);
      assert.equal(streamed[0].subscriptionId, recordings.id);
      assert.equal(streamed[0].resourceData.id, (upload.json() as Json).recordingId);
      for (const sub of [transcripts, recordings]) await graph(t, 'DELETE', `/v1.0/subscriptions/${sub.id}`, app);
    });

    test('lifecycle with the clock: reauthorizationRequired under an hour (every 15 min), renewal resets, expiry removes (§3.9)', async () => {
      const sub = await subscribe(await t.appToken(), {
        lifecycleNotificationUrl: life.url,
        expirationDateTime: new Date(clock.now() + 120 * 60_000).toISOString(),
      });
      const events = () => life.bodies().flatMap((b) => b.value.map((v) => v.lifecycleEvent));
      clock.advance(30 * 60);
      await flush();
      assert.deepEqual(events(), []);
      clock.advance(31 * 60);
      await flush();
      assert.deepEqual(events(), ['reauthorizationRequired']);
      const item = life.bodies()[0]!.value[0] as Json;
      assert.equal(item.subscriptionId, sub.id);
      assert.equal(item.tenantId, C.tenantId);
      assert.equal(item.clientState, 'state-42');
      clock.advance(10 * 60);
      await flush();
      assert.equal(events().length, 1);
      clock.advance(6 * 60);
      await flush();
      assert.deepEqual(events(), ['reauthorizationRequired', 'reauthorizationRequired']);
      const app = await t.appToken();
      const renewed = await graph(t, 'PATCH', `/v1.0/subscriptions/${sub.id}`, app, {
        expirationDateTime: new Date(clock.now() + 120 * 60_000).toISOString(),
      });
      assert.equal(renewed.statusCode, 200, renewed.body);
      await flush();
      assert.equal(events().length, 2, 'renewed: two hours left again');
      clock.advance(121 * 60);
      await flush();
      await flush();
      assert.deepEqual(events().slice(2), ['subscriptionRemoved']);
      assert.equal((await graph(t, 'GET', `/v1.0/subscriptions/${sub.id}`, await t.appToken())).statusCode, 404);
    });

    test('a restart mid-retry loses nothing, and two instances on one database never send an item twice', async () => {
      const app = await t.appToken();
      const sub = await subscribe(app, { changeType: 'created' });
      await hook.stop();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++)
        ids.push(((await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event(`e${i}`))).json() as Json).id);
      await flush();
      assert.ok((await outbox(sub.id)).every((i) => i.status === 'pending' && i.attempts >= 1));

      // The service stops while the items wait for their retry; two instances start on the same database.
      await t.app.close();
      const config = loadConfig({ PORT: '0', DATA_DIR: t.dataDir, LOG_LEVEL: 'silent', ...env() }, process.cwd());
      const second =
        kind === 'sqlite'
          ? openStore({ databaseUrl: undefined, sqliteFile: `${t.dataDir}/test.sqlite` })
          : openStore({ databaseUrl: t.testStore.databaseUrl, sqliteFile: '' });
      const one = await buildApp(config, { store: t.testStore.store, clock });
      const two = await buildApp(config, { store: second, clock });
      try {
        await Promise.all([one.ready(), two.ready()]);
        // Each delivery is slow enough for the two instances to overlap.
        hook.onNotification = (_r, res) => void setTimeout(() => res.writeHead(202).end(), 30);
        await hook.start();
        const call = (a: typeof one) =>
          a.inject({ method: 'POST', url: '/_emulator/notifications/flush', headers: { authorization: `Bearer ${ADMIN}` } });
        await Promise.all([call(one), call(two), call(one), call(two)]);
        const seen = hook.bodies().map((b) => (b.value[0]!.resourceData as Json).id as string);
        assert.deepEqual([...seen].sort(), [...ids].sort(), 'every item exactly once');
        assert.ok((await outbox(sub.id, { inject: (o) => one.inject(o) })).every((i) => i.status === 'delivered'));
      } finally {
        await one.close();
        await two.close();
        await second.close();
      }
    });
  });
}

for (const kind of STORES) {
  describe(`${kind}: slow receivers are retried, throttled and dropped by Graph's rules (artifacts spec §3.8)`, () => {
    test('over the delivery timeout = failed and retried; ≥ 10 % slow of 100 throttles (10 min), ≥ 15 % drops', async () => {
      const clock = new EmulatorClock({ start: Date.now(), frozen: true });
      // 1 s stands in for Graph's 3 s, so that the test waits less for slow answers; only flush delivers.
      const t = await startTestApp(kind, {
        env: { ADMIN_KEY: ADMIN },
        deps: { clock, notificationTimings: { deliveryTimeoutMs: 1000 }, notificationBackground: false },
      });
      const hook = await new WebhookReceiver().start();
      let slowMode = false;
      hook.onNotification = (_r, res) => {
        if (slowMode) setTimeout(() => res.writeHead(202).end(), 1500);
        else res.writeHead(202).end();
      };
      try {
        const flush = async () => {
          const res = await t.inject({
            method: 'POST',
            url: '/_emulator/notifications/flush',
            headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
            payload: '{"honorBackoff":true}',
          });
          assert.equal(res.statusCode, 200, res.body);
          return res.json() as Json;
        };
        const log = async () =>
          (
            (
              await t.inject({ method: 'GET', url: '/_emulator/notifications?top=1000', headers: { authorization: `Bearer ${ADMIN}` } })
            ).json() as Json
          ).value as Json[];
        const app = await t.appToken();
        const sub = await graph(t, 'POST', '/v1.0/subscriptions', app, {
          changeType: 'created',
          notificationUrl: hook.url,
          resource: `users/${C.alice.id}/events`,
          expirationDateTime: new Date(clock.now() + 3000 * 60_000).toISOString(),
        });
        assert.equal(sub.statusCode, 201, sub.body);
        const create = async (n: number, prefix: string) => {
          const ids: string[] = [];
          for (let i = 0; i < n; i++)
            ids.push(((await graph(t, 'POST', `/v1.0/users/${C.alice.id}/events`, app, event(`${prefix}${i}`))).json() as Json).id);
          return ids;
        };
        const row = async (id: string) => (await log()).find((r) => r.notification.resourceData.id === id)!;

        slowMode = true;
        const slow = await create(10, 'slow-a');
        assert.equal((await flush()).failed, 10);
        for (const id of slow) {
          const r = await row(id);
          assert.equal(r.status, 'pending', 'a slow answer fails and waits for its retry');
          assert.match(r.lastError, /timeout/);
        }
        slowMode = false;
        await create(90, 'fast-a');
        assert.equal((await flush()).delivered, 90);

        // 10 of 100 slow: the endpoint is throttled; a new notification waits 10 minutes.
        const [held] = await create(1, 'held');
        assert.equal((await flush()).postponed, 1);
        const heldRow = await row(held!);
        assert.equal(heldRow.status, 'pending');
        assert.equal(heldRow.attempts, 0);
        assert.match(heldRow.lastError, /throttled/);
        clock.advance(10 * 60);
        await flush();
        assert.equal((await row(held!)).status, 'delivered');
        assert.ok(
          (await log()).every((r) => r.status === 'delivered'),
          'the slow ones were delivered on their retry',
        );

        // A fresh window (11 so far): 17 slow of the next 100 drops what follows.
        slowMode = true;
        await create(17, 'slow-b');
        await flush();
        slowMode = false;
        await create(72, 'fast-b');
        await flush();
        const [dropped] = await create(1, 'dropped');
        assert.equal((await flush()).dropped, 1);
        assert.match((await row(dropped!)).lastError, /endpoint dropped/);
      } finally {
        await hook.stop();
        await t.close();
      }
    });
  });
}
