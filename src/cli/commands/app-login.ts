import { ensureAppLogin } from "../../app-login.js";
import { defineCommand, print } from "../command.js";

/** `sensa-db app-login`: the library's `ensureAppLogin` (app-login.ts), from APP_DB_USER and APP_DB_PASSWORD. */
export const appLoginCommand = defineCommand({
  name: "app-login",
  summary: "create or update the login app services use (a member of sensa_app)",
  usage: `Usage: sensa-db app-login [--iam] [--url <url>]

Creates the role named by APP_DB_USER with the password in APP_DB_PASSWORD (or updates its
password), as a LOGIN member of sensa_app only: subject to row-level security, unable to SET ROLE
admin_role, allowed to CONNECT to this database only, with statement, lock and idle-in-transaction
timeouts. Refuses (exit 1) an existing role that could do more. Run it as the owner after migrate;
the infra's migration task does.
  --iam   also grant rds_iam (Amazon RDS), for IAM token sign-in; APP_DB_PASSWORD may be omitted`,
  options: { iam: { type: "boolean", default: false } },
  async handler(ctx, { iam }) {
    const result = await ensureAppLogin(ctx.db, {
      user: ctx.io.env.APP_DB_USER,
      password: ctx.io.env.APP_DB_PASSWORD,
      iam,
    });
    print(
      ctx,
      { ok: true, ...result },
      `${result.created ? "created" : "updated"} login ${result.user}, a member of sensa_app`,
    );
    return 0;
  },
});
