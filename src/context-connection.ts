import type { Transaction as PgliteTx } from "@electric-sql/pglite";
import type { PgDialect } from "drizzle-orm/pg-core";
import { NodePgSession, NodePgTransaction } from "drizzle-orm/node-postgres";
import type pg from "pg";
import type { Database } from "./connection.js";
import type { Transaction } from "./db/transaction.js";
import { ContextClosedError, TransactionControlError } from "./db/database-errors.js";

/**
 * The one door between a context's `tx` and its connection. While the context runs, queries pass;
 * from the moment `fn` settles it is shut, so a query issued later (not awaited inside `fn`, or a
 * query builder awaited after it returned) is refused with ContextClosedError instead of running
 * in whatever transaction the pooled connection serves next.
 */
export class ContextGate {
  private open = true;
  constructor(
    private readonly target: { query: (...args: never[]) => Promise<unknown> },
    /** node-postgres: send every query with the extended protocol, which takes one statement only. */
    private readonly oneStatementPerQuery: boolean,
  ) {}

  query(...args: never[]): Promise<unknown> {
    if (!this.open) return Promise.reject(new ContextClosedError());
    const first = args[0] as unknown;
    const text = typeof first === "string" ? first : (first as { text?: string } | undefined)?.text;
    if (text !== undefined && endsTransaction(text)) return Promise.reject(new TransactionControlError(text));
    if (this.oneStatementPerQuery && typeof first === "object" && first !== null) {
      // A simple-protocol query may hold several statements ("SELECT 1; COMMIT"), which the check
      // above would not see; the extended protocol refuses a second statement.
      (args as unknown[])[0] = { ...first, queryMode: "extended" };
    }
    return this.target.query(...args);
  }

  close(): void {
    this.open = false;
  }

  get isOpen(): boolean {
    return this.open;
  }
}

/**
 * Makes the session's prepared queries refuse to run once the gate is shut, before Drizzle
 * would wrap the gate's refusal in its "Failed query" error: the caller gets ContextClosedError
 * itself. The gate below stays the guarantee that nothing reaches the connection.
 */
function refuseWhenClosed<S extends { prepareQuery: (...args: never[]) => unknown }>(session: S, gate: ContextGate): S {
  const prepare = session.prepareQuery.bind(session);
  session.prepareQuery = ((...args: never[]) => {
    const query = prepare(...args) as Record<string, unknown>;
    for (const method of ["execute", "all", "values"]) {
      const run = query[method];
      if (typeof run !== "function") continue;
      query[method] = (...a: unknown[]) =>
        gate.isOpen ? run.apply(query, a) : Promise.reject(new ContextClosedError());
    }
    return query;
  }) as S["prepareQuery"];
  return session;
}

/**
 * Whether one SQL statement ends (or ends and restarts) the transaction it runs in. Only a
 * top-level statement can (in a function or DO block COMMIT is refused inside a transaction
 * block); savepoint statements (ROLLBACK TO, RELEASE) and a redundant BEGIN do not.
 */
function endsTransaction(statement: string): boolean {
  const code = statement.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, "").toLowerCase();
  if (/^(?:commit|end|abort)\b/.test(code) || /^prepare\s+transaction\b/.test(code)) return true;
  return /^rollback\b/.test(code) && !/^rollback(?:\s+(?:work|transaction))?\s+to\b/.test(code);
}

/** What Drizzle needs to build a transaction object: taken from the database `db` was made with. */
interface DriverParts {
  dialect: PgDialect;
  schema: ConstructorParameters<typeof NodePgTransaction>[2];
  options: object;
}

function driverParts(db: Database): DriverParts {
  // Drizzle keeps these on its session; building the transaction from them (rather than through
  // db.transaction) lets the context own BEGIN/COMMIT and hand `fn` a tx that speaks through the gate.
  const session = db._.session as unknown as DriverParts;
  return { dialect: session.dialect, schema: session.schema, options: session.options ?? {} };
}

/** A Drizzle transaction over a checked-out node-postgres client, speaking through `gate`. */
export function serverTransaction(db: Database, gate: ContextGate): Transaction {
  const { dialect, schema, options } = driverParts(db);
  const session = refuseWhenClosed(new NodePgSession(gate as unknown as pg.PoolClient, dialect, schema, options), gate);
  return new NodePgTransaction(dialect, session, schema) as unknown as Transaction;
}

/** The same over an embedded database's transaction. Loaded on demand: PGlite is optional. */
export async function embeddedTransaction(db: Database, gate: ContextGate): Promise<Transaction> {
  const { PgliteSession, PgliteTransaction } = await import("drizzle-orm/pglite");
  const { dialect, schema, options } = driverParts(db);
  const session = refuseWhenClosed(new PgliteSession(gate as unknown as PgliteTx, dialect, schema, options), gate);
  return new PgliteTransaction(dialect, session, schema) as unknown as Transaction;
}
