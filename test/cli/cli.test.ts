import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type * as cmd from '../../src/cli/commands.js';
import { loadConfig } from '../../src/config/config.js';
import { DEMO, seedDemoDirectory } from '../../src/domain/directory/demo-directory.js';
import { migrateToLatest, openStore } from '../../src/storage/database.js';
import { migrations } from '../../src/storage/migrations/index.js';

/**
 * The admin CLI as users run it: a real process per command (tsx, about a second each), on a temp
 * DATA_DIR. Independent commands run side by side to keep the file fast; SQLite's busy timeout
 * serialises their writes.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const C = DEMO.contoso;
const NORTHWIND = { id: '7d0b5f3e-54a1-4c55-9b0f-2f2c1c7f6a10', domain: 'northwind.test' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      // DATABASE_URL is blanked so a developer's environment cannot point the CLI at a real database.
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/** Asserts success and returns stdout parsed as JSON. */
function json<T>(run: Run): T {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** Asserts an expected refusal: exit 1, `error: …` on stderr, no stack trace, nothing on stdout. */
function refused(run: Run, message: RegExp) {
  assert.equal(run.code, 1, `expected exit 1, got ${run.code}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, /^error: /);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(run.stdout, '');
}

function usage(run: Run, message: RegExp) {
  assert.equal(run.code, 2, `expected exit 2, got ${run.code}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, message);
  assert.match(run.stderr, /Usage: graph-meetings/);
  assert.equal(run.stdout, '');
}

/** What a command prints with --json. */
type Result<K extends keyof typeof cmd> = Awaited<ReturnType<(typeof cmd)[K]>>;

const jwtPayload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-cli-'));

/** The CLI never seeds (issue #11 item 5): suites that administer the demo directory seed it as the server would. */
async function seedDemo(dataDir: string) {
  const store = openStore({ databaseUrl: undefined, sqliteFile: path.join(dataDir, 'graph-meetings.sqlite') });
  try {
    await migrateToLatest(store.db);
    await seedDemoDirectory(store.db);
  } finally {
    await store.close();
  }
}

describe('cli: directory administration on the demo directory', () => {
  let dir: string;
  const run = (...args: string[]) => cli(dir, args);
  let erinId: string;
  let app: Result<'appAdd'>;

  before(async () => {
    dir = tempDir();
    await seedDemo(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('tenant list and user list show the demo directory a server seeded', async () => {
    const tenants = await run('tenant', 'list');
    assert.equal(tenants.code, 0, tenants.stderr);
    assert.match(tenants.stdout, new RegExp(`${C.tenantId}\\s+Contoso\\s+contoso\\.test`));
    assert.match(tenants.stdout, /Fabrikam\s+fabrikam\.test/);
    assert.doesNotMatch(tenants.stderr, /Seeded/);

    const [text, asJson] = await Promise.all([
      run('user', 'list', '--tenant', 'contoso.test'),
      run('user', 'list', '--tenant', 'contoso.test', '--json'),
    ]);
    assert.equal(text.code, 0, text.stderr);
    for (const u of [C.alice, C.bob, C.carol]) assert.match(text.stdout, new RegExp(`${u.id}\\s+${u.upn}\\s+${u.displayName}`));
    const users = json<cmd.UserView[]>(asJson);
    assert.deepEqual(
      users.map((u) => [u.upn, u.id, u.tenantId]),
      [C.alice, C.bob, C.carol].map((u) => [u.upn, u.id, C.tenantId]),
    );
    assert.doesNotMatch(asJson.stdout, /password|scrypt/i, 'password hashes are never printed');
  });

  test('tenant add and user add; conflicts and rule violations exit 1 with a clear message', async () => {
    const tenant = json<Result<'tenantAdd'>>(
      await run('tenant', 'add', '--name', 'Northwind', '--domain', 'NorthWind.test', '--id', NORTHWIND.id, '--json'),
    );
    assert.deepEqual(tenant, { id: NORTHWIND.id, displayName: 'Northwind', domain: NORTHWIND.domain });

    const [dupDomain, dupId, erin] = await Promise.all([
      run('tenant', 'add', '--name', 'Other', '--domain', 'northwind.test'),
      run('tenant', 'add', '--name', 'Other', '--domain', 'other.test', '--id', NORTHWIND.id),
      run(
        'user',
        'add',
        '--tenant',
        'northwind.test',
        '--upn',
        'erin@northwind.test',
        '--name',
        'Erin Evans',
        '--password',
        'Erin-Passw0rd!',
        '--json',
      ),
    ]);
    refused(dupDomain, /Domain 'northwind\.test' already belongs to tenant Northwind/);
    refused(dupId, new RegExp(`Tenant '${NORTHWIND.id}' already exists`));
    erinId = json<Result<'userAdd'>>(erin).id;
    assert.equal(json<Result<'userAdd'>>(erin).tenantId, NORTHWIND.id);

    const [dupUser, foreignDomain, noTenant] = await Promise.all([
      run('user', 'add', '--tenant', 'northwind.test', '--upn', 'Erin@northwind.test', '--name', 'Erin 2', '--password', 'Erin-Passw0rd!'),
      run('user', 'add', '--tenant', 'northwind.test', '--upn', 'frank@contoso.test', '--name', 'Frank', '--password', 'Frank-Passw0rd!'),
      run('user', 'list', '--tenant', 'nowhere.test'),
    ]);
    refused(dupUser, /User 'erin@northwind\.test' already exists/);
    refused(foreignDomain, /is not a domain of tenant/);
    refused(noTenant, /Tenant 'nowhere\.test' was not found/);
  });

  test('user add takes the Graph profile (issue #14): stored as given, mail defaults to the UPN, bad values exit 1', async () => {
    const added = await run(
      'user',
      'add',
      '--tenant',
      'northwind.test',
      '--upn',
      'gina@northwind.test',
      '--name',
      'Gina Gray',
      '--password',
      'Gina-Passw0rd!',
      '--given-name',
      'Gina',
      '--surname',
      'Gray',
      '--job-title',
      'Buyer',
      '--mail',
      'g.gray@northwind.test',
      '--mobile-phone',
      '+1 555 0100',
      '--office-location',
      'HQ 2',
      '--preferred-language',
      'en-GB',
      '--business-phone',
      '+1 555 0101',
      '--json',
    );
    assert.equal(added.code, 0, added.stderr);
    const gina = json<Result<'userAdd'>>(added);
    assert.deepEqual(
      [
        gina.givenName,
        gina.surname,
        gina.jobTitle,
        gina.mail,
        gina.mobilePhone,
        gina.officeLocation,
        gina.preferredLanguage,
        gina.businessPhones,
      ],
      ['Gina', 'Gray', 'Buyer', 'g.gray@northwind.test', '+1 555 0100', 'HQ 2', 'en-GB', ['+1 555 0101']],
    );
    const plain = json<Result<'userAdd'>>(
      await run(
        'user',
        'add',
        '--tenant',
        'northwind.test',
        '--upn',
        'hal@northwind.test',
        '--name',
        'Hal',
        '--password',
        'Hal-Passw0rd!',
        '--json',
      ),
    );
    assert.equal(plain.mail, 'hal@northwind.test');
    assert.deepEqual([plain.givenName, plain.jobTitle, plain.businessPhones], [null, null, []]);
    const [badLanguage, badMail, longTitle] = await Promise.all([
      run(
        'user',
        'add',
        '--tenant',
        'northwind.test',
        '--upn',
        'i1@northwind.test',
        '--name',
        'I',
        '--password',
        'I-Passw0rd!!',
        '--preferred-language',
        'english',
      ),
      run(
        'user',
        'add',
        '--tenant',
        'northwind.test',
        '--upn',
        'i2@northwind.test',
        '--name',
        'I',
        '--password',
        'I-Passw0rd!!',
        '--mail',
        'not mail',
      ),
      run(
        'user',
        'add',
        '--tenant',
        'northwind.test',
        '--upn',
        'i3@northwind.test',
        '--name',
        'I',
        '--password',
        'I-Passw0rd!!',
        '--job-title',
        'x'.repeat(129),
      ),
    ]);
    refused(badLanguage, /not a preferred language/);
    refused(badMail, /not an email address/);
    refused(longTitle, /jobTitle of a user is at most 128 characters/);
  });

  test('app add prints the secret once; the database keeps only its SHA-256 hash', async () => {
    const added = await run('app', 'add', '--tenant', 'northwind.test', '--name', 'Northwind Scheduler', '--json');
    app = json<Result<'appAdd'>>(added);
    assert.match(app.secret.value, /^[\w-]{40}$/);
    assert.match(added.stderr, /Store the client secret now: it cannot be shown again/);

    const second = json<Result<'appSecretAdd'>>(await run('app', 'secret', 'add', '--client-id', app.clientId, '--json'));
    assert.notEqual(second.secret.value, app.secret.value);
    const removed = await run('app', 'secret', 'remove', '--client-id', app.clientId, '--secret-id', app.secret.id);
    assert.equal(removed.code, 0, removed.stderr);
    refused(await run('app', 'secret', 'remove', '--client-id', app.clientId, '--secret-id', app.secret.id), /Secret .* was not found/);

    const listed = await run('app', 'list', '--tenant', 'northwind.test', '--json');
    const [view] = json<cmd.AppView[]>(listed);
    assert.equal(view?.clientId, app.clientId);
    assert.deepEqual(
      view!.secrets.map((s) => [s.id, s.hint]),
      [[second.secret.id, second.secret.value.slice(0, 3)]],
    );
    assert.ok(!listed.stdout.includes(second.secret.value), 'app list never shows a secret');

    const db = new Database(path.join(dir, 'graph-meetings.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT id, secret_hash FROM application_secrets WHERE id IN (?, ?)').all(app.secret.id, second.secret.id);
      assert.deepEqual(rows, [{ id: second.secret.id, secret_hash: createHash('sha256').update(second.secret.value).digest('hex') }]);
    } finally {
      db.close();
    }
    // Not anywhere in the files either (the WAL included, when it is still there).
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('graph-meetings.sqlite'))) {
      const bytes = fs.readFileSync(path.join(dir, file));
      for (const secret of [app.secret.value, second.secret.value]) assert.equal(bytes.indexOf(secret), -1, `${file} holds a secret`);
    }
  });

  test("app redirect add, list and remove: platforms, the demo apps' URIs, refusals", async () => {
    const demo = json<Result<'appRedirectList'>>(await run('app', 'redirect', 'list', '--client-id', C.portal.clientId, '--json'));
    assert.deepEqual(
      demo.redirectUris.map((r) => [r.platform, r.uri]),
      [['web', 'http://localhost/auth/callback']],
    );
    const [added, spa, client] = await Promise.all([
      run('app', 'redirect', 'add', '--client-id', app.clientId, '--uri', 'https://northwind.test/signin-oidc', '--platform', 'web'),
      run('app', 'redirect', 'list', '--client-id', C.spa.clientId),
      run('app', 'redirect', 'list', '--client-id', C.client.clientId, '--json'),
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^Added web redirect URI https:\/\/northwind.test\/signin-oidc to /);
    assert.match(added.stdout, /web\s+https:\/\/northwind.test\/signin-oidc/);
    assert.match(spa.stdout, /spa\s+http:\/\/localhost/);
    assert.deepEqual(
      json<Result<'appRedirectList'>>(client).redirectUris.map((r) => [r.platform, r.uri]),
      [['public', 'http://localhost']],
    );
    const [badPlatform, badScheme, httpRemote] = await Promise.all([
      run('app', 'redirect', 'add', '--client-id', app.clientId, '--uri', 'https://x.test/cb', '--platform', 'desktop'),
      run('app', 'redirect', 'add', '--client-id', app.clientId, '--uri', 'javascript:alert(1)', '--platform', 'spa'),
      run('app', 'redirect', 'add', '--client-id', app.clientId, '--uri', 'http://northwind.test/cb', '--platform', 'web'),
    ]);
    refused(badPlatform, /Unknown platform 'desktop'. Known: web, spa, public/);
    refused(badScheme, /not allowed for a spa redirect URI/);
    refused(httpRemote, /http redirect URIs are allowed only for localhost/);
    const removed = await run('app', 'redirect', 'remove', '--client-id', app.clientId, '--uri', 'https://northwind.test/signin-oidc');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Removed redirect URI https:\/\/northwind.test\/signin-oidc .*\nNo redirect URIs\./);
    refused(
      await run('app', 'redirect', 'remove', '--client-id', app.clientId, '--uri', 'https://northwind.test/signin-oidc'),
      /was not found/,
    );
  });

  test('app grant refuses an unknown permission with the known ones; grants show in app list', async () => {
    const [unknown, granted] = await Promise.all([
      run('app', 'grant', '--client-id', app.clientId, '--permission', 'Meetings.Everything'),
      run('app', 'grant', '--client-id', app.clientId, '--permission', 'onlinemeetings.readwrite.all', '--json'),
    ]);
    refused(unknown, /Unknown application permission 'Meetings\.Everything'\. Known: .*OnlineMeetings\.ReadWrite\.All/);
    assert.deepEqual(json<Result<'appGrant'>>(granted).permissions, ['OnlineMeetings.ReadWrite.All']);
    assert.match(granted.stderr, /No application access policy lists/);
  });

  test('policy new, grant and revoke round-trip through policy list --json', async () => {
    const created = await run(
      'policy',
      'new',
      '--tenant',
      'northwind.test',
      '--name',
      'Northwind Bots',
      '--app-ids',
      app.clientId,
      '--description',
      'bots',
    );
    assert.equal(created.code, 0, created.stderr);
    const [toErin, global, duplicate, noUser] = await Promise.all([
      run('policy', 'grant', '--tenant', 'northwind.test', '--name', 'northwind bots', '--user', 'erin@northwind.test'),
      run('policy', 'grant', '--tenant', NORTHWIND.id, '--name', 'Northwind Bots', '--global'),
      run('policy', 'new', '--tenant', 'northwind.test', '--name', 'NORTHWIND BOTS', '--app-ids', app.clientId),
      run('policy', 'grant', '--tenant', 'northwind.test', '--name', 'Northwind Bots', '--user', 'nobody@northwind.test'),
    ]);
    assert.equal(toErin.code, 0, toErin.stderr);
    assert.match(toErin.stdout, /Granted application access policy 'Northwind Bots' to erin@northwind\.test/);
    assert.equal(global.code, 0, global.stderr);
    refused(duplicate, /already exists/);
    refused(noUser, /User 'nobody@northwind\.test' was not found/);

    const [policy, ...others] = json<cmd.PolicyView[]>(await run('policy', 'list', '--tenant', 'northwind.test', '--json'));
    assert.deepEqual(others, []);
    assert.match(policy!.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...policy, id: undefined },
      {
        id: undefined,
        name: 'Northwind Bots',
        description: 'bots',
        appIds: [app.clientId],
        global: true,
        users: [{ id: erinId, upn: 'erin@northwind.test' }],
      },
    );

    const [revokeErin, revokeGlobal] = await Promise.all([
      run('policy', 'revoke', '--tenant', 'northwind.test', '--user', erinId),
      run('policy', 'revoke', '--tenant', 'northwind.test', '--global'),
    ]);
    assert.equal(revokeErin.code, 0, revokeErin.stderr);
    assert.equal(revokeGlobal.code, 0, revokeGlobal.stderr);
    const [after] = json<cmd.PolicyView[]>(await run('policy', 'list', '--tenant', 'northwind.test', '--json'));
    assert.deepEqual([after?.global, after?.users], [false, []]);
  });

  test('token app prints only a JWT whose roles are the granted permissions', async () => {
    const [minted, unknown] = await Promise.all([
      run('token', 'app', '--client-id', app.clientId),
      run('token', 'app', '--client-id', '00000000-0000-0000-0000-000000000002'),
    ]);
    assert.equal(minted.code, 0, minted.stderr);
    assert.match(minted.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'stdout is the token alone, for TOKEN=$(…)');
    const claims = jwtPayload(minted.stdout.trim());
    assert.deepEqual(claims.roles, ['OnlineMeetings.ReadWrite.All']);
    assert.equal(claims.tid, NORTHWIND.id);
    assert.equal(claims.appid, app.clientId);
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.exp - claims.iat, 3599);
    refused(unknown, /was not found/);
  });

  test('token user: scopes default to the consented ones; requested scopes must be consented', async () => {
    const client = C.client.clientId;
    const [all, one, notConsented, otherTenant, unknownScope] = await Promise.all([
      run('token', 'user', '--upn', C.alice.upn, '--client-id', client),
      run(
        'token',
        'user',
        '--upn',
        'ALICE@contoso.test',
        '--client-id',
        client,
        '--scopes',
        'https://graph.microsoft.com/user.read',
        '--json',
      ),
      run('token', 'user', '--upn', C.alice.upn, '--client-id', client, '--scopes', 'VirtualAppointment.Read'),
      run('token', 'user', '--upn', DEMO.fabrikam.dave.upn, '--client-id', client),
      run('token', 'user', '--upn', C.alice.upn, '--client-id', client, '--scopes', 'Mail.Send'),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const claims = jwtPayload(all.stdout.trim());
    assert.deepEqual(
      [claims.scp, claims.upn, claims.oid, claims.tid, claims.idtyp],
      [
        // Issue #17: the demo Meeting Client is consented to the three artifact scopes too.
        'Calendars.ReadWrite MailboxSettings.Read OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All OnlineMeetingTranscript.Read.All OnlineMeetings.Read OnlineMeetings.ReadWrite User.Read',
        C.alice.upn,
        C.alice.id,
        C.tenantId,
        'user',
      ],
    );
    const oneJson = json<Result<'tokenUser'>>(one);
    assert.deepEqual(oneJson.scopes, ['User.Read']);
    assert.equal(jwtPayload(oneJson.accessToken).scp, 'User.Read');
    refused(notConsented, /Scope 'VirtualAppointment\.Read' is not consented/);
    refused(otherTenant, /is in tenant .* but application .* is registered in tenant/);
    refused(unknownScope, /Unknown delegated scope 'Mail\.Send'/);

    const consented = json<Result<'appConsent'>>(
      await run('app', 'consent', '--client-id', client, '--scopes', 'VirtualAppointment.Read', '--json'),
    );
    assert.ok(consented.consentedScopes.includes('VirtualAppointment.Read'));
    const [now, unconsented] = await Promise.all([
      run('token', 'user', '--upn', C.alice.upn, '--client-id', client, '--scopes', 'VirtualAppointment.Read'),
      run('app', 'unconsent', '--client-id', '358B1947-F5D9-4301-8AE7-BA77A3A74041', '--scopes', 'User.Read', '--json'),
    ]);
    assert.equal(jwtPayload(now.stdout.trim()).scp, 'VirtualAppointment.Read');
    assert.deepEqual(json<Result<'appUnconsent'>>(unconsented).consentedScopes, [
      'Calendars.ReadWrite',
      'MailboxSettings.Read',
      'OnlineMeetingArtifact.Read.All',
      'OnlineMeetingRecording.Read.All',
      'OnlineMeetingTranscript.Read.All',
      'OnlineMeetings.Read',
      'OnlineMeetings.ReadWrite',
      'VirtualAppointment.Read',
    ]);
  });

  test('the real service accepts tokens minted by the CLI', async () => {
    const [appToken, userToken] = await Promise.all([
      run('token', 'app', '--client-id', C.scheduler.clientId),
      run('token', 'user', '--upn', C.alice.upn, '--client-id', C.client.clientId, '--scopes', 'OnlineMeetings.ReadWrite'),
    ]);
    assert.equal(appToken.code, 0, appToken.stderr);
    assert.equal(userToken.code, 0, userToken.stderr);

    const { buildApp } = await importApp();
    // TLS off: inject needs no certificate, and generating the local CA would only slow the test down.
    const service = await buildApp(loadConfig({ PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent', TLS: 'off' }, process.cwd()));
    try {
      const create = (url: string, token: string) =>
        service.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
          payload: '{}',
        });
      const byApp = await create(`/v1.0/users/${C.alice.id}/onlineMeetings`, appToken.stdout);
      assert.equal(byApp.statusCode, 201, byApp.body);
      const byUser = await create('/v1.0/me/onlineMeetings', userToken.stdout);
      assert.equal(byUser.statusCode, 201, byUser.body);
    } finally {
      await service.close();
    }
  });
});

/** src/app.ts imports files other engineers may still be writing; give them a moment rather than fail at once. */
async function importApp(): Promise<typeof import('../../src/app.js')> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await import('../../src/app.js');
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 30_000));
    }
  }
}

