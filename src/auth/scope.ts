import { inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { forbidden } from '../errors.js';
import type { Session } from './session.js';

/**
 * The tenants a caller may see, built once per session. Every repo read of tenant-owned data
 * takes one in its signature, so a new resolver, route, export or metric cannot read tenant
 * data without stating whose: the type checker refuses the call otherwise.
 *
 * Semantics: rows of a tenant are visible when the scope holds that tenant; platform-wide rows
 * (no tenant) are visible to every scope; ledger entries and packs, which may concern several
 * tenants, are visible when the scope holds all of them, and tenant-less ones (global) only to
 * an unrestricted scope.
 */
export class TenantScope {
  private constructor(
    /** Sorted tenant ids, or null when unrestricted ('*'). */
    readonly tenants: readonly string[] | null,
    private readonly set: ReadonlySet<string> | null,
  ) {}

  /** For the server's own work (metrics, engines, CLIs acting as the platform). */
  static readonly all = new TenantScope(null, null);

  static of(tenants: '*' | Iterable<string>): TenantScope {
    if (tenants === '*') return TenantScope.all;
    const list = [...new Set(tenants)].sort();
    return new TenantScope(list, new Set(list));
  }

  get unrestricted(): boolean {
    return this.tenants === null;
  }

  /** For SQL `= any(...)` filters: null means no restriction. */
  get filter(): string[] | null {
    return this.tenants === null ? null : [...this.tenants];
  }

  /** A row of `tenantId` (null: platform-wide, visible to all). */
  sees(tenantId: string | null): boolean {
    return tenantId === null || this.set === null || this.set.has(tenantId);
  }

  /** An item concerning all of `tenants` (empty or null: global, unrestricted scopes only). */
  seesAll(tenants: readonly string[] | null): boolean {
    if (this.set === null) return true;
    if (!tenants || tenants.length === 0) return false;
    return tenants.every((t) => this.set?.has(t) === true);
  }

  /** SQL condition on a tenant column of rows that always have a tenant (undefined: no restriction). */
  owns(column: AnyPgColumn): SQL | undefined {
    return this.tenants === null ? undefined : inArray(column, [...this.tenants]);
  }

  /** SQL condition on a nullable tenant column: the scope's tenants' rows and platform-wide ones. */
  ownsOrPlatform(column: AnyPgColumn): SQL | undefined {
    return this.tenants === null ? undefined : or(isNull(column), inArray(column, [...this.tenants]));
  }

  /** SQL condition on a tenant-array column (ledger entries, packs), as seesAll. */
  coversAll(column: AnyPgColumn): SQL | undefined {
    if (this.tenants === null) return undefined;
    const list = sql.join(
      this.tenants.map((x) => sql`${x}`),
      sql`, `,
    );
    return sql`(cardinality(${column}) > 0 and ${column} <@ array[${list}]::text[])`;
  }

  /**
   * An explicit reference to a tenant outside the scope is a denial, not an empty answer. The
   * message does not repeat the id: a denial carries nothing of the other tenant.
   */
  assert(tenantId: string | null, what = 'the tenant'): void {
    if (!this.sees(tenantId)) throw forbidden(`${what} is outside the caller's tenant scope`);
  }
}

const scopes = new WeakMap<Session, TenantScope>();

/** The session's scope, built once per session object (sessions are immutable). */
export function scopeOf(session: Session): TenantScope {
  let s = scopes.get(session);
  if (!s) {
    s = TenantScope.of(session.tenants);
    scopes.set(session, s);
  }
  return s;
}
