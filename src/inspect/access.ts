import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { queryRows } from "../db/query.js";

/**
 * What the connected role may see and do, decided once per report. On RDS the owner (the
 * master user) is no superuser: it sees other sessions' queries and full statistics only through
 * `pg_monitor` (which includes `pg_read_all_stats`), and may end other roles' backends only
 * through `pg_signal_backend` (both granted to `rds_superuser`).
 */
export interface Access {
  role: string;
  superuser: boolean;
  /** Member of pg_read_all_stats (pg_monitor includes it): other roles' queries and states are visible. */
  readAllStats: boolean;
  /** Member of pg_signal_backend: may cancel or terminate other roles' backends (not superusers'). */
  signalBackend: boolean;
}

export async function readAccess(db: Queryable): Promise<Access> {
  const [row] = await queryRows(
    db,
    sql`SELECT current_user AS role,
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
      pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats,
      pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal_backend`,
  );
  return {
    role: String(row!.role),
    superuser: Boolean(row!.superuser),
    readAllStats: Boolean(row!.superuser) || Boolean(row!.read_all_stats),
    signalBackend: Boolean(row!.superuser) || Boolean(row!.signal_backend),
  };
}

/** The note a report carries when the role cannot see other roles' sessions in full. */
export const HIDDEN_SESSIONS_NOTE =
  "other roles' queries and states are hidden from this role (shown as <insufficient privilege> / unknown): GRANT pg_monitor TO <this role> to see them (on RDS the master user can grant it to itself)";
