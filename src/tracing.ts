import type * as OtelApi from '@opentelemetry/api';
import type { Context as OtelContext, Span, SpanKind, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PendingQuery, Sql } from 'postgres';
import type { Config } from './config.js';

/**
 * OpenTelemetry tracing, off by default (docs/tracing.md). When on, the subgraph continues the
 * W3C `traceparent` a gateway sends: a SERVER span per HTTP request, a span per domain-service
 * call and per SQL statement, the trace id on log lines, on the policy decisions a request
 * records (anomaly exemplars) and on its dual-read comparisons. When off, nothing of the SDK is
 * loaded and every hook below is one null check: no wrapper, no allocation on the request path.
 */

type Api = typeof OtelApi;

interface Active {
  api: Api;
  tracer: Tracer;
  shutdown(): Promise<void>;
}

let active: Active | null = null;

export interface TracingSettings {
  exporter: 'otlp' | 'console';
  /** OTLP/HTTP traces endpoint (…/v1/traces). */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
}

/** What the OTEL_* variables ask for; null when tracing is off (the default). */
export function tracingSettings(c: Config): TracingSettings | null {
  if (c.OTEL_SDK_DISABLED) return null;
  const exporter = c.OTEL_TRACES_EXPORTER ?? (c.OTEL_EXPORTER_OTLP_ENDPOINT || c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none');
  if (exporter === 'none') return null;
  const base = (c.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
  return {
    exporter,
    url: c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}/v1/traces`,
    headers: parseHeaders(c.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? c.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: c.OTEL_SERVICE_NAME,
  };
}

/** `k1=v1,k2=v2`, values percent-encoded (the OTLP exporter specification's format). */
function parseHeaders(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export interface Tracing {
  /** The same client, its statements traced (the pool and its counters are shared). */
  traceSql(sql: Sql): Sql;
  /** A span per method call of each given service object (replaced in place by a traced proxy). */
  traceServices<T extends object>(services: T, names: readonly (keyof T & string)[]): void;
  /** SERVER spans for the app's requests, continuing the caller's traceparent. */
  instrument(app: FastifyInstance): void;
  /** Exports what is pending and unregisters the SDK. */
  shutdown(): Promise<void>;
}

/**
 * Loads and registers the SDK when the settings (or a test's exporter) ask for it; null, having
 * loaded nothing, otherwise. One tracer per process: the SDK's context manager and propagator are global.
 */
export async function startTracing(settings: TracingSettings | null, exporterOverride?: SpanExporter): Promise<Tracing | null> {
  if (!settings && !exporterOverride) return null;
  const [api, sdk, core, hooks, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/resources'),
  ]);
  let exporter: SpanExporter;
  if (exporterOverride) exporter = exporterOverride;
  else if (settings?.exporter === 'console') exporter = new sdk.ConsoleSpanExporter();
  else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter({ url: settings?.url, headers: settings?.headers ?? {} });
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': settings?.serviceName ?? 'compliance-subgraph' }),
    // A test's exporter sees each span as it ends; a real one gets batches off the request path.
    spanProcessors: [exporterOverride ? new sdk.SimpleSpanProcessor(exporter) : new sdk.BatchSpanProcessor(exporter)],
  });
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer('compliance-subgraph');
  const state: Active = {
    api,
    tracer,
    shutdown: async () => {
      // The last export may fail (collector gone): shutting down goes on regardless.
      await provider.shutdown().catch(() => undefined);
      api.trace.disable();
      api.propagation.disable();
      api.context.disable();
    },
  };
  active = state;
  return {
    traceSql: (sql) => traceSql(state, sql),
    traceServices: (services, names) => {
      const record = services as Record<string, object>;
      for (const name of names) record[name] = traceObject(state, name, record[name] as object);
    },
    instrument: (app) => instrumentHttp(state, app),
    shutdown: async () => {
      if (active === state) active = null;
      await state.shutdown();
    },
  };
}

/** The trace id of the span in force (the request's), or null (tracing off, or outside any request). */
export function currentTraceId(): string | null {
  if (!active) return null;
  const ctx = active.api.trace.getSpan(active.api.context.active())?.spanContext();
  return ctx && active.api.isSpanContextValid(ctx) ? ctx.traceId : null;
}

/**
 * Runs `fn`, one operation received over graphql-ws, in a SERVER span continuing the W3C trace
 * context of `carrier` (`traceparent`, `tracestate`); just `fn` when tracing is off. The span
 * ends when `fn`'s result settles (a subscription's: once its event stream is set up).
 */
export function inRemoteSpan<T>(name: string, carrier: Record<string, string>, fn: () => T): T {
  const a = active;
  if (!a) return fn();
  const parent = a.api.propagation.extract(a.api.ROOT_CONTEXT, carrier);
  return a.api.context.with(parent, () => inSpan(a, name, {}, fn, a.api.SpanKind.SERVER));
}

/** Fields for a log line (pino's mixin): the trace and span in force, if any. */
export function traceLogFields(): Record<string, string> {
  if (!active) return {};
  const ctx = active.api.trace.getSpan(active.api.context.active())?.spanContext();
  return ctx && active.api.isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

function endSpan(a: Active, span: Span, err?: unknown): void {
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: a.api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

/** Runs `fn` in a child span of the context in force; the span ends when its result settles. */
function inSpan<T>(a: Active, name: string, attributes: Record<string, string>, fn: () => T, kind?: SpanKind): T {
  const span = a.tracer.startSpan(name, { attributes, ...(kind === undefined ? {} : { kind }) });
  let result: T;
  try {
    result = a.api.context.with(a.api.trace.setSpan(a.api.context.active(), span), fn);
  } catch (err) {
    endSpan(a, span, err);
    throw err;
  }
  if (result instanceof Promise) {
    result.then(
      () => endSpan(a, span),
      (err: unknown) => endSpan(a, span, err),
    );
  } else endSpan(a, span);
  return result;
}

/** A proxy whose methods each run in a span `service.<name>.<method>`, bound to the real object. */
function traceObject<T extends object>(a: Active, name: string, target: T): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value: unknown = Reflect.get(t, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let w = wrappers.get(prop);
      if (!w) {
        const fn = value as (...args: unknown[]) => unknown;
        const spanName = `service.${name}.${prop}`;
        const attrs = { 'code.namespace': name, 'code.function': prop };
        w = (...args: unknown[]) => inSpan(a, spanName, attrs, () => fn.apply(t, args));
        wrappers.set(prop, w);
      }
      return w;
    },
  });
}

const MAX_STATEMENT = 2000;

/**
 * A SQL span per statement: postgres.js runs a query when it is first awaited, so the span
 * starts there (in the awaiting code's context) and ends when the statement settles. Fragments
 * that are never awaited on their own open no span.
 */
function traceQuery<T extends PendingQuery<never>>(a: Active, q: T, text: string): T {
  const original = q.then.bind(q) as (f?: (v: unknown) => unknown, r?: (e: unknown) => unknown) => Promise<unknown>;
  let span: Span | null = null;
  const patched = (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) => {
    if (span) return original(onFulfilled, onRejected);
    const s = a.tracer.startSpan('sql', {
      kind: a.api.SpanKind.CLIENT,
      attributes: { 'db.system': 'postgresql', 'db.statement': text.length > MAX_STATEMENT ? `${text.slice(0, MAX_STATEMENT)}…` : text },
    });
    span = s;
    return original(
      (v) => {
        endSpan(a, s);
        return onFulfilled ? onFulfilled(v) : v;
      },
      (e) => {
        endSpan(a, s, e);
        if (onRejected) return onRejected(e);
        throw e;
      },
    );
  };
  void Object.defineProperty(q, 'then', { value: patched, configurable: true, writable: true });
  return q;
}

function traceSql(a: Active, sql: Sql): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      const result: unknown = Reflect.apply(target, thisArg, args);
      const strings = args[0];
      // Only tagged templates are statements; sql(value) builds a helper fragment.
      if (Array.isArray(strings) && 'raw' in strings) return traceQuery(a, result as PendingQuery<never>, strings.join('$?'));
      return result;
    },
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop === 'unsafe') {
        const unsafe = value as Sql['unsafe'];
        return (query: string, ...rest: unknown[]) =>
          traceQuery(a, (unsafe as unknown as (...x: unknown[]) => PendingQuery<never>).call(target, query, ...rest), query);
      }
      if (prop === 'begin') {
        const begin = value as (...x: unknown[]) => Promise<unknown>;
        // The transaction's own client is traced too (drizzle runs its statements on it).
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const fn = args[last] as (tx: Sql) => unknown;
          const wrapped = [...args.slice(0, last), (tx: Sql) => fn(traceSql(a, tx))];
          return begin.apply(target, wrapped);
        };
      }
      return value;
    },
  });
}

const spans = new WeakMap<FastifyRequest, { span: Span; ctx: OtelContext }>();

function instrumentHttp(a: Active, app: FastifyInstance): void {
  const { api } = a;
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '/';
    const span = a.tracer.startSpan(
      `${request.method} ${route}`,
      { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route } },
      parent,
    );
    const ctx = api.trace.setSpan(parent, span);
    spans.set(request, { span, ctx });
    api.context.with(ctx, done);
  });
  // The body is read in the socket's async context: the request's is entered again before the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    const s = spans.get(request);
    if (s) api.context.with(s.ctx, done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const s = spans.get(request);
    if (s) {
      s.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) s.span.setStatus({ code: api.SpanStatusCode.ERROR });
      s.span.end();
      spans.delete(request);
    }
    done();
  });
}
