import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { closeDb, createDb } from "../../src/connection.js";
import { migrate } from "../../src/migrations/migrate.js";
import {
  createOwnedDatabase,
  dropDatabase,
  dropStaleDatabases,
  ensureAppLogin,
  ensureOwnerRole,
  TEMPLATE,
  type ServerTarget,
} from "./server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** null: tests run on embedded PGlite. */
    testServer: ServerTarget | null;
  }
}

/**
 * Picks the database the suite runs on, in order: TEST_DATABASE_URL, a Testcontainers
 * PostgreSQL when a Docker engine answers, else embedded PGlite (each file starts its own).
 * On a server, one template database is migrated here by a non-superuser owner; each test
 * file then gets its own copy (CREATE DATABASE ... TEMPLATE), so files never share data.
 */
export default async function setup(project: TestProject) {
  // Test files run in child processes: they name their databases after this (the parent) process.
  process.env.SENSA_TEST_RUN = String(process.pid);
  let stop: (() => Promise<unknown>) | undefined;
  let target: ServerTarget | null = null;
  if (process.env.TEST_DATABASE_URL) {
    target = { adminUrl: process.env.TEST_DATABASE_URL, source: "TEST_DATABASE_URL" };
  } else if (process.env.DOCKER_HOST || existsSync("/var/run/docker.sock")) {
    try {
      const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
      const container = await new PostgreSqlContainer("pgvector/pgvector:pg15").start();
      target = { adminUrl: container.getConnectionUri(), source: "Testcontainers pgvector/pgvector:pg15" };
      stop = () => container.stop();
    } catch (error) {
      console.warn(`Docker did not start a PostgreSQL container (${(error as Error).message}); using embedded PGlite`);
    }
  }
  if (target) {
    await ensureOwnerRole(target.adminUrl);
    await dropStaleDatabases(target.adminUrl);
    const db = createDb({ url: await createOwnedDatabase(target.adminUrl, TEMPLATE) });
    try {
      await migrate(db);
    } finally {
      await closeDb(db);
    }
    await ensureAppLogin(target.adminUrl);
    console.log(`tests run on PostgreSQL from ${target.source}`);
  } else {
    console.log("tests run on embedded PGlite (set TEST_DATABASE_URL to use a server)");
  }
  project.provide("testServer", target);
  return async () => {
    if (target) await dropDatabase(target.adminUrl, TEMPLATE);
    await stop?.();
  };
}
