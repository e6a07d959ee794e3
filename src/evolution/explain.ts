import type { MaybeRow, PendingQuery, Sql } from 'postgres';
import { digestJson } from '../util/canonical.js';

/** The part of an EXPLAIN (FORMAT JSON) node that makes a plan what it is. */
interface PlanNode {
  'Node Type'?: unknown;
  'Index Name'?: unknown;
  Plans?: unknown;
}

export interface PlanShape {
  /** One line per node, pre-order, indented by depth: node type and index name. */
  nodes: string[];
  /** Index names read anywhere in the plan. */
  indexes: string[];
  /** sha256 of the canonical JSON of `nodes`. */
  fingerprint: string;
}

/**
 * The shape of a plan: node types and index names in tree order, without costs, row estimates,
 * aliases or timings, so the fingerprint moves when the planner picks another strategy or index
 * and stays put when only the statistics drift.
 */
export function planShape(explain: unknown): PlanShape {
  const parsed: unknown = typeof explain === 'string' ? JSON.parse(explain) : explain;
  const root = Array.isArray(parsed) ? (parsed[0] as { Plan?: unknown } | undefined)?.Plan : (parsed as { Plan?: unknown } | null)?.Plan;
  if (!root || typeof root !== 'object') throw new TypeError('not an EXPLAIN (FORMAT JSON) document');
  const nodes: string[] = [];
  const indexes = new Set<string>();
  const walk = (node: PlanNode, depth: number) => {
    const type = typeof node['Node Type'] === 'string' ? node['Node Type'] : '?';
    const index = typeof node['Index Name'] === 'string' ? node['Index Name'] : null;
    if (index) indexes.add(index);
    nodes.push(`${' '.repeat(depth * 2)}${type}${index ? ` using ${index}` : ''}`);
    if (Array.isArray(node.Plans)) for (const child of node.Plans) walk(child as PlanNode, depth + 1);
  };
  walk(root as PlanNode, 0);
  return { nodes, indexes: [...indexes].sort(), fingerprint: digestJson(nodes) };
}

/** EXPLAIN (FORMAT JSON) of an unexecuted statement, with its parameters bound as it would run. */
export async function explainShape<T extends readonly MaybeRow[]>(sql: Sql, statement: PendingQuery<T>): Promise<PlanShape> {
  const rows = await sql<{ 'QUERY PLAN': unknown }[]>`explain (format json) ${statement}`;
  return planShape(rows[0]?.['QUERY PLAN']);
}
