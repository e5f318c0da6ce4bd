import type { CommandContext } from './commands.js';
import { fields, list, table } from './format.js';

/**
 * Every CLI command: its words, options, help text and how its result reads as text. The vocabulary
 * follows the Teams PowerShell cmdlets and Entra's portal, so an admin recognises what each one mirrors.
 */

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  /** Placeholder in usage lines, e.g. `<id|domain>`. */
  value?: string;
  description: string;
  required?: boolean;
  /** Comma-separated values (`--scopes a,b`); when given, at least one is required. */
  list?: boolean;
}

/** Parsed option values, read through checked accessors. */
export interface Args {
  /** A required string option (presence is checked before the command runs). */
  get(name: string): string;
  opt(name: string): string | undefined;
  flag(name: string): boolean;
  /** A comma-separated list option: `--scopes a,b` → ['a', 'b']; undefined when absent. */
  list(name: string): string[] | undefined;
}

export interface CommandSpec {
  words: string[];
  summary: string;
  /** Longer help: what it mirrors and what to know. */
  details?: string;
  options: OptionSpec[];
  /** Groups of options of which exactly one must be given, e.g. --user | --global. */
  exactlyOne?: string[][];
  /** False for commands that manage the schema themselves (migrate): no migration or seeding beforehand. */
  bootstrap?: boolean;
  run(ctx: CommandContext, args: Args): Promise<unknown>;
  render(result: unknown): string;
}

// The commands pull in the database drivers and crypto; loading them only when a command runs keeps
// --help and usage errors instant.
const load = () => import('./commands.js');
const loadCredentials = () => import('./app-credential-commands.js');

/** Ties a command's result type to its renderer, then erases it for the table. */
function command<T>(
  spec: Omit<CommandSpec, 'run' | 'render'> & { run(ctx: CommandContext, args: Args): Promise<T>; render(result: T): string },
) {
  return spec as unknown as CommandSpec;
}

const tenant: OptionSpec = {
  name: 'tenant',
  type: 'string',
  value: '<id|domain>',
  description: 'Tenant id or one of its domains',
  required: true,
};
const clientId: OptionSpec = { name: 'client-id', type: 'string', value: '<guid>', description: 'Application (client) id', required: true };
const scopes = (required: boolean, description: string): OptionSpec => ({
  name: 'scopes',
  type: 'string',
  value: '<a,b>',
  description,
  required,
  list: true,
});
const policyTarget: OptionSpec[] = [
  { name: 'user', type: 'string', value: '<id|upn>', description: 'The user (-Identity)' },
  { name: 'global', type: 'boolean', description: 'Tenant-wide, for users without a policy of their own (-Global)' },
];

const redirectTable = (uris: { uri: string; platform: string }[]) =>
  table(
    ['platform', 'redirect uri'],
    uris.map((u) => [u.platform, u.uri]),
    'No redirect URIs.',
  );

const secretBlock = (r: { clientId: string; secret: { id: string; value: string } }) =>
  fields([
    ['client id', r.clientId],
    ['secret id', r.secret.id],
    ['client secret', r.secret.value],
  ]);

const grantee = (g: { global: true } | { global: false; upn: string }) => (g.global ? 'the whole tenant (Global)' : g.upn);

