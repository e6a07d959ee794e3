import { parseGatewayConfig } from '../config.js';
import { startCoreSubgraph, type CoreSubgraph } from './core-subgraph.js';
import { startGateway } from './gateway.js';

/**
 * `npm run gateway`: Hive Gateway on GATEWAY_PORT (default 4000) in front of this subgraph
 * (SUBGRAPH_URL, default http://localhost:4001/graphql, i.e. `npm start`) and the core subgraph
 * (CORE_URL, or the in-repo stand-in started here). Stops on SIGINT/SIGTERM.
 */
const cfg = parseGatewayConfig(process.env);
const quiet = cfg.LOG_LEVEL === 'silent';
const say = (line: string) => {
  if (!quiet) process.stdout.write(`${line}\n`);
};

let core: CoreSubgraph | undefined;
const coreUrl = cfg.CORE_URL ?? (core = await startCoreSubgraph({ host: '127.0.0.1', port: cfg.CORE_PORT })).url;
if (core) say(`stand-in core subgraph (Tenant, Service) on ${core.url}`);
say(`composing with the subgraph at ${cfg.SUBGRAPH_URL} …`);
const gateway = await startGateway({
  host: cfg.GATEWAY_HOST,
  port: cfg.GATEWAY_PORT,
  subgraphUrl: cfg.SUBGRAPH_URL,
  coreUrl,
  composeTimeoutMs: cfg.GATEWAY_COMPOSE_TIMEOUT_MS,
});
say(`Hive Gateway on ${gateway.url} (HTTP, SSE, graphql-transport-ws); the caller's Authorization goes to both subgraphs`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // A stuck upstream socket must not keep a stopped gateway alive.
  setTimeout(() => process.exit(0), 5000).unref();
  await gateway.close();
  await core?.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
