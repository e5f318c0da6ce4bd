import { html, layout } from './layout.js';

/**
 * The pages behind the links graph-meetings puts in meetings (joinWebUrl, dialinUrl,
 * meetingOptionsWebUrl), plus a landing page. In Graph these lead to Teams; here they say what the
 * link is and show what the emulator knows. Each returns a complete document.
 */

/** `123456789012` -> `123 456 789 012`, as Teams prints meeting and conference ids. */
const groupInThrees = (digits: string) => digits.replace(/(.{3})(?=.)/gsu, '$1 ');

/** Graph's `2030-01-01T10:00:00.0000000Z` -> `2030-01-01 10:00 UTC`; anything else is shown as stored. */
export function formatUtc(graphTime: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?Z$/.exec(graphTime);
  return m ? `${m[1]} ${m[2]} UTC` : graphTime;
}

export interface LandingPageInput {
  /** A seeded demo tenant's domain, when there is one, to link its discovery document. */
  demoTenantDomain: string | undefined;
}

export function landingPage(input: LandingPageInput): string {
  const discovery = (tenant: string) => `/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`;
  const demo = input.demoTenantDomain
    ? html`<li>
        OIDC discovery of the demo tenant:
        <a href="${discovery(input.demoTenantDomain)}"><code>${discovery(input.demoTenantDomain)}</code></a>
      </li>`
    : html``;
  return layout(
    'Home',
    html`<h1>graph-meetings</h1>
      <p>
        A self-hostable Microsoft Graph <code>onlineMeetings</code> API with an emulated Microsoft Entra ID, on this one origin. Point a
        Graph SDK or client at it instead of <code>graph.microsoft.com</code> and <code>login.microsoftonline.com</code>.
      </p>
      <ul>
        <li>Graph API: <code>/v1.0</code> (and <code>/beta</code>), e.g. <code>POST /v1.0/me/onlineMeetings</code></li>
        <li>Entra ID: <code>/{tenant}/v2.0/.well-known/openid-configuration</code>, <code>/{tenant}/oauth2/v2.0/token</code></li>
        ${demo}
      </ul>`,
  );
}

export interface JoinPageInput {
  subject: string | null;
  organizerName: string;
  startDateTime: string;
  endDateTime: string;
  joinMeetingId: string;
  isPasscodeRequired: boolean;
  tenantId: string;
  conferenceId: string;
}

/** What a Teams join link opens. The passcode is deliberately absent: the link alone must not grant entry. */
export function joinMeetingPage(m: JoinPageInput): string {
  const dialin = `/dialin/${encodeURIComponent(m.tenantId)}?id=${encodeURIComponent(m.conferenceId)}`;
  return layout(
    'Join meeting',
    html`<h1>Join meeting</h1>
      <h2>${m.subject ?? '(no subject)'}</h2>
      <dl>
        <dt>Organizer</dt>
        <dd>${m.organizerName}</dd>
        <dt>Starts</dt>
        <dd>${formatUtc(m.startDateTime)}</dd>
        <dt>Ends</dt>
        <dd>${formatUtc(m.endDateTime)}</dd>
        <dt>Meeting ID</dt>
        <dd>${groupInThrees(m.joinMeetingId)}</dd>
        <dt>Passcode</dt>
        <dd>${m.isPasscodeRequired ? 'Required (see the meeting invitation)' : 'Not required'}</dd>
        <dt>By phone</dt>
        <dd><a href="${dialin}">Dial-in numbers</a></dd>
      </dl>
      <p class="note">
        This is a graph-meetings emulator page. In Microsoft Teams this link would open the meeting; graph-meetings emulates the Graph API
        only, so there is no meeting to join here.
      </p>`,
  );
}

export interface DialInPageInput {
  tenantName: string;
  tollNumbers: string[];
  tollFreeNumbers: string[];
  /** Digits from the link's `id`, or undefined when it was missing or not a conference id. */
  conferenceId: string | undefined;
}