export const COMMANDS: CommandSpec[] = [
  command({
    words: ['tenant', 'list'],
    summary: 'List tenants and their domains',
    options: [],
    run: async (ctx) => (await load()).tenantList(ctx),
    render: (ts) =>
      table(
        ['id', 'name', 'domains'],
        ts.map((t) => [t.id, t.displayName, t.domains.join(', ')]),
        'No tenants.',
      ),
  }),
  command({
    words: ['tenant', 'add'],
    summary: 'Create a tenant with its default domain',
    options: [
      { name: 'name', type: 'string', value: '<name>', description: 'Display name', required: true },
      { name: 'domain', type: 'string', value: '<domain>', description: "Default domain; users' UPNs end in it", required: true },
      { name: 'id', type: 'string', value: '<guid>', description: 'Tenant id (default: a new GUID)' },
    ],
    run: async (ctx, a) => (await load()).tenantAdd(ctx, { name: a.get('name'), domain: a.get('domain'), id: a.opt('id') }),
    render: (t) => `Created tenant ${t.displayName} (${t.domain}), id ${t.id}.`,
  }),
  command({
    words: ['user', 'list'],
    summary: 'List the users of a tenant',
    options: [tenant],
    run: async (ctx, a) => (await load()).userList(ctx, { tenant: a.get('tenant') }),
    render: (us) =>
      table(
        ['id', 'upn', 'name'],
        us.map((u) => [u.id, u.upn, u.displayName]),
        'No users.',
      ),
  }),
  command({
    words: ['user', 'add'],
    summary: 'Create a user who can sign in with a password',
    options: [
      tenant,
      {
        name: 'upn',
        type: 'string',
        value: '<name@domain>',
        description: 'User principal name, in a domain of the tenant',
        required: true,
      },
      { name: 'name', type: 'string', value: '<display name>', description: 'Display name', required: true },
      { name: 'password', type: 'string', value: '<password>', description: 'Password, at least 8 characters' },
      {
        name: 'password-stdin',
        type: 'boolean',
        description: 'Read the password from standard input (kept out of the process list and shell history)',
      },
      { name: 'id', type: 'string', value: '<guid>', description: 'Object id (default: a new GUID)' },
      // Graph's default user properties (issue #14); unset ones are served as null.
      { name: 'given-name', type: 'string', value: '<name>', description: 'givenName' },
      { name: 'surname', type: 'string', value: '<name>', description: 'surname' },
      { name: 'job-title', type: 'string', value: '<title>', description: 'jobTitle' },
      { name: 'mail', type: 'string', value: '<address>', description: 'mail (default: the UPN)' },
      { name: 'mobile-phone', type: 'string', value: '<number>', description: 'mobilePhone' },
      { name: 'office-location', type: 'string', value: '<place>', description: 'officeLocation' },
      { name: 'preferred-language', type: 'string', value: '<tag>', description: 'preferredLanguage, e.g. en-US' },
      { name: 'business-phone', type: 'string', value: '<number>', description: 'businessPhones (Graph holds one)' },
    ],
    exactlyOne: [['password', 'password-stdin']],
    run: async (ctx, a) => {
      const phone = a.opt('business-phone');
      return (await load()).userAdd(ctx, {
        tenant: a.get('tenant'),
        upn: a.get('upn'),
        name: a.get('name'),
        // One line from stdin (`printf %s "$PW" | …` or a here-string); the final line break is not part of it.
        password: a.flag('password-stdin') ? ((await ctx.readStdin?.()) ?? '').replace(/\r?\n$/, '') : a.get('password'),
        id: a.opt('id'),
        givenName: a.opt('given-name'),
        surname: a.opt('surname'),
        jobTitle: a.opt('job-title'),
        mail: a.opt('mail'),
        mobilePhone: a.opt('mobile-phone'),
        officeLocation: a.opt('office-location'),
        preferredLanguage: a.opt('preferred-language'),
        businessPhones: phone === undefined ? undefined : [phone],
      });
    },
    render: (u) => `Created user ${u.upn} (${u.displayName}), id ${u.id}, in tenant ${u.tenantId}.`,
  }),
  command({
    words: ['user', 'revoke-sessions'],
    summary: "End a user's sign-in sessions (Revoke-MgUserSignInSession): refresh tokens and browser sessions",
    details: 'Refresh tokens issued before now answer AADSTS50173; access tokens already issued stay valid until they expire, as in Entra.',
    options: [{ name: 'upn', type: 'string', value: '<upn|id>', description: 'The user', required: true }],
    run: async (ctx, a) => (await load()).userRevokeSessions(ctx, { upn: a.get('upn') }),
    render: (r) => `Revoked the sign-in sessions of ${r.upn} (${r.refreshTokens} refresh token(s)).`,
  }),
  command({
    words: ['user', 'set-password'],
    summary: "Set a user's password; ends the user's sign-in sessions, as a password change does in Entra",
    options: [
      { name: 'upn', type: 'string', value: '<upn|id>', description: 'The user', required: true },
      { name: 'password', type: 'string', value: '<password>', description: 'New password, at least 8 characters' },
      {
        name: 'password-stdin',
        type: 'boolean',
        description: 'Read the password from standard input (kept out of the process list and shell history)',
      },
    ],
    exactlyOne: [['password', 'password-stdin']],
    run: async (ctx, a) =>
      (await load()).userSetPassword(ctx, {
        upn: a.get('upn'),
        password: a.flag('password-stdin') ? ((await ctx.readStdin?.()) ?? '').replace(/\r?\n$/, '') : a.get('password'),
      }),
    render: (r) => `Set the password of ${r.upn}; their sign-in sessions are revoked.`,
  }),
  command({
    words: ['app', 'list'],
    summary: 'List app registrations: permissions, consented scopes, secret hints',
    details: 'Secrets are listed by id and first characters only: their values are never stored.',
    options: [tenant],
    run: async (ctx, a) => (await load()).appList(ctx, { tenant: a.get('tenant') }),
    render: (apps) =>
      apps.length === 0
        ? 'No applications.'
        : apps
            .map((app) =>
              [
                app.displayName,
                fields(
                  [
                    ['client id', app.clientId],
                    ['object id', app.objectId],
                    ['public client', app.allowPublicClient ? 'yes' : 'no'],
                    ['application permissions', list(app.permissions)],
                    ['consented scopes', list(app.consentedScopes)],
                    ['secrets', list(app.secrets.map((s) => `${s.hint}… (id ${s.id})`))],
                    ['sign-in audience', app.signInAudience],
                    ['certificates', list(app.certificates)],
                    ['exposed scopes', list(app.exposedScopes)],
                    ['API consents', list(app.apiConsents)],
                  ],
                  '  ',
                ),
              ].join('\n'),
            )
            .join('\n\n'),
  }),
  command({
    words: ['app', 'add'],
    summary: 'Register an application and create its first client secret (shown once)',
    details: 'Like "App registrations > New registration" followed by "Certificates & secrets > New client secret".',
    options: [
      tenant,
      { name: 'name', type: 'string', value: '<name>', description: 'Display name', required: true },
      { name: 'client-id', type: 'string', value: '<guid>', description: 'Application (client) id (default: a new GUID)' },
      { name: 'public-client', type: 'boolean', description: 'Allow public client flows (delegated tokens without a secret)' },
    ],
    run: async (ctx, a) =>
      (await load()).appAdd(ctx, {
        tenant: a.get('tenant'),
        name: a.get('name'),
        clientId: a.opt('client-id'),
        publicClient: a.flag('public-client'),
      }),
    render: (r) => `Registered application ${r.displayName} in tenant ${r.tenantId}.\n${secretBlock(r)}`,
  }),
  command({
    words: ['app', 'secret', 'add'],
    summary: 'Add a client secret to an application (shown once)',
    options: [clientId],
    run: async (ctx, a) => (await load()).appSecretAdd(ctx, { clientId: a.get('client-id') }),
    render: (r) => secretBlock(r),
  }),
  command({
    words: ['app', 'secret', 'remove'],
    summary: 'Remove a client secret (by its id, see app list)',
    options: [clientId, { name: 'secret-id', type: 'string', value: '<id>', description: 'Secret id', required: true }],
    run: async (ctx, a) => (await load()).appSecretRemove(ctx, { clientId: a.get('client-id'), secretId: a.get('secret-id') }),
    render: (r) => `Removed secret ${r.removedSecretId} of ${r.clientId}.`,
  }),
  command({
    words: ['app', 'redirect', 'add'],
    summary: 'Register a redirect URI of an application on a platform (web, spa, public)',
    details:
      'Like "Authentication > Add a platform": web apps redeem codes with their secret, single-page apps from the browser ' +
      'with PKCE, public (mobile and desktop) apps without a secret. http://localhost and http://127.0.0.1 match any port.',
    options: [
      clientId,
      { name: 'uri', type: 'string', value: '<uri>', description: 'The redirect URI, e.g. http://localhost/auth/callback', required: true },
      { name: 'platform', type: 'string', value: '<web|spa|public>', description: 'The platform of the URI', required: true },
    ],
    run: async (ctx, a) =>
      (await load()).appRedirectAdd(ctx, { clientId: a.get('client-id'), uri: a.get('uri'), platform: a.get('platform') }),
    render: (r) => `Added ${r.platform} redirect URI ${r.added} to ${r.clientId}.\n${redirectTable(r.redirectUris)}`,
  }),
  command({
    words: ['app', 'redirect', 'list'],
    summary: "List an application's redirect URIs and their platforms",
    options: [clientId],
    run: async (ctx, a) => (await load()).appRedirectList(ctx, { clientId: a.get('client-id') }),
    render: (r) => redirectTable(r.redirectUris),
  }),
  command({
    words: ['app', 'redirect', 'remove'],
    summary: 'Remove a redirect URI of an application',
    options: [clientId, { name: 'uri', type: 'string', value: '<uri>', description: 'The redirect URI to remove', required: true }],
    run: async (ctx, a) => (await load()).appRedirectRemove(ctx, { clientId: a.get('client-id'), uri: a.get('uri') }),
    render: (r) => `Removed redirect URI ${r.removed} from ${r.clientId}.\n${redirectTable(r.redirectUris)}`,
  }),
  command({
    words: ['app', 'grant'],
    summary: 'Grant an application permission (app role) with admin consent',
    details:
      'Like "API permissions > Add a permission > Application permissions" plus "Grant admin consent". ' +
      'To act for users, the app also needs an application access policy (policy new, policy grant).',
    options: [
      clientId,
      { name: 'permission', type: 'string', value: '<name>', description: 'e.g. OnlineMeetings.ReadWrite.All', required: true },
    ],
    run: async (ctx, a) => (await load()).appGrant(ctx, { clientId: a.get('client-id'), permission: a.get('permission') }),
    render: (r) => `Granted ${r.granted} to ${r.clientId}. Application permissions: ${list(r.permissions)}.`,
  }),
  command({
    words: ['app', 'revoke'],
    summary: 'Revoke an application permission',
    options: [clientId, { name: 'permission', type: 'string', value: '<name>', description: 'The permission to remove', required: true }],
    run: async (ctx, a) => (await load()).appRevoke(ctx, { clientId: a.get('client-id'), permission: a.get('permission') }),
    render: (r) => `Revoked ${r.revoked} from ${r.clientId}. Application permissions: ${list(r.permissions)}.`,
  }),
  command({
    words: ['app', 'consent'],
    summary: 'Grant tenant-wide admin consent to delegated scopes',
    details: 'Like "API permissions > Delegated permissions" plus "Grant admin consent for <tenant>": every user of the tenant is covered.',
    options: [
      clientId,
      scopes(true, 'Delegated scopes, e.g. OnlineMeetings.ReadWrite,User.Read (of Graph, or of --api)'),
      {
        name: 'api',
        type: 'string',
        value: '<guid|api://guid>',
        description: "Consent to this app's exposed scopes instead of Graph's (see app expose)",
      },
    ],
    run: async (ctx, a) => {
      const api = a.opt('api');
      const input = { clientId: a.get('client-id'), scopes: a.list('scopes') ?? [] };
      if (api !== undefined) {
        const r = await (await loadCredentials()).appConsentApi(ctx, { ...input, api });
        return { ...r, consentedScopes: r.consentedScopes.map((s) => `${r.api}/${s}`) };
      }
      return (await load()).appConsent(ctx, input);
    },
    render: (r) => `Consented ${list(r.consented)} for ${r.clientId}. Consented scopes: ${list(r.consentedScopes)}.`,
  }),
  command({
    words: ['app', 'unconsent'],
    summary: 'Revoke admin consent to delegated scopes',
    options: [clientId, scopes(true, 'Delegated scopes to revoke')],
    run: async (ctx, a) => (await load()).appUnconsent(ctx, { clientId: a.get('client-id'), scopes: a.list('scopes') ?? [] }),
    render: (r) => `Revoked consent to ${list(r.revoked)} for ${r.clientId}. Consented scopes: ${list(r.consentedScopes)}.`,
  }),
  command({
    words: ['app', 'certificate', 'add'],
    summary: 'Register a public certificate (PEM) for certificate credentials; prints its thumbprint',
    details:
      'Like "Certificates & secrets > Certificates > Upload certificate". Only the public certificate is stored. ' +
      'The app then authenticates with a client assertion signed by the private key (RS256 or PS256, header x5t or x5t#S256).',
    options: [
      clientId,
      { name: 'cert-file', type: 'string', value: '<pem>', description: 'PEM file with the public certificate', required: true },
    ],
    run: async (ctx, a) => (await loadCredentials()).appCertificateAdd(ctx, { clientId: a.get('client-id'), certFile: a.get('cert-file') }),
    render: (r) => r.thumbprint,
  }),
  command({
    words: ['app', 'certificate', 'list'],
    summary: "List an application's certificates (thumbprints, subject, validity)",
    options: [clientId],
    run: async (ctx, a) => (await loadCredentials()).appCertificateList(ctx, { clientId: a.get('client-id') }),
    render: (cs) =>
      table(
        ['thumbprint', 'subject', 'not before', 'not after', 'key id'],
        cs.map((c) => [c.thumbprint, c.subject, c.notBefore, c.notAfter, c.keyId]),
        'No certificates.',
      ),
  }),
  command({
    words: ['app', 'certificate', 'remove'],
    summary: 'Remove a certificate (by SHA-1 or SHA-256 thumbprint, or key id)',
    options: [
      clientId,
      { name: 'thumbprint', type: 'string', value: '<hex|key id>', description: 'The certificate to remove', required: true },
    ],
    run: async (ctx, a) =>
      (await loadCredentials()).appCertificateRemove(ctx, { clientId: a.get('client-id'), thumbprint: a.get('thumbprint') }),
    render: (r) => `Removed certificate ${r.removed.thumbprint} of ${r.clientId}.`,
  }),
  command({
    words: ['app', 'expose'],
    summary: 'Expose a delegated scope of an application as an API (api://<client id>/<scope>)',
    details:
      'Like "Expose an API > Add a scope" with the default Application ID URI api://<client id>. Other apps get tokens ' +
      'for it once consented (app consent --api), and the API exchanges them for Graph tokens with on-behalf-of.',
    options: [clientId, { name: 'scope', type: 'string', value: '<name>', description: 'Scope name, e.g. access_as_user', required: true }],
    run: async (ctx, a) => (await loadCredentials()).appExpose(ctx, { clientId: a.get('client-id'), scope: a.get('scope') }),
    render: (r) => `${r.clientId} exposes ${list(r.scopes.map((s) => `${r.applicationIdUri}/${s}`))}.`,
  }),
  command({
    words: ['app', 'audience'],
    summary: 'Set supported account types: AzureADMyOrg (single tenant) or AzureADMultipleOrgs (also at /common, /organizations)',
    options: [
      clientId,
      { name: 'audience', type: 'string', value: '<AzureADMyOrg|AzureADMultipleOrgs>', description: 'Sign-in audience', required: true },
    ],
    run: async (ctx, a) => (await loadCredentials()).appAudience(ctx, { clientId: a.get('client-id'), audience: a.get('audience') }),
    render: (r) => `Sign-in audience of ${r.clientId}: ${r.signInAudience}.`,
  }),
  command({
    words: ['policy', 'list'],
    summary: 'List application access policies and who holds them (Get-CsApplicationAccessPolicy)',
    options: [tenant],
    run: async (ctx, a) => (await load()).policyList(ctx, { tenant: a.get('tenant') }),
    render: (ps) =>
      table(
        ['name', 'app ids', 'granted to', 'description'],
        ps.map((p) => [
          p.name,
          list(p.appIds),
          list([...(p.global ? ['Global'] : []), ...p.users.map((u) => u.upn || u.id)]),
          p.description,
        ]),
        'No application access policies.',
      ),
  }),
  command({
    words: ['policy', 'new'],
    summary: 'Create an application access policy (New-CsApplicationAccessPolicy -Identity <name> -AppIds …)',
    details: 'The policy lists the apps that may act for the users it is granted to (see policy grant).',
    options: [
      tenant,
      { name: 'name', type: 'string', value: '<name>', description: 'Policy name (-Identity)', required: true },
      { name: 'app-ids', type: 'string', value: '<a,b>', description: 'Application (client) ids (-AppIds)', required: true, list: true },
      { name: 'description', type: 'string', value: '<text>', description: 'Description (-Description)' },
    ],
    run: async (ctx, a) =>
      (await load()).policyNew(ctx, {
        tenant: a.get('tenant'),
        name: a.get('name'),
        appIds: a.list('app-ids') ?? [],
        description: a.opt('description'),
      }),
    render: (p) => `Created application access policy '${p.name}' for ${list(p.appIds, 'no apps')}.`,
  }),
  command({
    words: ['policy', 'grant'],
    summary: 'Grant a policy to a user or tenant-wide (Grant-CsApplicationAccessPolicy -PolicyName … -Identity … | -Global)',
    details: "A user holds one policy: a new grant replaces the previous one. A user's own grant takes precedence over the Global one.",
    options: [
      tenant,
      { name: 'name', type: 'string', value: '<name>', description: 'Policy name (-PolicyName)', required: true },
      ...policyTarget,
    ],
    exactlyOne: [['user', 'global']],
    run: async (ctx, a) =>
      (await load()).policyGrant(ctx, { tenant: a.get('tenant'), name: a.get('name'), user: a.opt('user'), global: a.flag('global') }),
    render: (r) => `Granted application access policy '${r.policy}' to ${grantee(r.grantedTo)}.`,
  }),
  command({
    words: ['policy', 'revoke'],
    summary: "Remove a user's or the tenant-wide policy (Grant-CsApplicationAccessPolicy -PolicyName $null)",
    options: [tenant, ...policyTarget],
    exactlyOne: [['user', 'global']],
    run: async (ctx, a) => (await load()).policyRevoke(ctx, { tenant: a.get('tenant'), user: a.opt('user'), global: a.flag('global') }),
    render: (r) => (r.policy ? `Removed application access policy '${r.policy}' from ${grantee(r.revokedFrom)}.` : 'Nothing to remove.'),
  }),
  command({
    words: ['token', 'app'],
    summary: "Mint an app-only access token with the app's granted permissions; prints only the token",
    details:
      'Equivalent to the client credentials flow with scope https://graph.microsoft.com/.default.\n' +
      'Example: TOKEN=$(npm run -s cli -- token app --client-id <guid>)',
    options: [clientId],
    run: async (ctx, a) => (await load()).tokenApp(ctx, { clientId: a.get('client-id') }),
    render: (r) => r.accessToken,
  }),
  command({
    words: ['token', 'user'],
    summary: 'Mint a delegated access token for a user through an app; prints only the token',
    details: 'Scopes default to every scope consented for the app; requested scopes must be consented (see app consent).',
    options: [
      { name: 'upn', type: 'string', value: '<upn|id>', description: 'The signed-in user', required: true },
      clientId,
      scopes(false, 'Delegated scopes (default: all consented)'),
    ],
    run: async (ctx, a) => (await load()).tokenUser(ctx, { upn: a.get('upn'), clientId: a.get('client-id'), scopes: a.list('scopes') }),
    render: (r) => r.accessToken,
  }),
  command({
    words: ['migrate'],
    summary: 'Apply pending database migrations and print their names',
    bootstrap: false,
    options: [],
    run: async (ctx) => (await load()).migrate(ctx),
    render: (r) => (r.applied.length ? `Applied: ${r.applied.join(', ')}` : 'The database is up to date.'),
  }),
];

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'json', type: 'boolean', description: 'Print JSON instead of text' },
  { name: 'help', type: 'boolean', description: 'Show help' },
];

