import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { queryRows } from "../db/query.js";

/**
 * Grants name the table owner, which differs between two databases built by different users:
 * it is written as (owner). A table never granted on has a NULL ACL meaning the default, which
 * is spelled out so that granting and revoking again compares equal.
 *
 * A normalised dump of what a database's schema holds, one line per object: tables, columns,
 * types, indexes, constraints, policies, functions, triggers, grants and extensions of the
 * public schema (plus this package's trigger on Drizzle's bookkeeping). Two databases built by
 * the same migrations give the same lines, so a difference is drift. Data, statistics, OIDs and
 * the migrations' own bookkeeping rows are left out.
 */
export async function catalogSnapshot(db: Queryable): Promise<Map<string, string>> {
  const rows = await queryRows(db, sql.raw(CATALOG_QUERY));
  return new Map(rows.map((r) => [String(r.key), String(r.definition)]));
}

export interface CatalogDiff {
  /** In the database, not produced by the migrations. */
  extra: string[];
  /** Produced by the migrations, not in the database. */
  missing: string[];
  /** In both, defined differently: `key: live ≠ expected`. */
  changed: string[];
}

export function diffCatalogs(live: Map<string, string>, expected: Map<string, string>): CatalogDiff {
  const extra = [...live.keys()].filter((k) => !expected.has(k)).sort();
  const missing = [...expected.keys()].filter((k) => !live.has(k)).sort();
  const changed = [...live.keys()]
    .filter((k) => expected.has(k) && expected.get(k) !== live.get(k))
    .sort()
    .map((k) => `${k}: ${live.get(k)} ≠ ${expected.get(k)}`);
  return { extra, missing, changed };
}

export const isClean = (d: CatalogDiff) => d.extra.length + d.missing.length + d.changed.length === 0;

const CATALOG_QUERY = `
WITH ns AS (SELECT 'public'::regnamespace AS oid)
SELECT 'extension ' || extname AS key, '' AS definition FROM pg_extension WHERE extname <> 'plpgsql'
UNION ALL
SELECT 'table ' || c.relname, concat_ws(' ', 'rls=' || c.relrowsecurity, 'force=' || c.relforcerowsecurity,
  'acl=' || array_to_string(array(SELECT replace(a::text, pg_get_userbyid(c.relowner), '(owner)') FROM unnest(coalesce(c.relacl, acldefault('r', c.relowner))) a ORDER BY 1), ','))
FROM pg_class c, ns WHERE c.relnamespace = ns.oid AND c.relkind IN ('r', 'p', 'v', 'm')
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname,
  concat_ws(' ', format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'not null' END,
    'default ' || pg_get_expr(d.adbin, d.adrelid), CASE WHEN a.attidentity <> '' THEN 'identity ' || a.attidentity::text END,
    'acl=' || array_to_string(array(SELECT replace(x::text, pg_get_userbyid(c.relowner), '(owner)') FROM unnest(a.attacl) x ORDER BY 1), ','))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON c.relnamespace = ns.oid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'type ' || t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid, ns WHERE t.typnamespace = ns.oid GROUP BY t.typname
UNION ALL
SELECT 'index ' || i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN ns ON i.relnamespace = ns.oid
UNION ALL
SELECT 'constraint ' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN ns ON c.relnamespace = ns.oid
WHERE k.contype <> 'n' -- PostgreSQL 18 lists NOT NULL as constraints too; the column line has it
UNION ALL
SELECT 'policy ' || c.relname || '.' || p.polname,
  concat_ws(' ', p.polcmd::text, p.polpermissive::text, array_to_string(array(SELECT CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END FROM unnest(p.polroles) r ORDER BY 1), ','),
    'using ' || pg_get_expr(p.polqual, p.polrelid), 'check ' || pg_get_expr(p.polwithcheck, p.polrelid))
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON c.relnamespace = ns.oid
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  concat_ws(' ', pg_get_function_result(p.oid), p.provolatile::text, CASE WHEN p.prosecdef THEN 'security definer' END,
    array_to_string(p.proconfig, ','), md5(p.prosrc))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE (n.nspname = 'public' OR (n.nspname = 'drizzle' AND p.proname = 'log_migration'))
  AND NOT EXISTS (SELECT FROM pg_depend dep WHERE dep.objid = p.oid AND dep.deptype = 'e')
UNION ALL
SELECT 'trigger ' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname IN ('public', 'drizzle')
`;
