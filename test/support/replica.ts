import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, "../../.ci/replica-and-pooler.sh");
/** Held shared by every user of the standby and pgbouncer (see the script); `stop --if-unused` needs it exclusive. */
const USERS_LOCK = "/tmp/sensa-replica-users.lock";

/** The hot standby (5442) and pgbouncer (6432) that .ci/replica-and-pooler.sh runs in front of the primary. */
export interface ReplicaAndPooler {
  /** Superuser on the standby, `postgres` database. */
  replicaAdminUrl: string;
  /** Superuser through pgbouncer (transaction mode) to the primary, `postgres` database. */
  poolerAdminUrl: string;
  /** The standby's cluster, for pg_ctlcluster (stop it to see the fallback, start it again). */
  cluster: { version: "15"; name: string };
  /** Lets go of them; stops them when no other run uses them. */
  release(): Promise<void>;
}

/** Why the standby and pgbouncer cannot run here, or undefined when they can. */
export function replicaAndPoolerUnavailable(): string | undefined {
  const server = inject("testServer");
  if (!server) return "needs a PostgreSQL server run (TEST_DATABASE_URL): the embedded run has no primary to replicate";
  const port = new URL(server.adminUrl).port || "5432";
  if (!["127.0.0.1", "localhost"].includes(new URL(server.adminUrl).hostname) || port !== "5432") {
    return "the standby streams from the local primary on 127.0.0.1:5432; TEST_DATABASE_URL points elsewhere";
  }
  if (process.getuid?.() !== 0) return "starting a hot standby and pgbouncer needs root (pg_createcluster, runuser)";
  if (!existsSync("/usr/bin/pg_createcluster") || !existsSync("/usr/lib/postgresql/15/bin/pg_basebackup"))
    return "needs Debian's PostgreSQL 15 (pg_createcluster, pg_basebackup)";
  if (!existsSync("/usr/sbin/pgbouncer"))
    return "needs Debian's pgbouncer (apt-get install pgbouncer; .ci/run installs it)";
  return undefined;
}

/**
 * Starts the standby and pgbouncer when they are not running (`.ci/run` starts them before the
 * tests; a lone `vitest run test/replicas.test.ts` gets them here), and holds a shared lock on
 * them until `release()`, so another run's stop leaves them alone meanwhile.
 */
export async function useReplicaAndPooler(): Promise<ReplicaAndPooler> {
  const lock = await sharedLock();
  try {
    const { stdout } = await run("bash", [SCRIPT, "start"], { timeout: 170_000 });
    const [replicaAdminUrl, poolerAdminUrl] = stdout.trim().split("\n").slice(-2);
    return {
      replicaAdminUrl: replicaAdminUrl!,
      poolerAdminUrl: poolerAdminUrl!,
      cluster: { version: "15", name: "sensa_replica" },
      release: async () => {
        lock.stdin?.end();
        await new Promise((resolve) => lock.once("exit", resolve));
        await run("bash", [SCRIPT, "stop", "--if-unused"]);
      },
    };
  } catch (error) {
    lock.stdin?.end();
    throw error;
  }
}

function sharedLock(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn("flock", ["-s", USERS_LOCK, "-c", "echo locked; exec cat >/dev/null"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.once("data", () => resolve(child));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`flock exited ${code}`)));
  });
}

/**
 * With TEST_POOLER_URL set (e.g. `postgres://127.0.0.1:6432`), the harness's owner and app
 * connections to a test database go through that pooler (the superuser's stay direct): how
 * `.ci/run` runs the RLS and context-isolation suites behind pgbouncer in transaction mode.
 */
export function throughPooler(url: string): string {
  const pooler = process.env.TEST_POOLER_URL;
  if (!pooler) return url;
  const u = new URL(url);
  const p = new URL(pooler);
  u.hostname = p.hostname;
  u.port = p.port;
  return u.toString();
}
