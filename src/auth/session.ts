export const ROLES = ['viewer', 'compliance', 'privacy_officer', 'sre', 'auditor', 'ci', 'dp_engine', 'policy_engine'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified token. Absent (null) when no token was sent. */
export interface Session {
  sub: string;
  roles: ReadonlySet<Role>;
  /** Tenant ids the caller may see, or '*' for all. */
  tenants: '*' | ReadonlySet<string>;
  /** Audit engagements an auditor is scoped to. */
  engagements: ReadonlySet<string>;
}
