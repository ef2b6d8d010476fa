import pg from "pg";
import { sql } from "drizzle-orm";
import { withAdmin, type Database } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { round, summarise } from "./timing.js";

/**
 * What row-level security costs per statement: each pair is a query as a user under RLS (the
 * policies filter) and the same query with the filter spelled out, as a role that bypasses RLS
 * (the superuser), through the same protocol (extended: parse, bind, execute: planned again every
 * time, as the app's statements are). Measured in blocks: each block opens two new connections
 * (backends), one in the user's context as withUserContext sets it and one bypassing RLS, and
 * times 50 samples per side, alternating, which side goes first swapping every sample, after 50
 * unrecorded. The figures are medians over the blocks of each block's p50 ratio and difference
 * (`paired`, below, says why not the sides' overall p50s); the pairs take blocks in turns. The plans
 * of both sides are recorded: they are the same scan, the RLS side adding one InitPlan (the context
 * function, once per statement).
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
  const entries = Object.entries(pairs);
  const plans: Record<string, unknown> = {};
  for (const [name, pair] of entries) {
    plans[name] = await block(async (asUser, bypass) => {
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
  }
  // The pairs take turns, a block each, so a slower spell of the machine (everything here ran
  // up to twice as slow for seconds at a time) falls on every pair alike instead of on one.
  const measured = entries.map(() => ({
    ta: [] as number[],
    tb: [] as number[],
    blocks: [] as Array<[number, number]>, // each block's p50s, RLS and explicit
    server: [] as Array<[number, number]>, // each server-side block's mean, RLS and explicit
  }));
  const rounds = Math.ceil(options.samples / perBlock);
  for (let k = 0; k < rounds; k++) {
    if (k % 10 === 0) options.log(`rls: round ${k + 1} of ${rounds}`);
    for (const [j, [, pair]] of entries.entries()) {
      const m = measured[j]!;
      const [a, b] = [m.ta.length, m.tb.length];
      await block(async (asUser, bypass) => {
        for (let i = -WARM_UP; i < perBlock; i++) {
          for (const side of i % 2 === 0 ? [0, 1] : [1, 0]) {
            const t = performance.now();
            if (side === 0) await query(asUser, pair.rls);
            else await query(bypass, pair.explicit);
            if (i >= 0) (side === 0 ? m.ta : m.tb).push(performance.now() - t);
          }
        }
      });
      m.blocks.push([median(m.ta.slice(a)), median(m.tb.slice(b))]);
      if (k % SERVER_SIDE_EVERY === 0) m.server.push(...(await serverSide(superuser, pair, user)));
    }
  }
  const results: Record<string, unknown> = {};
  for (const [j, [name]] of entries.entries()) {
    const m = measured[j]!;
    results[name] = {
      with_rls: summarise(m.ta),
      bypass_explicit_filter: summarise(m.tb),
      ...paired(m.blocks, 1000),
      server_side: {
        with_rls_us: round(median(m.server.map(([a]) => a)), 1),
        bypass_explicit_filter_us: round(median(m.server.map(([, b]) => b)), 1),
        ...paired(m.server, 1),
      },
      plans: plans[name],
    };
  }
  const figures = Object.values(results) as Array<{
    ratio: number;
    overhead_us: number;
    server_side: { overhead_us: number };
  }>;
  return {
    ...results,
    overhead_ratio: Math.max(...figures.map((m) => m.ratio)),
    overhead_us: Math.max(...figures.map((m) => m.overhead_us)),
    server_side_overhead_us: Math.max(...figures.map((m) => m.server_side.overhead_us)),
    note: "worst of the query pairs; medians over blocks (each on two new connections, 50 interleaved samples per side through the extended protocol) of each block's p50 ratio and difference; server_side: the same statements EXECUTEd in a server loop, alternating blocks of 100",
  };
}

/** Every how many rounds each pair also runs a short server-side measurement. */
const SERVER_SIDE_EVERY = 6;

/**
 * The pair timed inside the server: a PL/pgSQL loop EXECUTEs (no plan cache) the RLS statement as
 * sensa_app in the user's context and the explicit one as the superuser, in alternating blocks of
 * 100 (a role switch costs the next statement a search_path lookup, so not every statement may
 * follow one), with clock_timestamp() around each block: the blocks' means, paired, RLS and
 * explicit (10 pairs after 2 unrecorded). On a new connection, in a transaction rolled back.
 */
async function serverSide(
  superuser: pg.ClientConfig,
  pair: { rls: [string, unknown[]]; explicit: [string, unknown[]] },
  user: string,
): Promise<Array<[number, number]>> {
  // Both statements take the same two uuid parameters ($1 course or user, $2 user) inside the loop.
  const bind = ([text, values]: [string, unknown[]]) =>
    text.replace(/\$(\d)/g, (_, n: string) => (values[Number(n) - 1] === user ? "$2" : "$1"));
  const args = [pair.rls, pair.explicit].flatMap(([, v]) => v).find((v) => v !== user) ?? user;
  const c = new pg.Client(superuser);
  await c.connect();
  try {
    await c.query("BEGIN");
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
    const { rows } = await c.query("SELECT * FROM pg_temp.rls_pair($1, $2, $3, $4, 10, 100)", [
      wrap(bind(pair.rls)),
      wrap(bind(pair.explicit)),
      args,
      user,
    ]);
    const { a, b } = rows[0] as { a: number[]; b: number[] };
    return a.map((x, i) => [x, b[i]!]);
  } finally {
    await c.end(); // the transaction, and the function with it, ends with the connection
  }
}