const optionUsage = (o: OptionSpec) => `--${o.name}${o.value ? ` ${o.value}` : ''}`;

export function commandLine(spec: CommandSpec): string {
  const grouped = new Set((spec.exactlyOne ?? []).flat());
  const parts = spec.options.filter((o) => !grouped.has(o.name)).map((o) => (o.required ? optionUsage(o) : `[${optionUsage(o)}]`));
  for (const group of spec.exactlyOne ?? []) {
    parts.push(`(${group.map((n) => optionUsage(spec.options.find((o) => o.name === n)!)).join(' | ')})`);
  }
  return ['graph-meetings', ...spec.words, ...parts].join(' ');
}

/** The help of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${commandLine(spec)}`, '', spec.summary + '.'];
  if (spec.details) lines.push(spec.details);
  const opts = [...spec.options, GLOBAL_OPTIONS[0]!];
  const width = Math.max(...opts.map((o) => optionUsage(o).length));
  lines.push('', 'Options:', ...opts.map((o) => `  ${optionUsage(o).padEnd(width)}  ${o.description}`));
  return lines.join('\n');
}

/** The overview, or the commands of one group (`app`, `app secret`). */
export function overview(prefix: string[] = []): string {
  const specs = COMMANDS.filter((c) => prefix.every((w, i) => c.words[i] === w));
  const names = specs.map((c) => c.words.join(' '));
  const width = Math.max(...names.map((n) => n.length));
  return [
    `Usage: graph-meetings ${prefix.length ? `${prefix.join(' ')} ` : ''}<command> [options]`,
    '',
    'Administers the directory of graph-meetings (tenants, users, app registrations, application access policies)',
    'in the database the server uses: DATA_DIR or DATABASE_URL, read from the environment like the server does.',
    '',
    'Commands:',
    ...(prefix.length ? [] : [`  ${'start'.padEnd(width)}  Start the server (graph-meetings start --help)`]),
    ...specs.map((c, i) => `  ${names[i]!.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  --json  Print JSON instead of text',
    '  --help  Show help; also: graph-meetings help <command>',
  ].join('\n');
}
