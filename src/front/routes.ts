import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Mustache from 'mustache';

// Resolved from the repository root, as the portal's files are, so a compiled dist/ serves them too.
const STATIC_DIR = fileURLToPath(new URL('../../src/front/static/', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The IDE's third-party files: prebuilt browser bundles from npm, served from here so no page needs a CDN. */
function vendorFiles(): Map<string, { type: string; path: string }> {
  const require = createRequire(import.meta.url);
  const inPackage = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);
  return new Map([
    ['react.js', { type: JS, path: inPackage('react', 'umd/react.production.min.js') }],
    ['react-dom.js', { type: JS, path: inPackage('react-dom', 'umd/react-dom.production.min.js') }],
    ['graphiql.js', { type: JS, path: inPackage('graphiql', 'graphiql.min.js') }],
    ['graphiql.css', { type: CSS, path: inPackage('graphiql', 'graphiql.min.css') }],
  ]);
}

// As the portal's: only this server's own files (GraphiQL's fonts are data: URIs inside its CSS),
// no framing, no Referer. The IDE page holds a bearer token.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/**
 * The front door (`GET /`: where everything is, and the version) and an offline GraphQL IDE
 * (`GET /ide`: GraphiQL with a bearer-token field). A browser that opens `/graphql` itself is
 * sent to the IDE; every other request to `/graphql` is Apollo's.
 */
export function registerFrontDoor(app: FastifyInstance): void {
  const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
  const page = (name: string) => Buffer.from(Mustache.render(readFileSync(`${STATIC_DIR}${name}`, 'utf8'), { version }));
  // Keyed by URL path: nothing else under these prefixes is served.
  const files = new Map<string, { type: string; body: Buffer }>([
    ['/', { type: 'text/html; charset=utf-8', body: page('index.html') }],
    ['/front.css', { type: CSS, body: readFileSync(`${STATIC_DIR}front.css`) }],
    ['/ide', { type: 'text/html; charset=utf-8', body: page('ide.html') }],
    ['/ide/ide.css', { type: CSS, body: readFileSync(`${STATIC_DIR}ide.css`) }],
    ['/ide/ide.js', { type: JS, body: readFileSync(`${STATIC_DIR}ide.js`) }],
    ...[...vendorFiles()].map(([name, f]) => [`/ide/vendor/${name}`, { type: f.type, body: readFileSync(f.path) }] as const),
  ]);
  const serve = (path: string, reply: FastifyReply) => {
    const f = files.get(path);
    if (!f) return reply.code(404).headers(PAGE_HEADERS).send({ error: 'not_found' });
    return reply.code(200).headers(PAGE_HEADERS).header('content-type', f.type).send(f.body);
  };

  app.get('/', async (_req, reply) => serve('/', reply));
  app.get('/front.css', async (_req, reply) => serve('/front.css', reply));
  app.get('/ide', async (_req, reply) => serve('/ide', reply));
  app.get<{ Params: { file: string } }>('/ide/:file', async (request, reply) => serve(`/ide/${request.params.file}`, reply));
  app.get<{ Params: { file: string } }>('/ide/vendor/:file', async (request, reply) => serve(`/ide/vendor/${request.params.file}`, reply));

  // A person who opens the GraphQL endpoint in a browser gets the IDE; Apollo's own landing page
  // (Apollo Sandbox) is disabled, as it loads from a CDN.
  // Callback style: it runs before every request, and an async hook costs each one a promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'GET' && request.url === '/graphql' && request.headers.accept?.includes('text/html')) {
      // Answered here: `done` is not called, so the request goes no further.
      void reply.redirect('/ide', 302);
      return;
    }
    done();
  });
}
