import type { Migration } from 'kysely';
import * as initialSchema from './001-initial-schema.js';
import * as meetingTombstones from './002-meeting-tombstones.js';
import * as interactiveSignIn from './004-interactive-sign-in.js';
import * as appCredentials from './005-app-credentials.js';
import * as userProfile from './006-user-profile.js';
import * as calendarEvents from './008-calendar-events.js';
import * as refreshTokens from './009-refresh-tokens.js';
import * as meetingArtifacts from './010-meeting-artifacts.js';
import * as changeNotifications from './011-change-notifications.js';

/** Every migration, in order. Names sort lexically, which is the order Kysely applies them in. */
export const migrations: Record<string, Migration> = {
  '001-initial-schema': initialSchema,
  '002-meeting-tombstones': meetingTombstones,
  '004-interactive-sign-in': interactiveSignIn,
  '005-app-credentials': appCredentials,
  '006-user-profile': userProfile,
  '008-calendar-events': calendarEvents,
  '009-refresh-tokens': refreshTokens,
  '010-meeting-artifacts': meetingArtifacts,
  '011-change-notifications': changeNotifications,
};
