import type { UserRow } from '../../storage/tables.js';
import { badRequest } from '../errors.js';

/**
 * The profile a directory user carries: Graph's default user property set (fact sheet §5.1), stored as
 * given (`user add`, the demo seed) and served with null where unset.
 */
export interface UserProfileInput {
  givenName?: string;
  surname?: string;
  jobTitle?: string;
  /** Defaults to the UPN. */
  mail?: string;
  mobilePhone?: string;
  officeLocation?: string;
  preferredLanguage?: string;
  businessPhones?: string[];
}

// Entra's documented maximum lengths for these properties (user resource type).
const MAX_LENGTH: Record<Exclude<keyof UserProfileInput, 'businessPhones'>, number> = {
  givenName: 64,
  surname: 64,
  jobTitle: 128,
  mail: 254,
  mobilePhone: 64,
  officeLocation: 128,
  preferredLanguage: 10,
};
const MAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;
// ISO 639-1 language with an optional ISO 3166 region: en, en-US.
const LANGUAGE = /^[a-z]{2}(?:-[A-Z]{2})?$/;
const PHONE_MAX = 64;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

const trimmed = (name: string, value: string | undefined): string | null => {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  const max = MAX_LENGTH[name as keyof typeof MAX_LENGTH];
  if (v.length > max) throw badRequest(`The ${name} of a user is at most ${max} characters.`);
  if (CONTROL.test(v)) throw badRequest(`The ${name} of a user cannot contain control characters.`);
  return v;
};

/** The users-table columns for a profile; the rules are checked here so that every caller gets them. */
export function userProfileColumns(input: UserProfileInput, upn: string) {
  const mail = trimmed('mail', input.mail) ?? upn;
  if (!MAIL.test(mail)) throw badRequest(`'${mail}' is not an email address.`);
  const preferredLanguage = trimmed('preferredLanguage', input.preferredLanguage);
  if (preferredLanguage !== null && !LANGUAGE.test(preferredLanguage))
    throw badRequest(`'${preferredLanguage}' is not a preferred language (ISO 639-1, e.g. en-US).`);
  const phones = (input.businessPhones ?? []).map((p) => p.trim()).filter(Boolean);
  // Graph: "Only one number can be set for this property."
  if (phones.length > 1) throw badRequest('A user has at most one business phone.');
  for (const p of phones) {
    if (p.length > PHONE_MAX || CONTROL.test(p)) throw badRequest(`'${p}' is not a phone number.`);
  }
  return {
    given_name: trimmed('givenName', input.givenName),
    surname: trimmed('surname', input.surname),
    job_title: trimmed('jobTitle', input.jobTitle),
    mail,
    mobile_phone: trimmed('mobilePhone', input.mobilePhone),
    office_location: trimmed('officeLocation', input.officeLocation),
    preferred_language: preferredLanguage,
    business_phones: JSON.stringify(phones),
  };
}

/** The user resource's default property set, in the order Graph writes it (fact sheet §5.1). */
export const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

/**
 * Properties of Graph's user type that this directory does not hold: `$select` may name them (Graph
 * answers null for unset ones) but they are never set. Anything not here or above is an unknown property.
 */
const UNSET_USER_PROPERTIES = [
  'aboutMe',
  'ageGroup',
  'city',
  'companyName',
  'country',
  'department',
  'employeeId',
  'employeeType',
  'faxNumber',
  'onPremisesImmutableId',
  'onPremisesSamAccountName',
  'onPremisesUserPrincipalName',
  'postalCode',
  'preferredName',
  'state',
  'streetAddress',
  'usageLocation',
] as const;

/** Every property `$select` accepts, keyed by its lower-case name (OData names match in any case here). */
export const SELECTABLE_USER_PROPERTIES = new Map<string, string>(
  [...DEFAULT_USER_PROPERTIES, 'accountEnabled', 'createdDateTime', 'userType', 'otherMails', ...UNSET_USER_PROPERTIES].map((p) => [
    p.toLowerCase(),
    p,
  ]),
);

/** The user resource with every property this service knows, in Graph's order. */
export function graphUser(row: UserRow): Record<string, unknown> {
  let businessPhones: unknown = [];
  try {
    businessPhones = JSON.parse(row.business_phones);
  } catch {
    businessPhones = [];
  }
  const all: Record<string, unknown> = {
    businessPhones,
    displayName: row.display_name,
    givenName: row.given_name,
    jobTitle: row.job_title,
    mail: row.mail,
    mobilePhone: row.mobile_phone,
    officeLocation: row.office_location,
    preferredLanguage: row.preferred_language,
    surname: row.surname,
    userPrincipalName: row.upn,
    id: row.id,
    accountEnabled: true,
    createdDateTime: row.created_at.replace(/\.\d+Z$/, 'Z'),
    userType: 'Member',
    otherMails: [],
  };
  for (const p of UNSET_USER_PROPERTIES) all[p] = null;
  return all;
}
