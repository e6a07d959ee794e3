import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { services } from '../catalog/tables.js';

export interface SubjectRef {
  name: string;
  /** `sha256:<64 hex>` */
  digest: string;
}

/** A release of a service and the artifacts (subjects) it ships. */
export const releases = pgTable('releases', {
  id: text('id').primaryKey(),
  serviceId: text('service_id')
    .notNull()
    .references(() => services.id),
  version: text('version').notNull(),
  subjects: jsonb('subjects').$type<SubjectRef[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type ReleaseRow = typeof releases.$inferSelect;
