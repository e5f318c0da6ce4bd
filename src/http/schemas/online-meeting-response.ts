import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { IDENTITY_KINDS } from '../../domain/meetings/meeting.js';

/**
 * The wire shape of responses, compiled by Fastify into a serializer (fast-json-stringify): faster than
 * JSON.stringify for a known shape, and nothing outside this schema can reach a client. It mirrors
 * GraphOnlineMeeting (online-meeting-view.ts); a property missing here would be dropped from responses,
 * which the HTTP and SDK suites would catch.
 */
const n = <T extends TSchema>(schema: T) => Type.Unsafe<T['static'] | null>({ ...schema, type: [schema.type as string, 'null'] });
/** Nothing is required: a serializer must write what there is, never throw for what is absent. */
const obj = <T extends TProperties>(props: T) => Type.Partial(Type.Object(props));
const str = n(Type.String());
const bool = n(Type.Boolean());

const identity = n(obj({ id: str, displayName: str, tenantId: str, identityProvider: str }));
const participant = obj({
  upn: str,
  role: str,
  identity: obj(Object.fromEntries(IDENTITY_KINDS.map((k) => [k, identity]))),
});

const meetingProperties = {
  id: Type.String(),
  creationDateTime: str,
  startDateTime: str,
  endDateTime: str,
  expiryDateTime: str,
  joinUrl: str,
  joinWebUrl: str,
  meetingOptionsWebUrl: str,
  subject: str,
  isBroadcast: bool,
  externalId: str,
  meetingType: str,
  meetingTemplateId: str,
  videoTeleconferenceId: str,
  isEndToEndEncryptionEnabled: bool,
  isEntryExitAnnounced: bool,
  allowedPresenters: str,
  allowedLobbyAdmitters: str,
  allowAttendeeToEnableCamera: bool,
  allowAttendeeToEnableMic: bool,
  allowBreakoutRooms: bool,
  allowCopyingAndSharingMeetingContent: bool,
  allowLiveShare: str,
  allowMeetingChat: str,
  allowParticipantsToChangeName: bool,
  allowPowerPointSharing: bool,
  allowRecording: bool,
  allowTeamworkReactions: bool,
  allowTranscription: bool,
  allowWhiteboard: bool,
  recordAutomatically: bool,
  shareMeetingChatHistoryDefault: str,
  anonymizeIdentityForRoles: n(Type.Array(Type.String())),
  meetingSpokenLanguageTag: str,
  sensitivityLabelAssignment: n(obj({ sensitivityLabelId: str })),
  chatRestrictions: n(obj({ allowTextOnly: bool })),
  watermarkProtection: n(obj({ isEnabledForContentSharing: bool, isEnabledForVideo: bool })),
  broadcastSettings: Type.Null(),
  participants: obj({ organizer: participant, attendees: Type.Array(participant) }),
  lobbyBypassSettings: obj({ scope: str, isDialInBypassEnabled: bool }),
  joinMeetingIdSettings: obj({ isPasscodeRequired: bool, joinMeetingId: str, passcode: str }),
  audioConferencing: obj({
    conferenceId: str,
    tollNumber: str,
    tollFreeNumber: str,
    tollNumbers: Type.Array(Type.String()),
    tollFreeNumbers: Type.Array(Type.String()),
    dialinUrl: str,
  }),
  chatInfo: obj({ threadId: str, messageId: str, replyChainMessageId: str }),
  joinInformation: obj({ content: Type.String(), contentType: Type.String() }),
};

/** One meeting ($select may leave any property out, so none is required). */
export const onlineMeetingResponse = obj({ '@odata.context': Type.String(), ...meetingProperties });

export const onlineMeetingCollectionResponse = obj({
  '@odata.context': Type.String(),
  value: Type.Array(obj(meetingProperties)),
});

export const edmStringResponse = obj({ '@odata.context': Type.String(), value: Type.String() });
