import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { currentTraceId, startTracing, traceLogFields, tracingSettings } from '../../src/tracing.js';

const settings = (env: Record<string, string>) => tracingSettings(parseConfig(env));

describe('#tracingSettings', () => {
  it('is off by default', () => {
    expect(settings({})).toBeNull();
  });

  it('is on with an OTLP endpoint, which names the traces path under it', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      exporter: 'otlp',
      url: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: 'compliance-subgraph',
    });
  });

  it('takes the traces endpoint, headers and service name as the OTLP specification spells them', () => {
    expect(
      settings({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/api/traces',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%3Db, tenant = ops',
        OTEL_SERVICE_NAME: 'compliance-eu',
      }),
    ).toEqual({
      exporter: 'otlp',
      url: 'https://otel.example/api/traces',
      headers: { 'x-api-key': 'a=b', tenant: 'ops' },
      serviceName: 'compliance-eu',
    });
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp' })?.url).toBe('http://localhost:4318/v1/traces');
  });

  it('stays off when told so, whatever endpoint is set', () => {
    expect(settings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeNull();
    expect(settings({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeNull();
  });

  it('refuses an exporter it does not have', () => {
    expect(() => settings({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
  });
});

describe('#startTracing when off', () => {
  it('loads nothing and answers no trace id', async () => {
    expect(await startTracing(null)).toBeNull();
    expect(currentTraceId()).toBeNull();
    expect(traceLogFields()).toEqual({});
  });
});
