import pg from "pg";
import { sql } from "drizzle-orm";
import { withAdmin, type Database } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { round, summarise } from "./timing.js";

/**
 * What row-level security costs per statement: each pair is a query as a user under RLS (the
 * policies filter) and the same query with the filter spelled out, as a role that bypasses RLS
 * (the superuser). Both go through the same protocol (extended: parse, bind, execute: planned
 * again every time, as the app's statements are), on two connections, each side in an open
 * transaction (the context is set once, as a request would). The sides alternate sample by sample,
 * which one goes first swapping every sample, so the machine's drift falls on both alike; and they
 * trade connections every block of samples, so whatever one connection costs more than the other
 * (its backend's core, its memory) falls on both alike too: with each side fixed to a connection,
 * the same statement measured up to 50 µs apart from one run to the next. The figures are p50s of
 * many samples. The plans of both sides are recorded: they are the same scan, the RLS side adding
 * one InitPlan (the context function, once per statement).
 *
 * A second instrument times the same pairs inside the server (a PL/pgSQL loop EXECUTEs each
 * statement: parse, rewrite, plan and run, no client round trip), so what the policy costs is
 * seen without the network and the client's scheduling.
 */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * What many blocks of both sides say: the median over blocks of the RLS side's time over the
 * explicit side's, and of their difference (in the unit given). Each block pairs the sides under
 * the same conditions. A backend's speed depends on its history: one whose glibc heap has taken to
 * trimming and growing again pays page faults on every statement (perf: brk, memset, the kernel's
 * fault path), and the same statement measured 60 µs on one backend and 200 µs on another. With the
 * sides' overall p50s, whichever side drew such a backend looked slower by tens of µs; the median
 * of the blocks' differences is not moved by a few such blocks.
 */
function paired(blocks: Array<[number, number]>, toMicroseconds: number) {
  return {
    ratio: round(median(blocks.map(([a, b]) => a / b)), 3),
    overhead_us: round(median(blocks.map(([a, b]) => (a - b) * toMicroseconds)), 1),
    blocks: blocks.length,
  };
}

