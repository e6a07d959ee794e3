import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** The local service catalog (service -> team), kept in step with the core subgraph. */
export const services = pgTable('services', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  team: text('team').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type ServiceRow = typeof services.$inferSelect;
