import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit migrate` applies drizzle/ to DATABASE_URL; `npm run db:generate` writes it.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
  migrations: { table: "__drizzle_migrations", schema: "drizzle" },
  strict: true,
  verbose: true,
});
