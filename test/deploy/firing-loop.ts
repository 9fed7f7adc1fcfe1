import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Schedule } from "../../lib/local/scheduler/records.ts";
import { deliverFiring } from "../../lib/local/scheduler/target.ts";
import { silentLogger } from "../../lib/log.ts";
import { nextFireTimes } from "../../lib/schedule/eventbridge.ts";

/** One delivery of a firing, for the test's figures. */
export interface Firing {
  schedule: string;
  scheduledTime: string;
  duplicate: boolean;
}

/**
 * Stands in for EventBridge Scheduler's delivery, which moto lacks: moto stores schedules
 * (CreateSchedule, GetSchedule, ListSchedules) but never fires them. Every `intervalMs` this
 * reads the group's schedules from moto, and when a fire time of one has come (evaluated as
 * EventBridge does, from its creation on), sends its target's message with the context
 * placeholders filled, as Scheduler would (the local Scheduler server's delivery code); a
 * one-time `at()` with `ActionAfterCompletion: DELETE` is deleted after it fired. With
 * `duplicates`, each firing is delivered twice: Scheduler delivers at least once.
 */
export class SchedulerFiringLoop {
  readonly fired: Firing[] = [];
  private readonly lastFired = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();

  constructor(
    private readonly scheduler: SchedulerClient,
    private readonly sqs: SQSClient,
    private readonly groupName: string,
    private readonly options: { intervalMs?: number; duplicates?: boolean } = {},
  ) {}

  start(): void {
    const tick = () => {
      this.pass = this.fireDue().catch(() => {});
      this.pass.then(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs ?? 500);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass: fires every schedule of the group whose next fire time has come. */
  async fireDue(now = Date.now()): Promise<void> {
    const { Schedules = [] } = await this.scheduler.send(
      new ListSchedulesCommand({ GroupName: this.groupName }),
    );
    for (const summary of Schedules) {
      const name = summary.Name as string;
      const found = await this.scheduler.send(
        new GetScheduleCommand({ Name: name, GroupName: this.groupName }),
      );
      if (found.State === "DISABLED" || !found.ScheduleExpression || !found.Target) continue;
      const created = found.CreationDate?.getTime() ?? now;
      const after = this.lastFired.get(name) ?? created;
      const due = nextFireTimes(found.ScheduleExpression, {
        after: new Date(after),
        count: 5,
        startDate: found.StartDate ?? found.CreationDate,
        endDate: found.EndDate,
      }).filter((time) => time.getTime() <= now);
      const schedule: Schedule = {
        Name: name,
        GroupName: this.groupName,
        Arn: found.Arn ?? "",
        ScheduleExpression: found.ScheduleExpression,
        State: "ENABLED",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: {
          Arn: found.Target.Arn ?? "",
          RoleArn: found.Target.RoleArn ?? "",
          Input: found.Target.Input,
        },
        CreationDate: created,
        LastModificationDate: created,
      };
      for (const time of due) {
        const copies = this.options.duplicates ? 2 : 1;
        for (let copy = 0; copy < copies; copy += 1) {
          await deliverFiring(this.sqs, silentLogger, schedule, time.getTime());
          this.fired.push({
            schedule: name,
            scheduledTime: time.toISOString(),
            duplicate: copy > 0,
          });
        }
        this.lastFired.set(name, time.getTime());
      }
      const lastAt = found.ScheduleExpression.startsWith("at(") && due.length > 0;
      if (lastAt && found.ActionAfterCompletion === "DELETE")
        await this.scheduler.send(
          new DeleteScheduleCommand({ Name: name, GroupName: this.groupName }),
        );
    }
  }
}