describe('cli: migrate and seeding', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('migrate applies the migrations once; SEED_DEMO_DIRECTORY=false leaves the directory empty', async () => {
    const first = await cli(dir, ['migrate', '--json']);
    assert.deepEqual(json<Result<'migrate'>>(first), { applied: Object.keys(migrations) });
    const [again, empty] = await Promise.all([cli(dir, ['migrate']), cli(dir, ['tenant', 'list'], { SEED_DEMO_DIRECTORY: 'false' })]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /up to date/);
    assert.deepEqual([empty.code, empty.stdout, empty.stderr], [0, 'No tenants.\n', '']);
  });

  test('the CLI never seeds: tenant add on a fresh DATA_DIR creates that tenant alone (issue #11 item 5)', async () => {
    const fresh = tempDir();
    try {
      const added = await cli(fresh, ['tenant', 'add', '--name', 'Northwind', '--domain', NORTHWIND.domain, '--id', NORTHWIND.id]);
      assert.equal(added.code, 0, added.stderr);
      assert.doesNotMatch(added.stderr, /Seeded/);
      const list = json<Result<'tenantList'>>(await cli(fresh, ['tenant', 'list', '--json']));
      assert.deepEqual(
        list.map((t) => t.domains),
        [[NORTHWIND.domain]],
      );
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  test('a configuration error exits 2 with the problem', async () => {
    const bad = await cli(dir, ['tenant', 'list'], { TOKEN_LIFETIME_SECONDS: 'soon' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TOKEN_LIFETIME_SECONDS must be a whole number/);
  });
});

describe('cli: --password-stdin (issue #11 item 10)', () => {
  /** Runs the CLI with `stdin` piped to it, as `printf %s "$PW" | graph-meetings … --password-stdin` would. */
  const withStdin = (dir: string, args: string[], stdin: string) =>
    new Promise<Run>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent', DATABASE_URL: '' } },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
      child.stdin!.end(stdin);
    });
  const passwordHash = (dir: string, id: string) => {
    const db = new Database(path.join(dir, 'graph-meetings.sqlite'), { readonly: true });
    try {
      return (db.prepare('select password_hash from users where id = ?').get(id) as { password_hash: string }).password_hash;
    } finally {
      db.close();
    }
  };
  const userAdd = (upn: string) => ['user', 'add', '--tenant', 'contoso.test', '--upn', upn, '--name', 'Pat', '--password-stdin', '--json'];

  test('user add and user set-password read the password from standard input, never from argv', async () => {
    const dir = tempDir();
    try {
      await seedDemo(dir);
      const { verifyPassword } = await import('../../src/identity/secrets.js');
      const password = 'Stdin-Passw0rd!';
      const user = json<Result<'userAdd'>>(await withStdin(dir, userAdd('pat@contoso.test'), `${password}\n`));
      assert.equal(await verifyPassword(password, passwordHash(dir, user.id)), true);
      assert.equal(await verifyPassword(`${password}\n`, passwordHash(dir, user.id)), false, 'one trailing newline is not part of it');

      const changed = 'Changed-Passw0rd!';
      const set = await withStdin(dir, ['user', 'set-password', '--upn', 'pat@contoso.test', '--password-stdin'], `${changed}\r\n`);
      assert.equal(set.code, 0, set.stderr);
      assert.equal(set.stdout.includes(changed), false);
      assert.equal(await verifyPassword(changed, passwordHash(dir, user.id)), true);
      assert.equal(await verifyPassword(password, passwordHash(dir, user.id)), false);

      usage(
        await cli(dir, [
          'user',
          'add',
          '--tenant',
          'contoso.test',
          '--upn',
          'q@contoso.test',
          '--name',
          'Q',
          '--password',
          'x',
          '--password-stdin',
        ]),
        /give only one/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an empty or short password on standard input is refused and creates nobody', async () => {
    const dir = tempDir();
    try {
      await seedDemo(dir);
      for (const stdin of ['', '\n', 'short\n']) {
        refused(await withStdin(dir, userAdd('empty@contoso.test'), stdin), /at least 8 characters/);
      }
      const db = new Database(path.join(dir, 'graph-meetings.sqlite'), { readonly: true });
      try {
        assert.equal(db.prepare('select 1 from users where upn = ?').get('empty@contoso.test'), undefined);
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cli: usage', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('usage errors exit 2 with the message and the usage, before touching the database', async () => {
    const guid = C.client.clientId;
    const runs = await Promise.all([
      cli(dir, []),
      cli(dir, ['bogus']),
      cli(dir, ['app']),
      cli(dir, ['tenant', 'add', '--name', 'X']),
      cli(dir, ['tenant', 'list', '--nope']),
      cli(dir, ['tenant', 'list', 'extra']),
      cli(dir, ['policy', 'grant', '--tenant', 't', '--name', 'n']),
      cli(dir, ['policy', 'grant', '--tenant', 't', '--name', 'n', '--user', 'u', '--global']),
      cli(dir, ['app', 'consent', '--client-id', guid, '--scopes', ' , ']),
      cli(dir, ['user', 'add', '--tenant']),
    ]);
    const expected = [
      /error: no command given/,
      /error: unknown command 'bogus'/,
      /error: 'app' needs a subcommand[\s\S]*app secret add/,
      /error: missing required option --domain[\s\S]*Usage: graph-meetings tenant add --name <name> --domain <domain>/,
      /error: Unknown option '--nope'/,
      /error: Unexpected argument 'extra'/,
      /error: give one of --user or --global/,
      /error: --user or --global: give only one/,
      /error: --scopes needs at least one value/,
      /error: Option '--tenant <value>' argument missing/,
    ];
    runs.forEach((r, i) => usage(r, expected[i]!));
    assert.deepEqual(fs.readdirSync(dir), [], 'no database was created');
  });

  test('--help and help print usage on stdout and exit 0', async () => {
    const [top, group, command, flag, json] = await Promise.all([
      cli(dir, ['--help']),
      cli(dir, ['help', 'policy']),
      cli(dir, ['help', 'policy', 'new']),
      cli(dir, ['token', 'app', '-h']),
      cli(dir, ['--json', 'policy', 'grant', '--help']),
    ]);
    for (const r of [top, group, command, flag, json]) assert.deepEqual([r.code, r.stderr], [0, '']);
    assert.match(top.stdout, /Usage: graph-meetings <command>[\s\S]*tenant list[\s\S]*token user[\s\S]*--json/);
    assert.match(group.stdout, /policy grant\s+Grant a policy/);
    assert.doesNotMatch(group.stdout, /tenant list/);
    assert.match(command.stdout, /New-CsApplicationAccessPolicy[\s\S]*--app-ids <a,b>/);
    assert.match(flag.stdout, /Usage: graph-meetings token app --client-id <guid>/);
    assert.match(json.stdout, /Grant-CsApplicationAccessPolicy/);
  });
});
