import { getNamedType, getNullableType, isCompositeType, isInputType, parse, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/audit/persisted.js';
import { planFor } from '../../src/executor.js';
import { buildSchema } from '../../src/schema.js';

// The compiled executor is the default (GRAPHQL_EXECUTOR=jit), and what graphql-jit cannot compile
// silently runs on graphql-js. These cases make sure that "compiled" is true of what is sent: a new
// root field, or an operation, that the compiler refuses fails here instead of quietly losing the
// compiled path (the whole suite runs once per executor in CI, so behaviour is covered there).
const { schema } = buildSchema();

/** One operation per root field: its required arguments as variables, `__typename` of what it returns. */
function operationOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const required = field.args.filter((a) => a.type.toString().endsWith('!') && a.defaultValue === undefined);
  for (const a of required) expect(isInputType(a.type)).toBe(true);
  const vars = required.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const args = required.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = isCompositeType(getNamedType(getNullableType(field.type))) ? ' { __typename }' : '';
  return `${kind} Op${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

const roots = (['query', 'mutation'] as const).flatMap((kind) => {
  const type = (kind === 'query' ? schema.getQueryType() : schema.getMutationType()) as GraphQLObjectType;
  return Object.values(type.getFields()).map((f) => ({ name: `${type.name}.${f.name}`, text: operationOf(kind, f) }));
});

describe('#planFor (the compiled executor)', () => {
  it.each(roots)('compiles $name', ({ text }) => {
    expect(planFor(schema, parse(text), 'Op')).not.toBeNull();
  });

  it.each([...loadManifest().values()].map((op) => ({ name: op.name, body: op.body })))(
    "compiles the auditors' persisted operation $name",
    ({ name, body }) => {
      expect(planFor(schema, parse(body), name)).not.toBeNull();
    },
  );

  it('compiles the shapes a gateway sends (bench/shapes.ts)', () => {
    const shapes = [
      '{ __typename }',
      'query B($representations: [_Any!]!) { _entities(representations: $representations) { ... on Service { id evidence(first: 5) { totalCount edges { cursor node { id kind sha256 collectedAt } } pageInfo { hasNextPage endCursor } } } } }',
      '{ ledger(first: 100) { seq kind actor } }',
    ];
    for (const text of shapes) expect(planFor(schema, parse(text), undefined)).not.toBeNull();
  });

  it('has no plan for an operation name the document lacks (graphql-js answers with its error)', () => {
    expect(planFor(schema, parse('{ __typename }'), 'Missing')).toBeNull();
  });
});
