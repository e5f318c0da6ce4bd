import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { DEMO } from '../../src/domain/directory/demo-directory.js';
import type { StoreKind } from '../../src/storage/database.js';
import { findUserByUpn } from '../../src/storage/repositories/directory-repository.js';
import { freshStore, type TestStore } from './stores.js';

export { DEMO };

export interface TestApp {
  app: FastifyInstance;
  dataDir: string;
  testStore: TestStore;
  /** Set when started with listen: true. */
  origin: string;
  caPath: string;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** An app-only token for the demo Meeting Scheduler (or another app). */
  appToken(clientId?: string, secret?: string, tenant?: string): Promise<string>;
  /**
   * A delegated token of the demo Meeting Client for a user, carrying exactly `scopes`, to test Graph's
   * scope checks. Minted with the service's own keys (as `token user --scopes` does): the token endpoint,
   * like Entra, would put every consented scope in it (issue #13; see test/identity/token-flows.test.ts).
   */
  userToken(upn?: string, scopes?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Builds the real app on a fresh store of `kind` with the demo directory, in a temp DATA_DIR. */
export async function startTestApp(
  kind: StoreKind,
  options: { listen?: boolean; env?: Record<string, string>; deps?: AppDeps } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-test-'));
  const testStore = await freshStore(kind, dataDir);
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...options.env }, process.cwd());
  const app = await buildApp(config, { store: testStore.store, ...options.deps });
  if (options.listen) await app.listen({ port: 0, host: '127.0.0.1' });
  const origin = options.listen ? app.graphMeetings.origin() : 'https://127.0.0.1';
  const inject = (opts: InjectOptions) => app.inject(opts);

  const token = async (tenant: string, form: Record<string, string>) => {
    const res = await inject({
      method: 'POST',
      url: `/${tenant}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
    return (res.json() as { access_token: string }).access_token;
  };

  return {
    app,
    dataDir,
    testStore,
    origin,
    caPath: path.join(dataDir, 'tls', 'ca.pem'),
    inject,
    appToken: (clientId = DEMO.contoso.scheduler.clientId, secret = DEMO.contoso.scheduler.secret, tenant = DEMO.contoso.tenantId) =>
      token(tenant, {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: 'https://graph.microsoft.com/.default',
      }),
    userToken: async (upn = DEMO.contoso.alice.upn, scopes = ['OnlineMeetings.ReadWrite']) => {
      const user = await findUserByUpn(testStore.store.db, upn);
      if (!user) throw new Error(`no user ${upn}`);
      return app.graphMeetings.tokens.mintUserToken({
        tenantId: user.tenant_id,
        userId: user.id,
        upn: user.upn,
        displayName: user.display_name,
        clientId: DEMO.contoso.client.clientId,
        appDisplayName: DEMO.contoso.client.displayName,
        scopes,
        clientAuth: '0',
        cae: false,
      });
    },
    close: async () => {
      await app.close();
      await testStore.cleanup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sends JSON with a bearer token. */
export function graph(
  t: TestApp,
  method: InjectOptions['method'],
  url: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return t.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}
