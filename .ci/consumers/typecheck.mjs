/* global process, console */
// Runs tsc in a consumer project with skipLibCheck off and fails on any error in the project's
// own sources or in @sensa-learn/db's declarations. Errors inside other packages' .d.ts are
// counted and listed by package but tolerated: drizzle-orm 0.45's declarations do not pass a lib
// check on their own (its mysql/singlestore/sqlite builders import optional drivers such as
// mysql2 and have abstract-member errors), and tsc cannot skip one package's lib check only.
// usage: node typecheck.mjs [tsc args…]   (from the project directory)
import { spawnSync } from "node:child_process";

const tsc = spawnSync("npx", ["tsc", "--pretty", "false", ...process.argv.slice(2)], { encoding: "utf8" });
if (tsc.error) throw tsc.error;
const errors = [];
for (const line of tsc.stdout.split("\n")) {
  if (/^\S.*\(\d+,\d+\): error TS\d+/.test(line)) errors.push({ file: line.slice(0, line.indexOf("(")), text: [line] });
  else if (line.trim() && errors.length) errors.at(-1).text.push(line);
}
const packageOf = (file) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
const ours = errors.filter((e) => !packageOf(e.file) || packageOf(e.file) === "@sensa-learn/db");
const tolerated = new Map();
for (const e of errors)
  if (!ours.includes(e)) tolerated.set(packageOf(e.file), (tolerated.get(packageOf(e.file)) ?? 0) + 1);
const others = [...tolerated].map(([p, n]) => `${p} ${n}`).join(", ") || "none";
if (ours.length || (tsc.status !== 0 && errors.length === 0)) {
  console.error(ours.flatMap((e) => e.text).join("\n") || tsc.stdout + tsc.stderr);
  console.error(
    `typecheck: ${ours.length} error(s) in the project or @sensa-learn/db's declarations (tolerated in other packages: ${others})`,
  );
  process.exit(1);
}
console.log(
  `  tsc ${process.argv.slice(2).join(" ")}: 0 errors in the project and @sensa-learn/db's declarations (other packages' .d.ts: ${others})`,
);
