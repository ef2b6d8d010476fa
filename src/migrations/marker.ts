/**
 * The last statement of every migration: it names the migration for the `log_migration`
 * trigger, which logs it when Drizzle records the migration as applied. Drizzle itself only
 * records a hash, which cannot name a file.
 */
export function markerStatement(name: string): string {
  return `SELECT set_config('sensa.migration_name', '${name.replace(/'/g, "''")}', true);`;
}
