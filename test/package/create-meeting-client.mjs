// A client in a project that installed graph-meetings from its tarball: it signs in as the demo Meeting
// Scheduler app and creates a meeting, over HTTPS, trusting only the CA that `graph-meetings start` printed.
import fs from 'node:fs';
import https from 'node:https';

const origin = process.argv[2];
const ca = fs.readFileSync(process.argv[3], 'utf8');

function request(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const token = await request(
  'POST',
  `${origin}/contoso.test/oauth2/v2.0/token`,
  { 'content-type': 'application/x-www-form-urlencoded' },
  new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: '30a2fcea-f295-468c-abe2-b48159ee8486',
    client_secret: 'scheduler-demo-secret',
    scope: 'https://graph.microsoft.com/.default',
  }).toString(),
);
if (token.status !== 200) throw new Error(`token: ${token.status} ${token.body}`);
const created = await request(
  'POST',
  `${origin}/v1.0/users/alice@contoso.test/onlineMeetings`,
  { authorization: `Bearer ${JSON.parse(token.body).access_token}`, 'content-type': 'application/json' },
  JSON.stringify({ subject: 'From the packed tarball' }),
);
if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body}`);
console.log(`created meeting ${JSON.parse(created.body).joinMeetingIdSettings.joinMeetingId}: ${JSON.parse(created.body).subject}`);
