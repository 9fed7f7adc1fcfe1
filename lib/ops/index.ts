/**
 * The operations module: what `bgjobs` and the dashboard both call, with typed inputs and
 * outputs (`lib/ops/types.ts`). Reads use the listing and open indexes (never a scan) and say
 * how much they read; writes go through the lifecycle's conditional writes with the
 * operator's act in the same write.
 */
import type { RedriveReport } from "../aws/redrive.ts";
import type { LaneName } from "../resources.ts";
import { checkRequest, countMatching, type RunOptions, runAction } from "./bulk.ts";
import { jobDetail } from "./detail.ts";
import { validateFilter } from "./filter.ts";
import { deadLetters, laneStats, redriveDeadLetters } from "./lanes.ts";
import { listPage } from "./list.ts";
import { overview } from "./overview.ts";
import type { OpsDeps } from "./ports.ts";
import { listSchedules, type ScheduleAction, scheduleAction, scheduleNext } from "./schedules.ts";
import type {
  ActionOutcome,
  ActionReport,
  ActionRequest,
  DeadLetterView,
  JobDetail,
  JobFilter,
  JobPage,
  LaneStats,
  ListOptions,
  MatchCount,
  Overview,
  ScheduleList,
  ScheduleNext,
} from "./types.ts";

export type { RunOptions } from "./bulk.ts";
export type { OpsDeps } from "./ports.ts";
export type { ScheduleAction } from "./schedules.ts";

export interface Ops {
  /** Jobs matching a filter, newest first, a page at a time (search by tenant or data too). */
  listJobs(filter?: JobFilter, options?: ListOptions): Promise<JobPage>;
  /** One job with its data, log, attempts and audit trail; `null` when unknown. */
  getJob(id: string): Promise<JobDetail | null>;
  /** Throws a `JobValidationError` naming the field when a request is not valid (reads nothing). */
  check(request: ActionRequest): void;
  /** How many jobs an action would look at and change (before confirming). */
  countMatching(request: ActionRequest): Promise<MatchCount>;
  /** Runs an action on some jobs or all matching a filter, in batches with progress. */
  act(request: ActionRequest, options?: RunOptions): Promise<ActionReport>;
  listSchedules(): Promise<ScheduleList & { skippedTypes: string[] }>;
  scheduleNext(idOrText: string, count?: number): Promise<ScheduleNext>;
  scheduleAction(id: string, action: ScheduleAction): Promise<ActionOutcome>;
  laneStats(): Promise<LaneStats[]>;
  deadLetters(options?: { lane?: LaneName; limit?: number }): Promise<DeadLetterView[]>;
  redriveDeadLetters(options?: {
    lanes?: readonly LaneName[];
    onMessage?: (done: number) => void;
  }): Promise<RedriveReport>;
  overview(options?: { windowMinutes?: number }): Promise<Overview>;
  knownTypes(): Promise<string[]>;
  /** Who acts (the audit trail's `actor`). */
  readonly actor: string;
}

/**
 * The operations over their dependencies.
 *
 * @example const ops = createOps(deps); await ops.listJobs({ statuses: ["failed"] }, { limit: 20 })
 */
export function createOps(deps: OpsDeps): Ops {
  return {
    actor: deps.actor,
    listJobs: async (filter, options) =>
      (await listPage(deps.jobs.store, validateFilter(filter, deps.jobs.clock.now()), options))
        .page,
    getJob: (id) => jobDetail(deps, id),
    check: (request) => checkRequest(request, deps.jobs.clock.now()),
    countMatching: (request) => countMatching(deps, request),
    act: (request, options) => runAction(deps, request, options),
    listSchedules: () => listSchedules(deps),
    scheduleNext: (idOrText, count) => scheduleNext(deps, idOrText, count),
    scheduleAction: (id, action) => scheduleAction(deps, id, action),
    laneStats: async () => (await laneStats(deps)).lanes,
    deadLetters: (options) => deadLetters(deps, options),
    redriveDeadLetters: (options) => redriveDeadLetters(deps, options),
    overview: (options) => overview(deps, options),
    knownTypes: () => deps.jobs.store.knownTypes(),
  };
}
