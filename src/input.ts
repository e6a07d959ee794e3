import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { badInput } from './errors.js';
import { isUuid } from './util/ids.js';

/**
 * Input validation at the boundary, one mechanism for every field and both transports: each
 * field with arguments checks its coerced argument values against the argument types before
 * its resolver (and its authorization rule) runs, so nothing malformed reaches a service or
 * PostgreSQL (where it used to surface as INTERNAL_SERVER_ERROR). A refusal is BAD_USER_INPUT
 * naming the argument (`details.argument`, e.g. `input.mechanism`).
 *
 * - String and ID: no control characters (C0 but tab, line feed, carriage return; DEL);
 *   PostgreSQL cannot store NUL in text at all.
 * - ID marked `@uuid` in the SDL: a UUID (the column is uuid).
 * - DateTime: within DATE_RANGE.
 * - JSON and `_Any`: nested at most `maxJsonDepth`, at most MAX_JSON_VALUES values, no NUL in
 *   strings or keys (jsonb refuses \u0000); walked without recursion, so a hostile depth
 *   cannot overflow the stack.
 */
export interface InputLimits {
  maxJsonDepth: number;
}

/** Defaults (config's INPUT_JSON_MAX_DEPTH). */
export const DEFAULT_INPUT_LIMITS: InputLimits = { maxJsonDepth: 64 };

/** Accepted DateTime range: [1970-01-01, 2200-01-01). Earlier or later is a client bug, not data. */
export const DATE_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) } as const;
const MAX_JSON_VALUES = 100_000;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Whether a date is inside DATE_RANGE (also for dates decoded from cursors). */
export function inDateRange(d: Date): boolean {
  const t = d.getTime();
  return t >= DATE_RANGE.min && t < DATE_RANGE.max;
}

type Check = (value: unknown, name: string) => void;

const refuse = (name: string, what: string) => badInput(`argument "${name}" ${what}`, { argument: name });

function checkString(value: unknown, name: string): void {
  if (typeof value === 'string' && CONTROL.test(value)) throw refuse(name, 'contains a control character');
}

function checkUuid(value: unknown, name: string): void {
  if (typeof value === 'string' && !isUuid(value)) throw refuse(name, 'is not a UUID');
}

function checkDate(value: unknown, name: string): void {
  if (value instanceof Date && !inDateRange(value)) throw refuse(name, 'is outside 1970-01-01 .. 2200-01-01');
}

function jsonCheck(maxDepth: number): Check {
  return (value, name) => {
    const stack: [unknown, number][] = [[value, 1]];
    let seen = 0;
    while (stack.length) {
      const [v, depth] = stack.pop() as [unknown, number];
      if (++seen > MAX_JSON_VALUES) throw refuse(name, `has more than ${MAX_JSON_VALUES} JSON values`);
      if (typeof v === 'string') {
        if (v.includes('\u0000')) throw refuse(name, 'contains a NUL character');
      } else if (v !== null && typeof v === 'object') {
        if (depth > maxDepth) throw refuse(name, `is nested deeper than ${maxDepth} levels`);
        if (Array.isArray(v)) for (const x of v) stack.push([x, depth + 1]);
        else
          for (const [k, x] of Object.entries(v)) {
            if (k.includes('\u0000')) throw refuse(name, 'contains a NUL character');
            stack.push([x, depth + 1]);
          }
      }
    }
  };
}

const isUuidMarked = (def: GraphQLArgument | GraphQLInputField) => def.astNode?.directives?.some((d) => d.name.value === 'uuid') ?? false;

/** A checker for values of `type`, or null when nothing of it needs checking. */
function checkerFor(type: GraphQLInputType, uuid: boolean, limits: InputLimits, seen: Set<string>): Check | null {
  if (isNonNullType(type)) return checkerFor(type.ofType, uuid, limits, seen);
  if (isListType(type)) {
    const item = checkerFor(type.ofType, uuid, limits, seen);
    if (!item) return null;
    return (value, name) => {
      if (Array.isArray(value)) value.forEach((v: unknown, i) => item(v, `${name}.${i}`));
      else item(value, name);
    };
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'String':
        return checkString;
      case 'ID':
        return uuid ? checkUuid : checkString;
      case 'DateTime':
        return checkDate;
      case 'JSON':
      case '_Any':
        return jsonCheck(limits.maxJsonDepth);
      default:
        return null;
    }
  }
  if (isInputObjectType(type)) {
    // Input types do not recurse in this schema; the guard keeps a future cycle from looping.
    if (seen.has(type.name)) return null;
    seen.add(type.name);
    const fields = Object.values(type.getFields())
      .map((f) => [f.name, checkerFor(f.type, isUuidMarked(f), limits, seen)] as const)
      .filter((e): e is readonly [string, Check] => e[1] !== null);
    seen.delete(type.name);
    if (!fields.length) return null;
    return (value, name) => {
      if (value === null || typeof value !== 'object') return;
      const record = value as Record<string, unknown>;
      for (const [f, check] of fields) if (record[f] !== undefined && record[f] !== null) check(record[f], `${name}.${f}`);
    };
  }
  return null;
}

type Resolver = GraphQLFieldResolver<unknown, unknown>;

/** Wraps, in place, the resolvers (subscribers) of every field that takes arguments worth checking. */
export function applyInputValidation(schema: GraphQLSchema, limits: InputLimits): void {
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const checks = field.args
        .map((a) => [a.name, checkerFor(a.type, isUuidMarked(a), limits, new Set())] as const)
        .filter((e): e is readonly [string, Check] => e[1] !== null);
      if (!checks.length || getNamedType(field.type).name === '_Service') continue;
      const validate = (args: Record<string, unknown>) => {
        for (const [name, check] of checks) if (args[name] !== undefined && args[name] !== null) check(args[name], name);
      };
      if (type === subscriptionType && field.subscribe) {
        const next = field.subscribe as Resolver;
        field.subscribe = ((parent, args, ctx, info) => {
          validate(args);
          return next(parent, args, ctx, info);
        }) as typeof field.subscribe;
      } else {
        const next = (field.resolve ?? defaultFieldResolver) as Resolver;
        field.resolve = ((parent, args, ctx, info) => {
          validate(args);
          return next(parent, args, ctx, info);
        }) as typeof field.resolve;
      }
    }
  }
}
