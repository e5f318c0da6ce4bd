/** The requests the benchmark and the profiler send (issue #20), and the data they need. */
import { EXAMPLE_1, request, type Scenario } from './lib.js';

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());

/** What Cal.com and the docs send to create a Teams meeting through an event (graph-events-spec.md §1.4). */
export const teamsEvent = (i: number, online = true) =>
  JSON.stringify({
    subject: `Prep for customer meeting ${i}`,
    body: { contentType: 'HTML', content: 'Does this time work for you?' },
    start: { dateTime: '2030-11-20T13:00:00', timeZone: 'Pacific Standard Time' },
    end: { dateTime: '2030-11-20T14:00:00', timeZone: 'Pacific Standard Time' },
    attendees: [{ emailAddress: { address: 'bob@contoso.test', name: 'Bob Baker' }, type: 'required' }],
    allowNewTimeProposals: true,
    isOnlineMeeting: online,
    ...(online ? { onlineMeetingProvider: 'teamsForBusiness' } : {}),
  });

export interface Endpoint {
  key: string;
  name: string;
  scenario: Scenario;
  /** The ceiling's route for it (a Fastify pattern) and, for routes shared by two endpoints, what tells them apart. */
  route: { url: string; queryIncludes?: string };
  /** A read, for the PostgreSQL read target and the scale run. */
  lookup?: boolean;
  target: number;
  pgTarget?: number;
}

export interface Seeded {
  meetings: { id: string; joinWebUrl: string; joinMeetingId: string }[];
  events: string[];
}

/** The benchmarked endpoints, over the meetings and events `seed` made (BENCH_ONLY=key,key picks some). */
export function endpoints(seeded: Seeded): Endpoint[] {
  const pick = (i: number) => seeded.meetings[i % seeded.meetings.length]!;
  const filter = (f: string) => `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(f)}`;
  const all: Endpoint[] = [
    {
      key: 'create',
      name: 'create (the seed example 1)',
      scenario: { method: 'POST', path: () => '/v1.0/me/onlineMeetings', body: () => EXAMPLE_1 },
      route: { url: '/v1.0/me/onlineMeetings' },
      target: 0.4,
      pgTarget: 0.25,
    },
    {
      key: 'createOrGet',
      name: 'createOrGet (existing key)',
      scenario: {
        method: 'POST',
        path: () => '/v1.0/me/onlineMeetings/createOrGet',
        body: (i) => JSON.stringify({ externalId: `bench-${i % seeded.meetings.length}`, subject: 'bench' }),
      },
      route: { url: '/v1.0/me/onlineMeetings/createOrGet' },
      target: 0.6,
    },
    {
      key: 'get',
      name: 'GET by id',
      scenario: { method: 'GET', path: (i) => `/v1.0/me/onlineMeetings/${pick(i).id}` },
      route: { url: '/v1.0/me/onlineMeetings/:id' },
      lookup: true,
      target: 0.8,
      pgTarget: 0.6,
    },
    {
      key: 'lookup-url',
      name: 'lookup by joinWebUrl',
      scenario: { method: 'GET', path: (i) => filter(`JoinWebUrl eq '${pick(i).joinWebUrl}'`) },
      route: { url: '/v1.0/me/onlineMeetings', queryIncludes: 'JoinWebUrl' },
      lookup: true,
      target: 0.8,
      pgTarget: 0.6,
    },
    {
      key: 'lookup-id',
      name: 'lookup by joinMeetingId',
      scenario: { method: 'GET', path: (i) => filter(`joinMeetingIdSettings/joinMeetingId eq '${pick(i).joinMeetingId}'`) },
      route: { url: '/v1.0/me/onlineMeetings', queryIncludes: 'joinMeetingId' },
      lookup: true,
      target: 0.8,
      pgTarget: 0.6,
    },
    {
      key: 'me',
      name: 'GET /me',
      scenario: { method: 'GET', path: () => '/v1.0/me' },
      route: { url: '/v1.0/me' },
      target: 0.8,
      pgTarget: 0.6,
    },
    {
      key: 'event-create',
      name: 'event create (isOnlineMeeting)',
      scenario: { method: 'POST', path: () => '/v1.0/me/events', body: (i) => teamsEvent(i) },
      route: { url: '/v1.0/me/events' },
      target: 0.3,
    },
    {
      key: 'event-get',
      name: 'GET event by id',
      scenario: { method: 'GET', path: (i) => `/v1.0/me/events/${seeded.events[i % seeded.events.length]!}` },
      route: { url: '/v1.0/me/events/:id' },
      lookup: true,
      target: 0,
    },
  ];
  return only ? all.filter((e) => only.includes(e.key)) : all;
}

/** 1,000 meetings with createOrGet keys bench-0…999, 200 Teams events and one plain event (the scale run's template). */
export async function seed(port: number, auth: Record<string, string>): Promise<Seeded & { plainEvent: string }> {
  const meetings: Seeded['meetings'] = [];
  for (let i = 0; i < 1000; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        request(
          port,
          'POST',
          '/v1.0/me/onlineMeetings/createOrGet',
          auth,
          JSON.stringify({ externalId: `bench-${i + j}`, subject: 'bench' }),
        ),
      ),
    );
    for (const r of batch) {
      const m = JSON.parse(r.body);
      meetings.push({ id: m.id, joinWebUrl: m.joinWebUrl, joinMeetingId: m.joinMeetingIdSettings.joinMeetingId });
    }
  }
  const events: string[] = [];
  for (let i = 0; i < 200; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, (_, j) => request(port, 'POST', '/v1.0/me/events', auth, teamsEvent(i + j))),
    );
    for (const r of batch) {
      if (r.status !== 201) throw new Error(`seeding events: ${r.status} ${r.body}`);
      events.push(JSON.parse(r.body).id);
    }
  }
  const plain = await request(port, 'POST', '/v1.0/me/events', auth, teamsEvent(-1, false));
  return { meetings, events, plainEvent: JSON.parse(plain.body).id };
}
