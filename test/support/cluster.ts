import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, "../../.ci/test-cluster.sh");

/** A TLS-only PostgreSQL 15 cluster of our own (.ci/test-cluster.sh), to restart and to test TLS on. */
export interface TestCluster {
  port: number;
  /** The CA that signed the server's certificate (which names DNS:localhost only). */
  caFile: string;
  /** A CA that did not. */
  otherCaFile: string;
  /** `postgres://postgres@localhost:<port>/postgres?sslmode=verify-full&sslrootcert=<ca>` */
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Why a test cluster cannot run here, or undefined when it can. */
export function clusterUnavailable(): string | undefined {
  if (!inject("testServer"))
    return "needs a PostgreSQL server run (TEST_DATABASE_URL): the embedded run has no server to start";
  if (process.getuid?.() !== 0) return "starting a second PostgreSQL cluster needs root (pg_createcluster)";
  if (!existsSync("/usr/bin/pg_createcluster") || !existsSync("/usr/lib/postgresql/15/bin/postgres"))
    return "needs Debian's PostgreSQL 15 (pg_createcluster)";
  return undefined;
}

/**
 * Creates and starts cluster `name` on `port`, holding a lock for as long as the test file uses it,
 * so two test runs on this machine (other engineers', CI) take turns instead of restarting each
 * other's server. The lock is a `flock` child process: if this process dies, so does the lock.
 */
export async function startTestCluster(name: string, port: number): Promise<TestCluster> {
  const lock = await acquireLock(`/tmp/sensa-cluster-${name}.lock`);
  try {
    const { stdout } = await run("bash", [SCRIPT, "start", name, String(port)]);
    const dir = stdout.trim().split("\n").at(-1)!;
    const caFile = join(dir, "ca.crt");
    return {
      port,
      caFile,
      otherCaFile: join(dir, "other-ca.crt"),
      url: `postgres://postgres@localhost:${port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`,
      restart: async () => void (await run("bash", [SCRIPT, "restart", name])),
      stop: async () => {
        try {
          await run("bash", [SCRIPT, "stop", name]);
        } finally {
          lock.stdin?.end();
        }
      },
    };
  } catch (error) {
    lock.stdin?.end();
    throw error;
  }
}

function acquireLock(file: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn("flock", ["-x", file, "-c", "echo locked; exec cat >/dev/null"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.once("data", () => resolve(child));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`flock exited ${code}`)));
  });
}
