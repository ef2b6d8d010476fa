import pg from "pg";
import { sql } from "drizzle-orm";
import { withAdmin, type Database } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { round, summarise } from "./timing.js";

/**
 * What row-level security costs per statement: each pair is a query as a user under RLS (the
 * policies filter) and the same query with the filter spelled out, as a role that bypasses RLS
 * (the superuser). Both sides run on connections of their own, each in one open transaction (the
 * context is set once, as a request would), through the same protocol (extended: parse, bind,
 * execute: planned again every time, as the app's statements are). The sides alternate, which
 * one goes first swapping every sample, so the machine's drift falls on both alike; the figures
 * are p50s of many samples. The plans of both sides are recorded: they are the same scan, the
 * RLS side adding one InitPlan (the context function, once per statement).
 *
 * A second instrument times the same pairs inside the server (a PL/pgSQL loop EXECUTEs each
 * statement: parse, rewrite, plan and run, no client round trip), so what the policy costs is
 * seen without the network and the client's scheduling.
 */
export async function rlsSuite(
  db: Database,
  superuser: pg.ClientConfig,
  options: { samples: number; log: (s: string) => void },
) {
  const [sample] = await withAdmin(db, (tx) =>
    queryRows(tx, sql`SELECT c.user_id, c.id AS course_id FROM courses c ORDER BY c.id LIMIT 1`),
  );
  const user = String(sample!.user_id);
  const course = String(sample!.course_id);
  const pairs: Record<string, { rls: [string, unknown[]]; explicit: [string, unknown[]] }> = {
    my_courses: {
      rls: ["SELECT id, title FROM courses", []],
      explicit: ["SELECT id, title FROM courses WHERE user_id = $1::uuid", [user]],
    },
    my_course_keywords: {
      rls: ["SELECT id, term FROM keywords WHERE course_id = $1::uuid", [course]],
      explicit: ["SELECT id, term FROM keywords WHERE course_id = $1::uuid AND user_id = $2::uuid", [course, user]],
    },
    my_documents_by_status: {
      rls: ["SELECT processing_status, count(*) FROM course_documents GROUP BY 1", []],
      explicit: [
        "SELECT processing_status, count(*) FROM course_documents WHERE user_id = $1::uuid GROUP BY 1",
        [user],
      ],
    },
  };

  const asUser = new pg.Client(superuser);
  const bypass = new pg.Client(superuser);
  await asUser.connect();
  await bypass.connect();
  const results: Record<string, unknown> = {};
  try {
    await asUser.query("BEGIN");
    // As withUserContext sets it: the user, the pinned search_path, then the app's role.
    await asUser.query(
      "SELECT set_config('app.current_user_id', $1, true), set_config('search_path', 'public, pg_temp', true), set_config('role', 'sensa_app', true)",
      [user],
    );
    await bypass.query("BEGIN");
    const query = (c: pg.Client, [text, values]: [string, unknown[]]) =>
      c.query({ text, values, queryMode: "extended" } as pg.QueryConfig);
    for (const [name, pair] of Object.entries(pairs)) {
      options.log(`rls: ${name}`);
      const [a, b] = [await query(asUser, pair.rls), await query(bypass, pair.explicit)];
      if (a.rowCount !== b.rowCount)
        throw new Error(`rls ${name}: ${a.rowCount} rows under RLS, ${b.rowCount} with the explicit filter`);
      const plan = async (c: pg.Client, [text, values]: [string, unknown[]]) =>
        (
          await c.query({ text: `EXPLAIN (COSTS OFF) ${text}`, values, queryMode: "extended" } as pg.QueryConfig)
        ).rows.map((r) => String(r["QUERY PLAN"]));
      const plans = {
        with_rls: await plan(asUser, pair.rls),
        bypass_explicit_filter: await plan(bypass, pair.explicit),
      };
      for (let i = 0; i < 200; i++) {
        await query(asUser, pair.rls);
        await query(bypass, pair.explicit);
      }
      const ta: number[] = [];
      const tb: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        for (const side of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const t = performance.now();
          if (side === 0) await query(asUser, pair.rls);
          else await query(bypass, pair.explicit);
          (side === 0 ? ta : tb).push(performance.now() - t);
        }
      }
      const [withRls, explicit] = [summarise(ta), summarise(tb)];
      results[name] = {
        with_rls: withRls,
        bypass_explicit_filter: explicit,
        ratio: round(withRls.p50_ms / explicit.p50_ms, 3),
        overhead_us: round((withRls.p50_ms - explicit.p50_ms) * 1000, 1),
        server_side: await serverSide(bypass, pair, user, options.samples),
        plans,
      };
    }
  } finally {
    await asUser.end();
    await bypass.end();
  }
  const measured = Object.values(results) as Array<{
    ratio: number;
    overhead_us: number;
    server_side: { overhead_us: number };
  }>;
  return {
    ...results,
    overhead_ratio: Math.max(...measured.map((m) => m.ratio)),
    overhead_us: Math.max(...measured.map((m) => m.overhead_us)),
    server_side_overhead_us: Math.max(...measured.map((m) => m.server_side.overhead_us)),
    note: "worst of the query pairs; p50 of interleaved samples through the extended protocol; server_side: the same statements EXECUTEd in a server loop",
  };
}

