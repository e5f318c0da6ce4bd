import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { findTenant, findUserById } from '../../storage/repositories/directory-repository.js';
import * as repo from '../../storage/repositories/sign-in-repository.js';
import type { ApplicationRow, Database, DeviceCodeRow } from '../../storage/tables.js';
import { EntraError, entra } from '../entra-errors.js';
import { hashSecret } from '../secrets.js';
import { newToken } from '../sign-in/browser-sessions.js';
import { signInErrors } from '../sign-in/sign-in-errors.js';
import { tenantAlias, type GrantContext, type TokenResponse, type TokenService } from '../token-service.js';

/** Both spellings clients send: MSAL's `device_code` and the URN of RFC 8628 and Microsoft's docs. */
export const DEVICE_CODE_GRANTS = ['device_code', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
/** Entra's device codes: 15 minutes, polled every 5 seconds. */
export const DEVICE_CODE_LIFETIME_SECONDS = 900;
export const DEVICE_CODE_INTERVAL_SECONDS = 5;
/** Unambiguous letters and digits (no 0/O, 1/I/L), 9 characters, as Entra's user codes look. */
const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export interface DeviceCodeAnswer {
  user_code: string;
  device_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
  message: string;
}

export const normalizeUserCode = (code: string) => code.replace(/[\s-]/g, '').toUpperCase();

/**
 * The device authorization flow (RFC 8628 as Entra serves it): `/devicecode` hands out a device code
 * and a user code; the user enters the user code on this service's device page and signs in; the
 * device polls the token endpoint until then.
 */
export class DeviceCodes {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tokens: TokenService,
    private readonly clock: () => number,
  ) {}

  async start(tenantSegment: string, params: Record<string, string | undefined>, verificationUri: string): Promise<DeviceCodeAnswer> {
    if (!params.client_id) throw entra.missingParameter('client_id');
    const alias = tenantAlias(tenantSegment);
    let app: ApplicationRow;
    if (alias) {
      // /organizations and /common: a multi-tenant app; the code is for its tenant, the only one where it has
      // a service principal here, so the user who enters it signs in there (the tenant comes from the user).
      app = await this.tokens.aliasApplication(alias, tenantSegment, params.client_id);
    } else {
      const tenant = await findTenant(this.db, tenantSegment);
      if (!tenant) throw entra.tenantNotFound(tenantSegment);
      app = await this.tokens.tenantApplication(tenant, params.client_id);
    }
    if (!app.allow_public_client) {
      // Entra's answer when "Allow public client flows" is off for a device-code request.
      throw new EntraError(
        400,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    await this.tokens.delegatedScopes(app, params.scope);
    const device_code = newToken() + newToken();
    const user_code = Array.from({ length: 9 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('');
    const now = this.clock();
    await repo.insertDeviceCode(this.db, {
      device_code_hash: hashSecret(device_code),
      user_code,
      tenant_id: app.tenant_id,
      client_id: app.client_id,
      scope: params.scope!,
      status: 'pending',
      user_id: null,
      interval_seconds: DEVICE_CODE_INTERVAL_SECONDS,
      last_poll_at: null,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + DEVICE_CODE_LIFETIME_SECONDS * 1000).toISOString(),
    });
    return {
      user_code,
      device_code,
      verification_uri: verificationUri,
      expires_in: DEVICE_CODE_LIFETIME_SECONDS,
      interval: DEVICE_CODE_INTERVAL_SECONDS,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${user_code} to authenticate.`,
    };
  }

  /** The pending, unexpired device code a user typed, or undefined. */
  async pendingByUserCode(userCode: string): Promise<DeviceCodeRow | undefined> {
    const code = normalizeUserCode(userCode);
    if (!/^[A-Z0-9]{1,20}$/.test(code)) return undefined;
    const row = await repo.findDeviceCodeByUserCode(this.db, code);
    if (!row || row.status !== 'pending' || Date.parse(row.expires_at) <= this.clock()) return undefined;
    return row;
  }

  async decide(row: DeviceCodeRow, decision: 'approved' | 'declined', userId: string | null): Promise<boolean> {
    return repo.decideDeviceCode(this.db, row.device_code_hash, decision, userId);
  }

  /** `grant_type=device_code`: the device's poll. */
  grant() {
    return async (ctx: GrantContext): Promise<TokenResponse> => {
      // At /common and /organizations (multi-tenant apps only) the tenant is the device code's.
      const app = ctx.tenant ? await this.tokens.tenantApplication(ctx.tenant, ctx.clientId) : await this.tokens.application(ctx.request);
      const deviceCode = ctx.params.device_code ?? ctx.params.code;
      if (!deviceCode) throw entra.missingParameter('device_code');
      const hash = hashSecret(deviceCode);
      const row = deviceCode.length <= 200 ? await repo.findDeviceCode(this.db, hash) : undefined;
      if (!row || (ctx.tenant && row.tenant_id !== ctx.tenant.id) || row.client_id !== app.client_id) throw signInErrors.badDeviceCode();
      const tenant = ctx.tenant ?? (await this.tokens.userTenant(ctx.request, app, row.tenant_id));
      if (!tenant) throw signInErrors.badDeviceCode();
      const now = this.clock();
      if (Date.parse(row.expires_at) <= now) throw signInErrors.deviceCodeExpired();
      const clientAuth = await this.tokens.authenticateClient(app, ctx, true);
      switch (row.status) {
        case 'declined':
          throw signInErrors.authorizationDeclined();
        case 'redeemed':
          throw signInErrors.badDeviceCode();
        case 'pending': {
          // RFC 8628 §3.5: a device that polls faster than the interval is told to slow down.
          const last = row.last_poll_at ? Date.parse(row.last_poll_at) : undefined;
          await repo.recordDevicePoll(this.db, hash, new Date(now).toISOString());
          if (last !== undefined && now - last < (row.interval_seconds * 1000) / 2) throw signInErrors.slowDown();
          throw signInErrors.authorizationPending();
        }
        case 'approved':
          break;
      }
      if (!(await repo.redeemDeviceCode(this.db, hash))) throw signInErrors.badDeviceCode();
      const user = row.user_id ? await findUserById(this.db, row.user_id) : undefined;
      if (!user || user.tenant_id !== tenant.id) throw signInErrors.badDeviceCode();
      const scopes = await this.tokens.delegatedScopes(app, row.scope);
      return this.tokens.userTokens(tenant, app, user, scopes, clientAuth, ctx.params.claims, ctx.issuer);
    };
  }
}
