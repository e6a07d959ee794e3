import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/client.js';

/**
 * Attestation figures read from the database at scrape time (the same on every replica):
 * coverage of each service's latest release (one series per service), and verification
 * outcomes by reason code (a closed set).
 */
export function registerAttestationMetrics(registry: Registry, database: Database): void {
  new Gauge({
    name: 'attestation_coverage_ratio',
    help: "Share of the subjects of each service's latest release that have a verified attestation",
    labelNames: ['service'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await database.sql<{ service_id: string; ratio: number }[]>`
        with latest as (
          select distinct on (service_id) id, service_id, subjects from releases order by service_id, created_at desc, id desc
        )
        select l.service_id,
               case when jsonb_array_length(l.subjects) = 0 then 1
                    else (select count(*) from jsonb_array_elements(l.subjects) s
                          where exists (select 1 from attestations a where a.subject_digest = s->>'digest' and a.verified))::float
                         / jsonb_array_length(l.subjects) end as ratio
        from latest l`;
      for (const r of rows) this.set({ service: r.service_id }, Number(r.ratio));
    },
  });
  new Gauge({
    name: 'attestation_verifications',
    help: 'Recorded attestation verification outcomes by result and failure reason',
    labelNames: ['result', 'reason'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await database.sql<{ verified: boolean; reason: string; n: number }[]>`
        select verified, coalesce(split_part(failure_reason, ':', 1), '') as reason, count(*)::int as n
        from attestations group by 1, 2`;
      for (const r of rows) this.set({ result: r.verified ? 'verified' : 'invalid', reason: r.reason }, r.n);
    },
  });
}
