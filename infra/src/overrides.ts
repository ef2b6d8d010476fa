/**
 * A partial copy of `T` whose nested objects are partial too. Arrays and other values are
 * replaced whole: an override of `availabilityZones` lists every zone.
 */
export type Overrides<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K];
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `base` with `overrides` laid over it, field by field; neither is modified. */
export function withOverrides<T extends object>(base: T, overrides: Overrides<T>): T {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const current = merged[key];
    merged[key] = isRecord(value) && isRecord(current) ? withOverrides(current, value) : value;
  }
  return merged as T;
}