/** Statements each new connection runs before its samples count (its caches filled). */
const WARM_UP = 50;

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

  const query = (c: pg.Client, [text, values]: [string, unknown[]]) =>
    c.query({ text, values, queryMode: "extended" } as pg.QueryConfig);
  /**
   * One block: two new connections (backends), one in the user's context as withUserContext sets
   * it, the other bypassing RLS, each in a transaction.
   */
  const block = async <T>(run: (asUser: pg.Client, bypass: pg.Client) => Promise<T>) => {
    const asUser = new pg.Client(superuser);
    const bypass = new pg.Client(superuser);
    try {
      await asUser.connect();
      await bypass.connect();
      await asUser.query("BEGIN");
      await bypass.query("BEGIN");
      await asUser.query(
        "SELECT set_config('app.current_user_id', $1, true), set_config('search_path', 'public, pg_temp', true), set_config('role', 'sensa_app', true)",
        [user],
      );
      return await run(asUser, bypass);
    } finally {
      await asUser.end();
      await bypass.end();
    }
  };
  const perBlock = 50;
  const results: Record<string, unknown> = {};
  for (const [name, pair] of Object.entries(pairs)) {
    options.log(`rls: ${name}`);
    const plans = await block(async (asUser, bypass) => {
      const [a, b] = [await query(asUser, pair.rls), await query(bypass, pair.explicit)];
      if (a.rowCount !== b.rowCount)
        throw new Error(`rls ${name}: ${a.rowCount} rows under RLS, ${b.rowCount} with the explicit filter`);
      const plan = async (c: pg.Client, [text, values]: [string, unknown[]]) =>
        (
          await c.query({ text: `EXPLAIN (COSTS OFF) ${text}`, values, queryMode: "extended" } as pg.QueryConfig)
        ).rows.map((r) => String(r["QUERY PLAN"]));
      return {
        with_rls: await plan(asUser, pair.rls),
        bypass_explicit_filter: await plan(bypass, pair.explicit),
      };
    });
    const ta: number[] = [];
    const tb: number[] = [];
    const blocks: Array<[number, number]> = []; // each block's p50s, RLS and explicit
    for (let k = 0; k < Math.ceil(options.samples / perBlock); k++) {
      const [a, b] = [ta.length, tb.length];
      await block(async (asUser, bypass) => {
        for (let i = -WARM_UP; i < perBlock; i++) {
          for (const side of i % 2 === 0 ? [0, 1] : [1, 0]) {
            const t = performance.now();
            if (side === 0) await query(asUser, pair.rls);
            else await query(bypass, pair.explicit);
            if (i >= 0) (side === 0 ? ta : tb).push(performance.now() - t);
          }
        }
      });
      blocks.push([median(ta.slice(a)), median(tb.slice(b))]);
    }
    const [withRls, explicit] = [summarise(ta), summarise(tb)];
    const server = new pg.Client(superuser);
    await server.connect();
    try {
      results[name] = {
        with_rls: withRls,
        bypass_explicit_filter: explicit,
        ...paired(blocks, 1000),
        server_side: await serverSide(server, pair, user, options.samples),
        plans,
      };
    } finally {
      await server.end();
    }
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
 * sensa_app in the user's context and the explicit one as the superuser, in alternating blocks of
 * 100 (a role switch costs the next statement a search_path lookup, so not every statement may
 * follow one), with clock_timestamp() around each block: the medians of the blocks' means, and
 * what the blocks say paired. On a new connection, in a transaction of its own, rolled back.
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
  await c.query("BEGIN");
  try {
    await c.query(`
      CREATE FUNCTION pg_temp.rls_pair(qa text, qb text, first uuid, uid uuid, blocks int, per int) RETURNS TABLE (a float8[], b float8[]) LANGUAGE plpgsql AS $f$
      DECLARE ta float8[] := '{}'; tb float8[] := '{}'; t0 timestamptz; r record;
      BEGIN
        PERFORM set_config('app.current_user_id', uid::text, true);
        PERFORM set_config('search_path', 'public, pg_temp', true);
        FOR k IN 1..blocks + 2 LOOP
          FOR side IN 0..1 LOOP
            IF (side + k) % 2 = 0 THEN
              PERFORM set_config('role', 'sensa_app', true);
              t0 := clock_timestamp();
              FOR i IN 1..per LOOP EXECUTE qa INTO r USING first, uid; END LOOP;
              IF k > 2 THEN ta := ta || extract(epoch FROM clock_timestamp() - t0) * 1e6 / per; END IF;
              PERFORM set_config('role', 'none', true);
            ELSE
              t0 := clock_timestamp();
              FOR i IN 1..per LOOP EXECUTE qb INTO r USING first, uid; END LOOP;
              IF k > 2 THEN tb := tb || extract(epoch FROM clock_timestamp() - t0) * 1e6 / per; END IF;
            END IF;
          END LOOP;
        END LOOP;
        RETURN QUERY SELECT ta, tb;
      END $f$`);
    // EXECUTE ... INTO takes the first row; wrapping in count(*) reads every row, as the client does.
    const wrap = (text: string) =>
      `SELECT count(*) FROM (${text}) s WHERE $1::uuid IS NOT NULL OR $2::uuid IS NOT NULL`;
    const per = 100;
    const { rows } = await c.query("SELECT * FROM pg_temp.rls_pair($1, $2, $3, $4, $5, $6)", [
      wrap(bind(pair.rls)),
      wrap(bind(pair.explicit)),
      args,
      user,
      Math.max(10, Math.ceil(samples / per)),
      per,
    ]);
    const { a, b } = rows[0] as { a: number[]; b: number[] };
    return {
      with_rls_us: round(median(a), 1),
      bypass_explicit_filter_us: round(median(b), 1),
      ...paired(
        a.map((x, i) => [x, b[i]!]),
        1,
      ),
    };
  } finally {
    await c.query("ROLLBACK");
  }
}
