import type { Migration } from 'kysely';
import * as initialSchema from './001-initial-schema.js';
import * as meetingTombstones from './002-meeting-tombstones.js';
import * as interactiveSignIn from './004-interactive-sign-in.js';
import * as calendarEvents from './008-calendar-events.js';

/** Every migration, in order. Names sort lexically, which is the order Kysely applies them in. */
export const migrations: Record<string, Migration> = {
  '001-initial-schema': initialSchema,
  '002-meeting-tombstones': meetingTombstones,
  '004-interactive-sign-in': interactiveSignIn,
  '008-calendar-events': calendarEvents,
};
