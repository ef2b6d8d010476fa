// The main entry's whole public API, type-checked as a service sees it (never run): every
// documented function and error class resolves, with real types (not `any`) where pg is involved.
import {
  closeDb,
  ConfigurationError,
  courseSchemas,
  createDb,
  ensureAppLogin,
  findOrCreateUser,
  InheritedOwnerMismatchError,
  migrate,
  MigrationChecksumError,
  MigrationError,
  migrationStatus,
  PermissionDeniedError,
  rollback,
  RollbackError,
  seed,
  SensaDbError,
  ValidationError,
  verify,
  verifyAppliedChecksums,
  withAdmin,
  withUserContext,
  type Course,
  type Database,
  type MigrateResult,
  type MigrationStatus,
  type NewCourse,
  type RollbackResult,
  type SeedResult,
  type VerifyResult,
} from "@sensa-learn/db";
import { courses, users } from "@sensa-learn/db/schema";

type IsAny<T> = 0 extends 1 & T ? true : false;
/** Compiles only when T is not `any`. */
export const notAny = <T>(ok: IsAny<T> extends true ? never : true): true => ok;
notAny<Database["$client"]>(true);
notAny<Parameters<typeof createDb>[0]>(true);
notAny<Course["createdAt"]>(true);

export async function everything(db: Database, reference: Database, userId: string): Promise<void> {
  const m: MigrateResult = await migrate(db);
  const r: RollbackResult = await rollback(db, { dryRun: true });
  const s: MigrationStatus[] = await migrationStatus(db);
  const v: VerifyResult = await verify(db, { reference });
  const last = await verifyAppliedChecksums(db);
  const seeded: SeedResult = await seed(db, { users: 1, seed: 7 });
  const login: { user: string; created: boolean } = await ensureAppLogin(db, {
    user: "svc",
    password: "a-long-password-123",
  });
  const draft: NewCourse = courseSchemas.insert.parse({ userId, title: "Biology" });
  const mine: Course[] = await withUserContext(db, userId, (tx) => tx.insert(courses).values(draft).returning());
  const all = await withAdmin(db, (tx) => tx.select({ id: users.id }).from(users));
  console.log(
    m.applied,
    r.steps,
    s,
    v.clean,
    last?.name,
    seeded.totalRows,
    seeded.load.restore?.foreignKeys,
    login.user,
    mine,
    all,
  );
  const user = await findOrCreateUser(db, { cognitoSub: "sub-1", email: "ana@example.com", displayName: "Ana" });
  console.log(user);
  for (const E of [
    SensaDbError,
    ValidationError,
    ConfigurationError,
    MigrationError,
    MigrationChecksumError,
    RollbackError,
    PermissionDeniedError,
    InheritedOwnerMismatchError,
  ]) {
    console.log(E.name);
  }
  await closeDb(db);
}