export function dialInPage(input: DialInPageInput): string {
  const id = input.conferenceId;
  // RFC 3966: the DTMF digits follow pauses (`,`), and `#` must be escaped inside a tel URI.
  const number = (n: string, label: string) => html`<li><a href="${`tel:${n}${id ? `,,${id}%23` : ''}`}">${n}</a> ${label}</li>`;
  const conferenceLine = id
    ? html`<p>Phone conference ID: <strong>${groupInThrees(id)}#</strong></p>`
    : html`<p>Enter the phone conference ID from your meeting invitation.</p>`;
  const numbers = [...input.tollNumbers.map((n) => number(n, '(toll)')), ...input.tollFreeNumbers.map((n) => number(n, '(toll-free)'))];
  return layout(
    'Dial in',
    html`<h1>Dial in</h1>
      <p>Audio conferencing numbers of ${input.tenantName}:</p>
      ${
        numbers.length > 0
          ? html`<ul>
              ${numbers}
            </ul>`
          : html`<p>This tenant has no dial-in numbers.</p>`
      }
      ${conferenceLine}
      <p class="note">These numbers come from the tenant's settings in graph-meetings. They are fictional and dial no one.</p>`,
  );
}

/** Teams shows this only to the signed-in organizer; graph-meetings has no interactive sign-in, so it shows no meeting data. */
export function meetingOptionsPage(): string {
  return layout(
    'Meeting options',
    html`<h1>Meeting options</h1>
      <p>
        In Microsoft Teams this link opens the meeting's options for its signed-in organizer. graph-meetings does not emulate that sign-in,
        so this page shows no meeting data.
      </p>
      <p>Change the options through the Graph API instead:</p>
      <p>
        <code>PATCH /v1.0/me/onlineMeetings/{id}</code> (or <code>/v1.0/users/{userId}/onlineMeetings/{id}</code> with an app token), with a
        body such as <code>{"allowedPresenters": "organizer", "lobbyBypassSettings": {"scope": "invited"}}</code>.
      </p>`,
  );
}

/** One row of the meeting-options page: the Graph property name, its value as text, whether a template locked it. */
export interface MeetingOptionRow {
  name: string;
  value: string;
  locked: boolean;
}

export interface MeetingOptionsPageInput {
  subject: string | null;
  organizerName: string;
  options: MeetingOptionRow[];
}

/**
 * The meeting's current options, read-only (issue #14): Teams lets the signed-in organizer change them
 * here; graph-meetings has no sign-in on this page yet, so changes go through Graph's PATCH.
 */
export function currentMeetingOptionsPage(m: MeetingOptionsPageInput): string {
  const rows = m.options.map(
    (o) =>
      html`<tr>
        <th scope="row"><code>${o.name}</code></th>
        <td>${o.value}</td>
        <td>${o.locked ? 'Locked by the meeting template' : ''}</td>
      </tr>`,
  );
  return layout(
    'Meeting options',
    html`<h1>Meeting options</h1>
      <h2>${m.subject ?? '(no subject)'}</h2>
      <p>Organizer: ${m.organizerName}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Option</th>
            <th scope="col">Current value</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
      <p class="note">
        Read-only: in Microsoft Teams the signed-in organizer changes these here. With graph-meetings, change them through
        <code>PATCH /v1.0/me/onlineMeetings/{id}</code> (or <code>/v1.0/users/{userId}/onlineMeetings/{id}</code> with an app token).
      </p>`,
  );
}

/** What a virtual appointment link (getVirtualAppointmentJoinWebUrl, §3.7) opens. */
export function virtualAppointmentPage(m: {
  subject: string | null;
  organizerName: string;
  startDateTime: string;
  endDateTime: string;
}): string {
  return layout(
    'Virtual appointment',
    html`<h1>Virtual appointment</h1>
      <h2>${m.subject ?? '(no subject)'}</h2>
      <dl>
        <dt>Host</dt>
        <dd>${m.organizerName}</dd>
        <dt>Starts</dt>
        <dd>${formatUtc(m.startDateTime)}</dd>
        <dt>Ends</dt>
        <dd>${formatUtc(m.endDateTime)}</dd>
      </dl>
      <p class="note">
        This is a graph-meetings emulator page. In Microsoft Teams this link opens the appointment in the browser, with its lobby;
        graph-meetings emulates the Graph API only, so there is no appointment to join here.
      </p>`,
  );
}

export function notFoundPage(what: string): string {
  return layout(
    'Not found',
    html`<h1>${what} not found</h1>
      <p>The link may be mistyped, or what it pointed at may have been deleted.</p>`,
  );
}

export function errorPage(requestId: string): string {
  return layout(
    'Error',
    html`<h1>Something went wrong</h1>
      <p>The page could not be shown. Request id: <code>${requestId}</code></p>`,
  );
}
