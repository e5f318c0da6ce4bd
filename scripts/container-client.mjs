// The host-side client of scripts/container-test.sh: the official clients (@azure/identity and
// @microsoft/microsoft-graph-client), configured as the README says, against a graph-meetings container.
// The caller starts it with NODE_EXTRA_CA_CERTS pointing at the CA copied out of the container's volume.
//   node scripts/container-client.mjs create <origin> <subject>   prints the new meeting's id
//   node scripts/container-client.mjs read <origin> <id> <subject> [<token origin>]
//     fails unless the meeting has that subject; the token comes from <token origin> when given (another
//     instance on the same database: its tokens are accepted here too).
import { ClientSecretCredential } from '@azure/identity';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';

const [command, origin, ...rest] = process.argv.slice(2);
if (!['create', 'read'].includes(command ?? '') || !origin) {
  process.stderr.write('usage: container-client.mjs create <origin> <subject> | read <origin> <id> <subject> [<token origin>]\n');
  process.exit(2);
}

// The demo directory's app-only Meeting Scheduler and Alice (README, "Demo directory").
const TENANT = 'contoso.test';
const ALICE = 'ac02a79f-b09d-4d0a-a1f5-2ad5ab314a58';
const authorityHost = (command === 'read' && rest[2]) || origin;
const credential = new ClientSecretCredential(TENANT, '30a2fcea-f295-468c-abe2-b48159ee8486', 'scheduler-demo-secret', {
  authorityHost,
  disableInstanceDiscovery: true,
});
const graph = Client.initWithMiddleware({
  baseUrl: origin,
  customHosts: new Set([new URL(origin).hostname]),
  authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] }),
});

if (command === 'create') {
  const [subject] = rest;
  const meeting = await graph.api(`/users/${ALICE}/onlineMeetings`).post({
    subject,
    startDateTime: '2030-01-02T10:00:00Z',
    endDateTime: '2030-01-02T11:00:00Z',
  });
  if (meeting.subject !== subject || !meeting.id) throw new Error(`unexpected answer: ${JSON.stringify(meeting)}`);
  process.stdout.write(`${meeting.id}\n`);
} else {
  const [id, subject] = rest;
  const meeting = await graph.api(`/users/${ALICE}/onlineMeetings/${id}`).get();
  if (meeting.id !== id || meeting.subject !== subject) {
    throw new Error(`expected meeting ${id} with subject '${subject}', got ${meeting.id} with subject '${meeting.subject}'`);
  }
  process.stdout.write(`read meeting ${id} ('${subject}') from ${origin} with a token from ${authorityHost}\n`);
}
