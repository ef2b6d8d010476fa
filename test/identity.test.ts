import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  createDb,
  findOrCreateUser,
  PermissionDeniedError,
  RowLevelSecurityError,
  UniqueViolationError,
  users,
  withAdmin,
  withUserContext,
  type Database,
  type Queryable,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { createUser } from "./support/fixtures.js";

// Issue 10, point 6: the app login signs users up and finds them, with nothing more than
// sensa_app's rights. On the server the sign-in runs as the app login itself; on PGlite, whose
// one session is a superuser, it runs inside a context acting as sensa_app.

let t: TestDatabase;
let app: Database;
let other: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  t = await openTestDatabase();
  app = t.appUrl ? createDb({ url: t.appUrl }) : t.db;
  other = await createUser(t.db);
});
afterAll(async () => {
  if (app !== t.db) await closeDb(app);
  await t?.close();
});

/** As the app: the login itself on a server, sensa_app in a context on PGlite. */
const asApp = <T>(fn: (db: Queryable) => Promise<T>) =>
  onServer() ? fn(app) : withUserContext(t.db, randomUUID(), fn);
const newSub = () => `cognito-${randomUUID()}`;

describe("findOrCreateUser", () => {
  it("creates the user on first sign-in, with role 'user', and finds the same row afterwards", async () => {
    const cognitoSub = newSub();
    const first = await asApp((db) =>
      findOrCreateUser(db, { cognitoSub, email: `${cognitoSub}@example.com`, displayName: "Ana" }),
    );
    expect(first).toMatchObject({ cognitoSub, email: `${cognitoSub}@example.com`, displayName: "Ana", role: "user" });
    expect(first.createdAt).toBeInstanceOf(Date);
    const again = await asApp((db) => findOrCreateUser(db, { cognitoSub, email: "changed@example.com" }));
    expect(again).toEqual(first);
  });

  it("tells a new sub whose email another user has only that the email is registered", async () => {
    const error = await asApp((db) => findOrCreateUser(db, { cognitoSub: newSub(), email: other.email })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect((error as UniqueViolationError).constraint).toBe("users_email_unique");
    expect(String((error as Error).message)).not.toContain(other.id);
    expect(String((error as Error).message)).not.toContain(other.cognitoSub);
  });

  it("runs as admin_role with a pinned search_path, and only sensa_app (and its owner) may call it", async () => {
    const [f] = await queryRows(
      t.db,
      sql`SELECT pg_get_userbyid(proowner) AS owner, prosecdef AS definer, array_to_string(proconfig, ',') AS config,
            has_function_privilege('sensa_app', oid, 'EXECUTE') AS app_may_call
          FROM pg_proc WHERE oid = 'find_or_create_user(text, text, text)'::regprocedure`,
    );
    expect(f).toEqual({
      owner: "admin_role",
      definer: true,
      config: "search_path=public, pg_temp",
      app_may_call: true,
    });
  });
});

describe("users through Drizzle in a user's context", () => {
  it("the app inserts its own user's row, role left to its default", async () => {
    const id = randomUUID();
    const [row] = await withUserContext(t.db, id, (tx) =>
      tx
        .insert(users)
        .values({ id, cognitoSub: newSub(), email: `${id}@example.com` })
        .returning(),
    );
    expect(row).toMatchObject({ id, role: "user" });
  });

  it("cannot insert a row with a role of its choosing", async () => {
    const id = randomUUID();
    const attempt = withUserContext(t.db, id, (tx) =>
      tx.insert(users).values({ id, cognitoSub: newSub(), email: `${id}@example.com`, role: "admin" }),
    );
    await expect(attempt).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it("cannot change its own role", async () => {
    const me = await createUser(t.db);
    const attempt = withUserContext(t.db, me.id, (tx) =>
      tx.update(users).set({ role: "moderator" }).where(eq(users.id, me.id)),
    );
    await expect(attempt).rejects.toBeInstanceOf(PermissionDeniedError);
    const [after] = await withAdmin(t.db, (tx) =>
      tx.select({ role: users.role }).from(users).where(eq(users.id, me.id)),
    );
    expect(after!.role).toBe("user");
  });

  it("cannot read, claim or edit another user's row", async () => {
    const me = randomUUID();
    await withUserContext(t.db, me, async (tx) => {
      expect(await tx.select().from(users).where(eq(users.id, other.id))).toEqual([]);
      expect(
        await tx.update(users).set({ email: "stolen@example.com" }).where(eq(users.id, other.id)).returning(),
      ).toEqual([]);
    });
    const claim = withUserContext(t.db, me, (tx) =>
      tx.insert(users).values({ id: other.id, cognitoSub: newSub(), email: `${me}@example.com` }),
    );
    await expect(claim).rejects.toBeInstanceOf(RowLevelSecurityError);
  });
});
