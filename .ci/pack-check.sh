#!/usr/bin/env bash
# Packs the library and installs the tarball into an empty TypeScript project, which must
# type-check an import of the schema, createDb and the wrappers: what a consumer gets.
# skipLibCheck as consumers use it: drizzle-orm's own .d.ts do not pass a strict lib check, and
# our exports are still checked through their use below.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
cd "$work"
npm init -y >/dev/null
npm pkg set type=module
npm install --silent --no-audit --no-fund "./$tarball" typescript@5.9.3 @types/node@20 >/dev/null
cat > index.ts <<'TS'
import { createDb, courses, withUserContext, findSimilarDocuments, type Course, type NewCourse } from "@sensa-learn/db";
import { keywords } from "@sensa-learn/db/schema";

const db = createDb({ url: "postgres://localhost/none" });
const draft: NewCourse = { title: "Biology" };
export async function mine(userId: string): Promise<Course[]> {
  return withUserContext(db, userId, (tx) => tx.select().from(courses));
}
export const similar = (embedding: number[]) => findSimilarDocuments(db, { embedding, limit: 5 });
export const columns = [keywords.term.name, draft.title];
TS
npx tsc --strict --noEmit --module nodenext --moduleResolution nodenext --target es2022 --skipLibCheck index.ts
echo "pack-check: $(basename "$tarball") installs and type-checks in an empty project ($(du -k "$tarball" | cut -f1) KB packed)"
