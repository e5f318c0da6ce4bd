import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { ENUMS, IDENTITY_KINDS } from '../../domain/meetings/meeting.js';

/**
 * Wire schemas of the writable onlineMeeting properties (fact sheet §1 and §2). Only types and enum
 * members are checked here; rules that need context (times, templates, the directory) live in the
 * meeting service. Properties not declared here pass through and are ignored, as Graph ignores unknown
 * and read-only input. Every property is nullable, as OData allows.
 */
const nullable = <T extends TSchema>(schema: T) => Type.Unsafe<T['static'] | null>({ ...schema, type: [schema.type as string, 'null'] });
const nullableEnum = (values: readonly string[]) => Type.Unsafe<string | null>({ type: ['string', 'null'], enum: [...values, null] });
/** Every property of a Graph body is optional. */
const obj = <T extends TProperties>(props: T) => Type.Partial(Type.Object(props));
const bool = nullable(Type.Boolean());
const str = (maxLength = 2048) => nullable(Type.String({ maxLength }));

const identity = nullable(
  obj({
    id: str(256),
    displayName: str(256),
    tenantId: str(64),
    identityProvider: str(64),
  }),
);

const identitySet = nullable(obj(Object.fromEntries(IDENTITY_KINDS.map((k) => [k, identity]))));

const participantInfo = obj({
  identity: identitySet,
  upn: str(320),
  role: nullableEnum(ENUMS.onlineMeetingRole),
});

/** The meeting options (tenant policy defaults them; a template may lock them). */
export const meetingOptionProperties = {
  allowAttendeeToEnableCamera: bool,
  allowAttendeeToEnableMic: bool,
  allowBreakoutRooms: bool,
  allowCopyingAndSharingMeetingContent: bool,
  allowedLobbyAdmitters: nullableEnum(ENUMS.allowedLobbyAdmitterRoles),
  allowedPresenters: nullableEnum(ENUMS.onlineMeetingPresenters),
  allowLiveShare: nullableEnum(ENUMS.meetingLiveShareOptions),
  allowMeetingChat: nullableEnum(ENUMS.meetingChatMode),
  allowParticipantsToChangeName: bool,
  allowPowerPointSharing: bool,
  allowRecording: bool,
  allowTeamworkReactions: bool,
  allowTranscription: bool,
  allowWhiteboard: bool,
  chatRestrictions: nullable(obj({ allowTextOnly: bool })),
  isEndToEndEncryptionEnabled: bool,
  isEntryExitAnnounced: bool,
  lobbyBypassSettings: nullable(obj({ scope: nullableEnum(ENUMS.lobbyBypassScope), isDialInBypassEnabled: bool })),
  recordAutomatically: bool,
  shareMeetingChatHistoryDefault: nullableEnum(ENUMS.meetingChatHistoryDefaultMode),
  watermarkProtection: nullable(obj({ isEnabledForContentSharing: bool, isEnabledForVideo: bool })),
};

export const createMeetingBody = obj({
  subject: str(4096),
  startDateTime: str(64),
  endDateTime: str(64),
  externalId: str(512),
  isBroadcast: bool,
  meetingTemplateId: str(64),
  joinMeetingIdSettings: nullable(obj({ isPasscodeRequired: bool, passcode: str(64) })),
  participants: nullable(
    obj({
      organizer: Type.Unknown(),
      // Room for a 1,000-member chat and a little more, so the service can answer the documented limit itself.
      attendees: nullable(Type.Array(participantInfo, { maxItems: 5000 })),
    }),
  ),
  anonymizeIdentityForRoles: nullable(Type.Array(Type.String({ enum: [...ENUMS.onlineMeetingRole] }), { maxItems: 10 })),
  meetingSpokenLanguageTag: str(35),
  sensitivityLabelAssignment: nullable(obj({ sensitivityLabelId: str(64) })),
  ...meetingOptionProperties,
});

/** createOrGet takes only its documented parameters (§3.2); anything else in the body is ignored. */
export const createOrGetBody = obj({
  externalId: str(512),
  subject: str(4096),
  startDateTime: str(64),
  endDateTime: str(64),
  participants: nullable(
    obj({
      organizer: Type.Unknown(),
      attendees: nullable(Type.Array(participantInfo, { maxItems: 5000 })),
    }),
  ),
});
