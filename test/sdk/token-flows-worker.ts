/**
 * A child process running the official libraries for the token flows of issue #13: certificate
 * credentials (@azure/identity ClientCertificateCredential, msal-node with a certificate), on-behalf-of
 * (OnBehalfOfCredential, msal-node acquireTokenOnBehalfOf), /common and /organizations. Like
 * test/sdk/worker.ts it trusts the server only through NODE_EXTRA_CA_CERTS, set at process start.
 * Each op is the code the README shows for that flow.
 */
import { ClientCertificateCredential, OnBehalfOfCredential, UsernamePasswordCredential } from '@azure/identity';
import { ConfidentialClientApplication, CryptoProvider, PublicClientApplication } from '@azure/msal-node';

interface Request {
  id: number;
  op: string;
  args: Record<string, unknown>;
}

const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';

type Args = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The device flow under way (msalDeviceCodeAt), awaited by msalDeviceCodeResult. */
let deviceFlow: Promise<unknown> | undefined;

const handlers: Record<string, (a: Args) => Promise<unknown>> = {
  /** README "Certificate credentials": @azure/identity. `pem` holds the private key and the certificate. */
  async identityCertificate({ origin, tenantId, clientId, pem }: Args) {
    const credential = new ClientCertificateCredential(
      tenantId,
      clientId,
      { certificate: pem },
      { authorityHost: origin, disableInstanceDiscovery: true },
    );
    const token = await credential.getToken(GRAPH_DEFAULT);
    return token.token;
  },

  /** README "Certificate credentials": msal-node, SHA-256 thumbprint (PS256, x5t#S256) or SHA-1 (RS256, x5t). */
  async msalCertificate({ origin, tenantId, clientId, privateKey, thumbprintSha256, thumbprint, times }: Args) {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId,
        authority: `${origin}/${tenantId}`,
        knownAuthorities: [new URL(origin).host],
        clientCertificate: thumbprintSha256 ? { thumbprintSha256, privateKey } : { thumbprint, privateKey },
      },
    });
    const tokens: string[] = [];
    // skipCache: each call goes to the token endpoint, reusing the one assertion msal-node signed.
    for (let i = 0; i < (times ?? 1); i++) {
      const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT], skipCache: true });
      tokens.push(result!.accessToken);
    }
    return tokens;
  },

  /** README "On-behalf-of": @azure/identity in the middle-tier API. */
  async identityObo({ origin, tenantId, clientId, clientSecret, userAssertionToken, scopes }: Args) {
    // disableInstanceDiscovery is missing from OnBehalfOfCredential's option typings, but it is passed on to
    // MSAL like every option; without it MSAL asks login.microsoftonline.com about the emulator's host.
    const options = { tenantId, clientId, clientSecret, userAssertionToken, authorityHost: origin, disableInstanceDiscovery: true };
    const credential = new OnBehalfOfCredential(options);
    const token = await credential.getToken(scopes ?? [GRAPH_DEFAULT]);
    return token.token;
  },

  /** README "On-behalf-of": msal-node in the middle-tier API (secret or certificate). */
  async msalObo({ origin, tenantId, clientId, clientSecret, privateKey, thumbprintSha256, oboAssertion, scopes }: Args) {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId,
        authority: `${origin}/${tenantId}`,
        knownAuthorities: [new URL(origin).host],
        ...(clientSecret ? { clientSecret } : { clientCertificate: { thumbprintSha256, privateKey } }),
      },
    });
    const result = await cca.acquireTokenOnBehalfOf({ oboAssertion, scopes: scopes ?? [GRAPH_DEFAULT] });
    return result!.accessToken;
  },

  /** README "/common and /organizations": a user signs in without naming a tenant (ROPC through @azure/identity's msal-node). */
  async identityUserAt({ origin, authority, clientId, username, password, scopes }: Args) {
    const credential = new UsernamePasswordCredential(authority, clientId, username, password, {
      authorityHost: origin,
      disableInstanceDiscovery: true,
    });
    return (await credential.getToken(scopes)).token;
  },

  /** README "/common and /organizations": msal-node refreshes at /common (or /organizations). */
  async msalRefreshAt({ origin, authority, clientId, clientSecret, refreshToken, scopes }: Args) {
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, authority: `${origin}/${authority}`, knownAuthorities: [new URL(origin).host] },
    });
    const result = await cca.acquireTokenByRefreshToken({ refreshToken, scopes });
    return { accessToken: result!.accessToken, tenantId: result!.tenantId, scopes: result!.scopes };
  },

  /** README "/common and /organizations": msal-node's code flow, step 1, the URL the app sends the browser to. */
  async msalCodeUrlAt({ origin, authority, clientId, clientSecret, redirectUri, scopes }: Args) {
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, authority: `${origin}/${authority}`, knownAuthorities: [new URL(origin).host] },
    });
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const url = await cca.getAuthCodeUrl({
      scopes,
      redirectUri,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state: 'from-msal',
    });
    return { url, verifier };
  },

  /** README "/common and /organizations": msal-node's code flow, step 2, the code brought back to the redirect URI. */
  async msalCodeRedeemAt({ origin, authority, clientId, clientSecret, redirectUri, scopes, code, verifier }: Args) {
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, authority: `${origin}/${authority}`, knownAuthorities: [new URL(origin).host] },
    });
    const result = await cca.acquireTokenByCode({ code, redirectUri, scopes, codeVerifier: verifier });
    return {
      accessToken: result!.accessToken,
      tenantId: result!.tenantId,
      username: result!.account?.username,
      homeAccountId: result!.account?.homeAccountId,
    };
  },

  /**
   * README "/common and /organizations": msal-node's device flow. Resolves with the user code once
   * Entra handed it out; msalDeviceCodeResult then waits for the token (the flow polls meanwhile).
   */
  async msalDeviceCodeAt({ origin, authority, clientId, scopes }: Args) {
    const pca = new PublicClientApplication({
      auth: { clientId, authority: `${origin}/${authority}`, knownAuthorities: [new URL(origin).host] },
    });
    return new Promise((resolve, reject) => {
      deviceFlow = pca
        .acquireTokenByDeviceCode({ scopes, deviceCodeCallback: (r) => resolve({ userCode: r.userCode, message: r.message }) })
        .then((result) => ({ accessToken: result!.accessToken, tenantId: result!.tenantId, username: result!.account?.username }));
      deviceFlow.catch(reject);
    });
  },

  async msalDeviceCodeResult() {
    return deviceFlow;
  },

  async fetchJson({ url, token }: Args) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  },

  async shutdown() {
    setImmediate(() => process.exit(0));
    return null;
  },
};

function summarize(err: unknown) {
  const e = err as { name?: string; message?: string; errorCode?: string; statusCode?: number };
  return {
    kind: 'AuthenticationError',
    name: String(e?.name ?? 'Error'),
    message: String(e?.message ?? err),
    statusCode: typeof e?.statusCode === 'number' ? e.statusCode : null,
    code: e?.errorCode ?? null,
    requestId: null,
  };
}

if (!process.send) {
  console.error('test/sdk/token-flows-worker.ts must be started with child_process.fork (it talks over IPC).');
  process.exit(2);
}
process.on('message', (raw: unknown) => {
  const { id, op, args } = raw as Request;
  const handler = handlers[op];
  if (!handler) {
    process.send?.({ id, ok: false, error: summarize(new Error(`unknown op ${op}`)) });
    return;
  }
  handler(args ?? {}).then(
    (result) => process.send?.({ id, ok: true, result: result ?? null }),
    (err: unknown) => process.send?.({ id, ok: false, error: summarize(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