/**
 * The pair timed inside the server: a PL/pgSQL loop EXECUTEs (no plan cache) the RLS statement as
 * sensa_app in the user's context and the explicit one as the superuser, alternately, with
 * clock_timestamp() around each; the p50s of both. The bypass connection's transaction is used,
 * and its role put back after.
 */
async function serverSide(
  c: pg.Client,
  pair: { rls: [string, unknown[]]; explicit: [string, unknown[]] },
  user: string,
  samples: number,
) {
  // Both statements take the same two uuid parameters ($1 course or user, $2 user) inside the loop.
  const bind = ([text, values]: [string, unknown[]]) =>
    text.replace(/\$(\d)/g, (_, n: string) => (values[Number(n) - 1] === user ? "$2" : "$1"));
  const args = [pair.rls, pair.explicit].flatMap(([, v]) => v).find((v) => v !== user) ?? user;
  await c.query("SAVEPOINT rls_server_side");
  try {
    await c.query(`
      CREATE FUNCTION pg_temp.rls_pair(qa text, qb text, first uuid, uid uuid, n int) RETURNS TABLE (a float8, b float8) LANGUAGE plpgsql AS $f$
      DECLARE ta float8[] := '{}'; tb float8[] := '{}'; t0 timestamptz; r record;
      BEGIN
        PERFORM set_config('app.current_user_id', uid::text, true);
        PERFORM set_config('search_path', 'public, pg_temp', true);
        FOR i IN 1..n + 100 LOOP
          FOR side IN 0..1 LOOP
            IF (side + i) % 2 = 0 THEN
              PERFORM set_config('role', 'sensa_app', true);
              t0 := clock_timestamp(); EXECUTE qa INTO r USING first, uid;
              IF i > 100 THEN ta := ta || extract(epoch FROM clock_timestamp() - t0) * 1e6; END IF;
              PERFORM set_config('role', 'none', true);
            ELSE
              t0 := clock_timestamp(); EXECUTE qb INTO r USING first, uid;
              IF i > 100 THEN tb := tb || extract(epoch FROM clock_timestamp() - t0) * 1e6; END IF;
            END IF;
          END LOOP;
        END LOOP;
        RETURN QUERY SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ta) x), (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(tb) x);
      END $f$`);
    // EXECUTE ... INTO takes the first row; wrapping in count(*) reads every row, as the client does.
    const wrap = (text: string) =>
      `SELECT count(*) FROM (${text}) s WHERE $1::uuid IS NOT NULL OR $2::uuid IS NOT NULL`;
    const { rows } = await c.query("SELECT * FROM pg_temp.rls_pair($1, $2, $3, $4, $5)", [
      wrap(bind(pair.rls)),
      wrap(bind(pair.explicit)),
      args,
      user,
      samples,
    ]);
    const { a, b } = rows[0] as { a: number; b: number };
    return {
      with_rls_us: round(a, 1),
      bypass_explicit_filter_us: round(b, 1),
      ratio: round(a / b, 3),
      overhead_us: round(a - b, 1),
    };
  } finally {
    await c.query("ROLLBACK TO SAVEPOINT rls_server_side");
  }
}
