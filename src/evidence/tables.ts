import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { services } from '../catalog/tables.js';

export const evidence = pgTable(
  'evidence',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    serviceId: text('service_id')
      .notNull()
      .references(() => services.id),
    tenantId: text('tenant_id'),
    sha256: text('sha256').notNull(),
    source: text('source').notNull(),
    collectedAt: timestamp('collected_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    content: jsonb('content').notNull(),
    recordedBy: text('recorded_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // The v1 read path for Service.evidence. The evolution plan replaces it online with a covering
  // index (service, kind, collected_at, id); see src/evolution/plans/.
  (t) => [index('evidence_service_idx').on(t.serviceId)],
);

export type EvidenceRow = typeof evidence.$inferSelect;
/**
 * An evidence row without its document, as the page statements read it: `content` is most of
 * what PostgreSQL sends and the replica parses for a page, and pages are read far more often
 * than documents (the gateway's hot path asks for metadata only).
 */
export type EvidenceSummaryRow = Omit<EvidenceRow, 'content'>;
