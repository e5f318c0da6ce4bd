/**
 * The cache attack of issue #11 item 1, measured: a signed-in user creates large meetings (about 800 KB
 * each: 900 attendees with long identity fields, a long subject) and reads each with HEAD under every
 * cache key variant (10 languages × 2 Prefer × 2 version prefixes), which filled the entry-counted caches
 * with 1 MiB bodies until the heap ran out. Prints the service's resident memory along the way.
 * Run: npm run build && node --import tsx scripts/cache-attack-rss.ts
 *   ATTACK_MEETINGS=30 [CACHE_BUDGET_BYTES=…] [DATABASE_URL=postgres://…]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO, request, rssMiB, startProcess, userToken } from '../bench/lib.js';
import { SUPPORTED_LANGUAGES } from '../src/domain/meetings/join-information.js';
import { largeMeeting } from '../test/helpers/large-meeting.js';

const meetings = Number(process.env.ATTACK_MEETINGS ?? 30);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-cache-attack-'));
const env: Record<string, string> = { DATA_DIR: dataDir, WORKERS: '1', LOG_LEVEL: 'warn' };
for (const name of ['CACHE_BUDGET_BYTES', 'DATABASE_URL']) if (process.env[name]) env[name] = process.env[name]!;

// The 1 GiB heap of the report: the old code died of "heap out of memory" at 30 meetings.
const service = await startProcess(
  ['--max-old-space-size=1024', 'dist/server.js'],
  env,
  async (port) => (await request(port, 'GET', `/${DEMO.tenant}/v2.0/.well-known/openid-configuration`)).status === 200,
);
try {
  const pid = service.child.pid!;
  const token = await userToken(service.port);
  const auth = { authorization: `Bearer ${token}` };
  console.log(`# cache attack: ${meetings} meetings of ~800 KB, 40 HEADs each; budget ${env.CACHE_BUDGET_BYTES ?? 'default'}\n`);
  console.log('| step | RSS MiB |');
  console.log('|---|---:|');
  console.log(`| started | ${rssMiB(pid)} |`);
  const ids: string[] = [];
  for (let n = 0; n < meetings; n++) {
    const res = await request(
      service.port,
      'POST',
      '/v1.0/me/onlineMeetings',
      { ...auth, 'content-type': 'application/json' },
      JSON.stringify(largeMeeting(n)),
    );
    if (res.status !== 201) throw new Error(`create: ${res.status} ${res.body.slice(0, 300)}`);
    ids.push(JSON.parse(res.body).id);
  }
  const afterCreates = rssMiB(pid);
  console.log(`| ${meetings} meetings created | ${afterCreates} |`);
  let heads = 0;
  let peak = afterCreates;
  for (const [i, id] of ids.entries()) {
    for (const version of ['v1.0', 'beta']) {
      for (const language of SUPPORTED_LANGUAGES) {
        for (const prefer of [undefined, 'include-unknown-enum-members']) {
          const headers: Record<string, string> = { ...auth, 'accept-language': language };
          if (prefer) headers.prefer = prefer;
          const res = await request(service.port, 'HEAD', `/${version}/me/onlineMeetings/${id}`, headers);
          if (res.status !== 200) throw new Error(`HEAD: ${res.status}`);
          heads++;
        }
      }
    }
    const rss = rssMiB(pid);
    peak = Math.max(peak, rss);
    if ((i + 1) % 10 === 0 || i + 1 === ids.length) console.log(`| ${heads} HEADs over ${i + 1} meetings | ${rss} |`);
  }
  const alive = service.child.exitCode === null;
  console.log(`\n- ${alive ? 'PASS' : 'MISS'}: the service survived`);
  console.log(`- peak RSS ${peak} MiB; growth during the HEADs: ${peak - afterCreates} MiB`);
} finally {
  await service.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
