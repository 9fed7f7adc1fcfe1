/** Exit codes, the same for every command (docs/operations.md lists them too). */
export const EXIT = {
  ok: 0,
  /** Something failed: a connection, AWS, a doctor check. */
  error: 1,
  /** The command line or its input is wrong; nothing was changed. */
  usage: 2,
  /** The job or schedule named does not exist. */
  notFound: 3,
  /** A bulk action ran, but some jobs failed (the report lists them). */
  partial: 4,
  /** `doctor --probe`: a probe job did not complete in time (the checks passed). */
  probe: 5,
  /** Interrupted (Ctrl-C): a bulk action stops after its current batch, and reports. */
  interrupted: 130,
} as const;

export const USAGE = `bgjobs: see and steer background jobs, on the local stack (npm start) or a deployment

Usage: bgjobs <command> [options]

Jobs
  jobs list      [filters] [--limit N] [--cursor C] [--all] [--max-read N]
  jobs get       <id>                       a job's data, result, attempts, audit trail
  jobs logs      <id>                       its log
  jobs retry     <id...> | [filters] --all-matching [--retries N]
  jobs cancel    <id...> | [filters] --all-matching [--include-running]
  jobs pause|resume|promote <id...> | [filters] --all-matching
  jobs reschedule <id...> | [filters] --all-matching  [--at TIME | --in 10m] [--priority P] [--retries N]
  jobs delete    <id...> | [filters] --all-matching [--include-running]
  jobs watch     [filters] [--interval 2s] [--for 1m]
    filters: --type T  --tenant SHOP  --status failed,running  --lane critical|normal|low
             --since 1h|ISO  --until ISO  --data key=value (with --type)
    actions: --dry-run shows what would change; on more than one job, a terminal asks to
             confirm with the count, elsewhere --yes is required. Running jobs are skipped
             unless --include-running.

Schedules
  schedules list
  schedules next <id | "later.js text"> [--count N]
  schedules pause|resume|trigger|cancel <id>

Lanes and dead letters
  lanes stats
  dlq list     [--lane L] [--limit N]
  dlq redrive  [--lane L] [--dry-run] [--yes]

Other
  dashboard    [--port N] [--read-only] [--host H --token T --allow-host NAME]
  doctor       checks the table, indexes, queues, schedule group and access; exit 1 on a problem
    --probe [--probe-timeout 60s]   and runs a probe job through each lane, timed (after every
                                    cdk deploy); exit 5 if one does not complete in time

Where it connects (first that applies)
  --stack NAME   a deployment, from its CloudFormation outputs (with --region/--profile)
  JOBS_TABLE_NAME, JOBS_QUEUE_URL_* ...   the environment the construct gives its functions
  <data dir>/stack.json   written by npm start while it runs (--data-dir, JOBS_DATA_DIR or DATA_DIR; default .data)

Output
  --json, --jsonl (lists)   the dashboard API's shapes; tables and colour only on a terminal
                            (NO_COLOR or --no-color turns colour off); logs and progress on stderr
  --actor NAME              who you are in the jobs' audit trail (default BGJOBS_ACTOR or user@host)

Exit codes
  0 ok   1 error   2 usage or bad input   3 not found   4 a bulk action partly failed
  5 doctor --probe: a probe job did not complete in time   130 interrupted
`;
