/**
 * The delivery front: how far the lanes' consumers have got. A message is "behind the front"
 * when messages that became receivable after it have been received for a while; a job still
 * ready that far behind lost its message (a crash between the record write and the send, a
 * send that failed), while a job ahead of the front is only waiting its turn in a backlog.
 * The reconciler reads only jobs due before the front (minus `staleAfterMs`), so a backlog
 * of any size costs a pass nothing and is never re-sent.
 *
 * Each process tracks the messages it holds (received, not yet claimed or acknowledged) and
 * the oldest it received lately. Only a process that lags (its oldest is more than half of
 * `staleAfterMs` old) writes its front, at most every `frontReportMs`, and again while it
 * holds messages that wait for a slot: a process that keeps up writes nothing.
 */
import { randomId } from "../ids.ts";
import type { JobDeps, JobSettings, ReconcilerState } from "./deps.ts";

/** This process's part of the front. */
export interface FrontState {
  readonly processId: string;
  /** Messages held, by carrier id: when each became receivable. */
  readonly held: Map<string, number>;
  /** The oldest `at` received since the last report window began. */
  windowMin: number;
  windowStart: number;
  /** A loop reporting while messages are held is running. */
  reporting: boolean;
}

export function newFrontState(now: number): FrontState {
  return {
    processId: randomId(),
    held: new Map(),
    windowMin: Number.POSITIVE_INFINITY,
    windowStart: now,
    reporting: false,
  };
}

/** A message was received and is held until its outcome (`release`). */
export function holdMessage(deps: JobDeps, messageId: string, at: number | undefined): void {
  if (at === undefined) return;
  deps.front.held.set(messageId, at);
  deps.front.windowMin = Math.min(deps.front.windowMin, at);
}

export function releaseMessage(deps: JobDeps, messageId: string): void {
  deps.front.held.delete(messageId);
}

/** How much behind a process may be without saying so: half of `staleAfterMs`. */
function lagAllowance(settings: Pick<JobSettings, "staleAfterMs">): number {
  return settings.staleAfterMs / 2;
}

/**
 * How often a lagging process reports: `frontReportMs`, at most a quarter of `staleAfterMs`,
 * so a process that began to lag has reported well before its oldest message falls behind
 * the reconciler's cutoff (the front less `staleAfterMs`).
 */
function reportInterval(settings: Pick<JobSettings, "staleAfterMs" | "frontReportMs">): number {
  return Math.min(settings.frontReportMs, settings.staleAfterMs / 4);
}

/**
 * Writes this process's front when it lags and the last window is over; a report that fails
 * only logs (the reconciler then errs toward waiting: an older report stays until stale).
 */
export async function reportFront(deps: JobDeps): Promise<void> {
  const state = deps.front;
  const now = deps.clock.now();
  if (now - state.windowStart < reportInterval(deps.settings)) return;
  const oldest = Math.min(state.windowMin, ...state.held.values());
  state.windowStart = now;
  state.windowMin = Number.POSITIVE_INFINITY;
  if (!(oldest < now - lagAllowance(deps.settings))) return;
  await deps.store.reportFront(state.processId, oldest, now).catch((error: unknown) => {
    deps.logger.warn("could not report the delivery front", { error: (error as Error).message });
  });
}

/**
 * While this process holds messages (waiting for a slot), keeps its front reported, so a long
 * wait never looks like a lost message. Ends when nothing is held, or at `stopping`.
 */
export function keepReporting(deps: JobDeps, stopping?: AbortSignal): void {
  if (deps.front.reporting || deps.front.held.size === 0) return;
  deps.front.reporting = true;
  void (async () => {
    try {
      while (deps.front.held.size > 0 && !stopping?.aborted) {
        await deps.clock.sleep(reportInterval(deps.settings), stopping);
        if (!stopping?.aborted) await reportFront(deps);
      }
    } finally {
      deps.front.reporting = false;
    }
  })();
}

/**
 * The front as the reconciler sees it: the oldest front reported within three report windows
 * (the interval a lagging process reports at), and at most now less the lag a process may have
 * without reporting. Reports older than ten windows are of processes gone (or caught up):
 * `stale` lists them, to be forgotten.
 */
export function deliveryFront(
  settings: Pick<JobSettings, "staleAfterMs" | "frontReportMs">,
  fronts: ReconcilerState["fronts"],
  now: number,
): { front: number; stale: string[] } {
  // The interval lagging processes report at: a report not renewed within three of them is of
  // a process that caught up or died, and must not hold the front back (a dead process's last
  // report kept a crashed run from being expired for 3 x frontReportMs, 30 s by default).
  const window = reportInterval(settings);
  const fresh = fronts.filter((f) => now - f.at <= 3 * window).map((f) => f.front);
  const stale = fronts.filter((f) => now - f.at > 10 * window).map((f) => f.processId);
  return { front: Math.min(now - lagAllowance(settings), ...fresh), stale };
}
