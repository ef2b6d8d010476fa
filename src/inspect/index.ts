// `sensa-db inspect` and `sensa-db maintain` as typed library functions, one report per file.
export type { Report, ListOptions } from "./report.js";
export { readAccess, type Access } from "./access.js";
export { platformTableNames, declaredIndexes, type DeclaredIndex } from "./platform.js";
export { tableSizes, type TableSizeRow } from "./sizes.js";
export { indexUsage, unusedIndexes, type IndexUsageRow, type UnusedIndexRow } from "./indexes.js";
export { slowQueries, type SlowQueryRow, type SlowQueryOptions } from "./statements.js";
export {
  longRunning,
  describeBackend,
  terminateBackend,
  connections,
  CONNECTION_ALARM_RATIO,
  type SessionRow,
  type LongRunningOptions,
  type TerminateResult,
  type ConnectionRow,
  type ConnectionsReport,
} from "./activity.js";
export { locks, blocking, type LockRow, type BlockingRow } from "./locks.js";
export { vacuumStats, type VacuumRow } from "./vacuum.js";
export { cacheHit, CACHE_HIT_TARGET, type CacheHitRow } from "./cache.js";
export { bloat, type BloatRow } from "./bloat.js";
export { health, type HealthCheck, type HealthReport, type HealthOptions } from "./health.js";
export { estimateRecall, type RecallOptions, type RecallRow, type RecallReport } from "./recall.js";
export { maintain, type MaintainOptions, type MaintainStep, type MaintainResult } from "./maintain.js";
