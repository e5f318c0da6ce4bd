import { GraphError } from '../errors.js';

/**
 * The `$filter` subset Graph's List users serves (fact sheet §5.1, Graph's user-list reference):
 * `eq` on id, mail, userPrincipalName, displayName, givenName, surname; `startswith` on the same
 * strings except id; `or` / `and` of those, with parentheses. `endswith` on mail and userPrincipalName is
 * an advanced query: only with `ConsistencyLevel: eventual` and `$count=true`. Property names match in
 * any case, as OData's case-insensitive mode in Graph does; string comparisons ignore case, as Entra does.
 */
export type UserFilterProperty = 'id' | 'mail' | 'userPrincipalName' | 'displayName' | 'givenName' | 'surname';
export type UserCondition = { op: 'eq' | 'startswith' | 'endswith'; property: UserFilterProperty; value: string };
export type UserFilter = UserCondition | { op: 'or' | 'and'; clauses: UserFilter[] };

const PROPERTIES = new Map<string, UserFilterProperty>(
  (['id', 'mail', 'userPrincipalName', 'displayName', 'givenName', 'surname'] as const).map((p) => [p.toLowerCase(), p]),
);
const STARTSWITH: ReadonlySet<UserFilterProperty> = new Set(['mail', 'userPrincipalName', 'displayName', 'givenName', 'surname']);
const ENDSWITH: ReadonlySet<UserFilterProperty> = new Set(['mail', 'userPrincipalName']);
/** Properties of the user type that exist but cannot be filtered here (so they get "unsupported", not "unknown"). */
const KNOWN_UNFILTERABLE = new Set(['jobtitle', 'mobilephone', 'officelocation', 'preferredlanguage', 'businessphones', 'department']);

export const MAX_FILTER_LENGTH = 4096;
/** Entra refuses startswith values longer than this (microsoft-graph-explorer-v4#2103). */
const MAX_STARTSWITH_VALUE = 120;
/** Entra's limit on the clauses under one `or`. */
const MAX_OR_CLAUSES = 15;

const syntaxError = (raw: string, at: number) =>
  new GraphError(400, 'BadRequest', `Invalid filter clause: Syntax error at position ${at} in '${raw}'.`);
export const unsupportedClause = (property: string) =>
  new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${property}' of resource 'User'.`,
  );
export const unknownUserProperty = (property: string) =>
  new GraphError(400, 'Request_BadRequest', `Could not find a property named '${property}' on type 'Microsoft.DirectoryServices.User'.`);

type Token = { kind: 'ident' | 'string' | '(' | ')' | ','; text: string; at: number };

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at: i });
      i++;
    } else if (c === "'") {
      const at = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= raw.length) throw syntaxError(raw, at);
        if (raw[i] === "'") {
          if (raw[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += raw[i];
        i++;
      }
      tokens.push({ kind: 'string', text: value, at });
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_./]*/.exec(raw.slice(i, i + 256));
      if (!m) throw syntaxError(raw, i);
      tokens.push({ kind: 'ident', text: m[0], at: i });
      i += m[0].length;
    }
  }
  return tokens;
}

/** Parses `$filter`; `advanced` says whether the request is an advanced query (ConsistencyLevel + $count). */
export function parseUserFilter(raw: string, advanced: boolean): UserFilter {
  if (raw.length > MAX_FILTER_LENGTH) throw new GraphError(400, 'Request_UnsupportedQuery', 'The filter expression is too long.');
  const tokens = tokenize(raw);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (): never => {
    throw syntaxError(raw, peek()?.at ?? raw.length);
  };
  const expect = (kind: Token['kind']) => {
    const t = peek();
    if (!t || t.kind !== kind) fail();
    pos++;
    return t!;
  };
  const keyword = (word: string) => {
    const t = peek();
    if (t?.kind === 'ident' && t.text.toLowerCase() === word) {
      pos++;
      return true;
    }
    return false;
  };
  const property = (name: string): UserFilterProperty => {
    const p = PROPERTIES.get(name.toLowerCase());
    if (p) return p;
    if (KNOWN_UNFILTERABLE.has(name.toLowerCase())) throw unsupportedClause(name);
    throw unknownUserProperty(name);
  };

  const primary = (depth: number): UserFilter => {
    if (depth > 20) fail();
    const t = peek();
    if (!t) return fail();
    if (t.kind === '(') {
      pos++;
      const inner = orExpr(depth + 1);
      expect(')');
      return inner;
    }
    if (t.kind !== 'ident') return fail();
    pos++;
    const name = t.text;
    const fn = name.toLowerCase();
    if (peek()?.kind === '(') {
      if (fn !== 'startswith' && fn !== 'endswith') {
        if (fn === 'contains' || fn === 'not')
          throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported property filter clause operator '${name}'.`);
        throw new GraphError(400, 'BadRequest', `Invalid filter clause: An unknown function with name '${name}' was found.`);
      }
      pos++;
      const propToken = expect('ident');
      expect(',');
      const value = expect('string').text;
      expect(')');
      const prop = property(propToken.text);
      const allowed = fn === 'startswith' ? STARTSWITH.has(prop) : ENDSWITH.has(prop) && advanced;
      if (!allowed || value.length > MAX_STARTSWITH_VALUE) throw unsupportedClause(prop);
      return { op: fn, property: prop, value };
    }
    const op = peek();
    if (op?.kind !== 'ident') return fail();
    pos++;
    const operator = op.text.toLowerCase();
    if (['ne', 'gt', 'ge', 'lt', 'le', 'in', 'has'].includes(operator)) {
      property(name);
      throw unsupportedClause(name);
    }
    if (operator !== 'eq') return fail();
    const v = peek();
    if (v?.kind === 'ident' && v.text === 'null') {
      property(name);
      throw unsupportedClause(name);
    }
    const value = expect('string').text;
    return { op: 'eq', property: property(name), value };
  };
  const andExpr = (depth: number): UserFilter => {
    const clauses = [primary(depth)];
    while (keyword('and')) clauses.push(primary(depth));
    return clauses.length === 1 ? clauses[0]! : { op: 'and', clauses };
  };
  const orExpr = (depth: number): UserFilter => {
    const clauses = [andExpr(depth)];
    while (keyword('or')) clauses.push(andExpr(depth));
    if (clauses.length > MAX_OR_CLAUSES)
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Too many child clauses specified in search filter expression containing 'OR' operators: ${clauses.length}. Max allowed: ${MAX_OR_CLAUSES}.`,
      );
    return clauses.length === 1 ? clauses[0]! : { op: 'or', clauses };
  };

  if (tokens.length === 0) fail();
  const filter = orExpr(0);
  if (pos !== tokens.length) fail();
  return filter;
}
