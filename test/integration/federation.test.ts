import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../../src/schema.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

/** A stand-in for IntelGraph's core subgraph: it owns Tenant and Service. */
const coreTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Tenant @key(fields: "id") { id: ID! name: String! }
  type Service @key(fields: "id") { id: ID! name: String! owner: String! }
  type Query { services: [Service!]! tenants: [Tenant!]! }
`);
const coreServices = [
  { id: 'gateway', name: 'API Gateway', owner: 'platform' },
  { id: 'ingest', name: 'Ingest', owner: 'data' },
];

let t: TestServer;
let core: ApolloServer;
let coreUrl: string;
let gateway: ApolloServer;
let gatewayUrl: string;
const seenByCore: (string | undefined)[] = [];

beforeAll(async () => {
  t = await startTestServer();
  for (const s of coreServices) await t.gql(`mutation($i: ServiceInput!) { upsertService(input: $i) { id } }`, { i: { id: s.id, name: s.name, team: s.owner } });
  for (let i = 0; i < 3; i++) {
    await t.gql(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
      i: { kind: 'SBOM', serviceId: 'gateway', source: 'ci', collectedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(), content: { i } },
    });
  }

  core = new ApolloServer({
    schema: buildSubgraphSchema([
      {
        typeDefs: coreTypeDefs,
        resolvers: {
          Query: { services: () => coreServices, tenants: () => [{ id: 'acme', name: 'Acme' }] },
          Service: { __resolveReference: (ref: { id: string }) => coreServices.find((s) => s.id === ref.id) },
        },
      },
    ]),
  });
  ({ url: coreUrl } = await startStandaloneServer(core, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      seenByCore.push(req.headers.authorization);
      return {};
    },
  }));

  const composed = composeServices([
    { name: 'core', typeDefs: coreTypeDefs, url: coreUrl },
    { name: 'compliance', typeDefs: parse(loadTypeDefs()), url: t.url },
  ]);
  expect(composed.errors ?? []).toEqual([]);
  gateway = new ApolloServer({
    gateway: new ApolloGateway({
      supergraphSdl: composed.supergraphSdl as string,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<{ authorization?: string }>({
          url,
          // The gateway forwards the caller's token to every subgraph.
          willSendRequest({ request, context }) {
            if (context.authorization) request.http?.headers.set('authorization', context.authorization);
          },
        }),
    }),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) }),
  }));
});

afterAll(async () => {
  await gateway?.stop();
  await core?.stop();
  await t?.close();
});

async function viaGateway(query: string, token: string | null) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: { services: { id: string; name: string; owner: string; evidence: { totalCount: number; edges: { node: { kind: string } }[] } }[] }; errors?: { extensions?: { code?: string } }[] };
}

describe('#federation', () => {
  describe('when a query joins core fields with this subgraph’s evidence', () => {
    it('returns the joined data through the gateway, with the caller’s token forwarded', async () => {
      const token = await t.token(as.viewer());
      const r = await viaGateway(`{ services { id name owner evidence(first: 2) { totalCount edges { node { kind } } } } }`, token);
      expect(r.errors).toBeUndefined();
      expect(r.data?.services).toEqual([
        { id: 'gateway', name: 'API Gateway', owner: 'platform', evidence: { totalCount: 3, edges: [{ node: { kind: 'SBOM' } }, { node: { kind: 'SBOM' } }] } },
        { id: 'ingest', name: 'Ingest', owner: 'data', evidence: { totalCount: 0, edges: [] } },
      ]);
      expect(seenByCore.at(-1)).toBe(`Bearer ${token}`);
    });
  });

  describe('when the caller sends no token', () => {
    it('gets UNAUTHENTICATED from this subgraph’s part of the plan', async () => {
      const r = await viaGateway(`{ services { id evidence { totalCount } } }`, null);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });
});
