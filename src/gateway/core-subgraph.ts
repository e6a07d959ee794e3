import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';

/**
 * A stand-in for the IntelGraph platform's core subgraph, which owns `Tenant` and `Service`
 * (this subgraph only contributes compliance fields to them). It exists so `npm run gateway`
 * composes a real supergraph from a fresh clone; its data matches the demo seed of `npm start`.
 * Like the real core it refuses a request without a bearer token, but it checks only that one
 * was forwarded: verifying tokens is this subgraph's job, not the stand-in's.
 */
export const CORE_TYPE_DEFS = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  "A tenant of the platform (core subgraph)."
  type Tenant @key(fields: "id") {
    id: ID!
    "Display name."
    name: String!
    "Where the tenant's data lives."
    region: String!
  }

  "A service of the platform (core subgraph)."
  type Service @key(fields: "id") {
    id: ID!
    "Display name."
    name: String!
    "The owning team."
    team: String!
    "People answerable for the service."
    owners: [String!]!
  }

  type Query {
    "Every tenant."
    tenants: [Tenant!]!
    "Every service."
    services: [Service!]!
    "One service by id (the core answers for any id)."
    service(id: ID!): Service!
  }
`;

interface CoreTenant {
  id: string;
  name: string;
  region: string;
}
interface CoreService {
  id: string;
  name: string;
  team: string;
  owners: string[];
}

export const CORE_TENANTS: readonly CoreTenant[] = [
  { id: 'acme', name: 'Acme Corp', region: 'eu-west-1' },
  { id: 'globex', name: 'Globex', region: 'us-east-1' },
  { id: 'initech', name: 'Initech', region: 'eu-central-1' },
];
export const CORE_SERVICES: readonly CoreService[] = [
  { id: 'gateway', name: 'API Gateway', team: 'platform', owners: ['ana@platform', 'bo@platform'] },
  { id: 'graph-core', name: 'Graph Core', team: 'platform', owners: ['ana@platform'] },
  { id: 'ingest', name: 'Ingest Pipeline', team: 'data', owners: ['dee@data'] },
];

/** An id the core does not know still resolves (as the real core would answer for a new tenant). */
const tenantOf = (id: string): CoreTenant => CORE_TENANTS.find((t) => t.id === id) ?? { id, name: id, region: 'unknown' };
const serviceOf = (id: string): CoreService => CORE_SERVICES.find((s) => s.id === id) ?? { id, name: id, team: 'unknown', owners: [] };

export interface CoreSubgraph {
  url: string;
  /** The Authorization headers the core received, newest last (tests check forwarding). */
  readonly seen: readonly string[];
  close(): Promise<void>;
}

/** Starts the stand-in core on `host:port` (port 0: an ephemeral one). */
export async function startCoreSubgraph(opts: { host: string; port: number }): Promise<CoreSubgraph> {
  const seen: string[] = [];
  const server = new ApolloServer({
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    schema: buildSubgraphSchema([
      {
        typeDefs: parse(CORE_TYPE_DEFS),
        resolvers: {
          Query: { tenants: () => CORE_TENANTS, services: () => CORE_SERVICES, service: (_p: unknown, a: { id: string }) => serviceOf(a.id) },
          Tenant: { __resolveReference: (ref: { id: string }) => tenantOf(ref.id) },
          Service: { __resolveReference: (ref: { id: string }) => serviceOf(ref.id) },
        },
      },
    ]),
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port, host: opts.host },
    context: async ({ req }) => {
      const authorization = req.headers.authorization ?? '';
      if (!/^Bearer \S+$/.test(authorization))
        throw new GraphQLError('a bearer token is required', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      seen.push(authorization);
      return {};
    },
  });
  return { url, seen, close: () => server.stop() };
}
