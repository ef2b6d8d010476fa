import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, createDb, type CreateDbOptions } from "../src/connection.js";
import { ConnectionError } from "../src/db/errors.js";
import { clusterUnavailable, startTestCluster, type TestCluster } from "./support/cluster.js";

// Against a real TLS-only PostgreSQL 15 (.ci/test-cluster.sh: pg_hba has hostssl lines only, and
// the server's certificate, signed by a CA made with openssl, names DNS:localhost only).
const skip = clusterUnavailable();
let cluster: TestCluster;
beforeAll(async () => {
  if (!skip) cluster = await startTestCluster("sensa_tls", 5441);
});
afterAll(async () => {
  await cluster?.stop();
});

/** Runs one query on a fresh pool; returns whether the session is encrypted, or the error. */
async function tryConnect(options: CreateDbOptions): Promise<{ ssl: boolean } | ConnectionError> {
  const db = createDb({ pool: { connectionTimeoutMillis: 5000 }, ...options });
  try {
    const result = (await db.execute(
      sql`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`,
    )) as unknown as pg.QueryResult<{ ssl: boolean }>;
    return result.rows[0]!;
  } catch (error) {
    for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof ConnectionError) return e;
    throw error;
  } finally {
    await closeDb(db);
  }
}

const pgEnv = (env: Record<string, string>) => ({
  PGHOST: "localhost",
  PGPORT: String(cluster.port),
  PGUSER: "postgres",
  PGDATABASE: "postgres",
  ...env,
});

describe.skipIf(skip)(`TLS to a TLS-only server with its own CA${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("connects, encrypted and verified, with verify-full and the CA that signed the server's certificate", async () => {
    expect(await tryConnect({ url: cluster.url })).toEqual({ ssl: true });
  });

  it("takes the mode and CA from PGSSLMODE and PGSSLROOTCERT, as ECS would pass them", async () => {
    expect(await tryConnect({ env: pgEnv({ PGSSLMODE: "verify-full", PGSSLROOTCERT: cluster.caFile }) })).toEqual({
      ssl: true,
    });
  });

  it("takes a custom CA given in code (ssl.ca)", async () => {
    const url = `postgres://postgres@localhost:${cluster.port}/postgres?sslmode=require`;
    expect(await tryConnect({ url, ssl: { ca: readFileSync(cluster.caFile, "utf8") } })).toEqual({ ssl: true });
  });

  it("fails with CONNECTION_TLS naming the server when the CA is the wrong one", async () => {
    const error = await tryConnect({ env: pgEnv({ PGSSLMODE: "verify-full", PGSSLROOTCERT: cluster.otherCaFile }) });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: "CONNECTION_TLS" });
    expect((error as Error).message).toMatch(
      /TLS verification of PostgreSQL postgres@localhost:5441\/postgres.*failed.*other-ca\.crt/,
    );
  });

  it("fails with CONNECTION_TLS under the default CAs (Node's and Amazon RDS's), which never signed a private CA", async () => {
    const error = await tryConnect({ env: pgEnv({ PGSSLMODE: "require" }) });
    expect(error).toMatchObject({
      code: "CONNECTION_TLS",
      message: expect.stringMatching(/Amazon RDS's CAs; pass ssl.ca or PGSSLROOTCERT/),
    });
  });

  it("verify-ca accepts a host name the certificate does not carry; verify-full refuses it", async () => {
    const env = { PGHOST: "127.0.0.1", PGSSLROOTCERT: cluster.caFile };
    expect(await tryConnect({ env: pgEnv({ ...env, PGSSLMODE: "verify-ca" }) })).toEqual({ ssl: true });
    const error = await tryConnect({ env: pgEnv({ ...env, PGSSLMODE: "verify-full" }) });
    expect(error).toMatchObject({
      code: "CONNECTION_TLS",
      message: expect.stringMatching(/ERR_TLS_CERT_ALTNAME_INVALID.*verify-ca/),
    });
  });

  it("is refused without TLS, with a message that says to turn it on", async () => {
    const error = await tryConnect({ env: pgEnv({ PGSSLMODE: "disable" }) });
    expect(error).toMatchObject({
      code: "CONNECTION_REJECTED",
      message: expect.stringMatching(/no encryption.*accepts only TLS: set PGSSLMODE=require/),
    });
  });

  it("sensa-db connects the same way from PG* variables", async () => {
    const { stderr } = await promisify(execFile)("npx", ["tsx", "src/cli/main.ts", "status"], {
      env: { ...process.env, DATABASE_URL: "", ...pgEnv({ PGSSLMODE: "verify-full", PGSSLROOTCERT: cluster.caFile }) },
    });
    expect(stderr).toMatch(
      /using PostgreSQL postgres@localhost:5441\/postgres, TLS verify-full \(from PG\* variables\)/,
    );
  });
});
