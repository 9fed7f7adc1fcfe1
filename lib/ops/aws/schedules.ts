import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  GetScheduleGroupCommand,
  ListSchedulesCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
  type UpdateScheduleCommandInput,
} from "@aws-sdk/client-scheduler";
import type { ScheduleAdmin, StandingSchedule } from "../ports.ts";

/** EventBridge refuses an update whose start date is further back than this. */
const PAST_START_TOLERANCE_MS = 4 * 60_000;

/**
 * The job schedule group on EventBridge Scheduler, for operators: list its schedules, and
 * enable or disable one in place (GetSchedule, then UpdateSchedule with everything as it was
 * but `State`: an update replaces the whole schedule).
 *
 * @example await new SchedulerAdmin(client, "prod-jobs").setState("job-J1", "DISABLED")
 */
export class SchedulerAdmin implements ScheduleAdmin {
  constructor(
    private readonly client: SchedulerClient,
    private readonly groupName: string,
  ) {}

  async list(): Promise<StandingSchedule[]> {
    const schedules: StandingSchedule[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListSchedulesCommand({ GroupName: this.groupName, NextToken, MaxResults: 100 }),
      );
      for (const s of page.Schedules ?? []) {
        if (s.Name)
          schedules.push({ name: s.Name, state: s.State === "DISABLED" ? "DISABLED" : "ENABLED" });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return schedules;
  }

  async group(): Promise<{ name: string; state?: string }> {
    const group = await this.client.send(new GetScheduleGroupCommand({ Name: this.groupName }));
    return { name: group.Name ?? this.groupName, ...(group.State ? { state: group.State } : {}) };
  }

  async setState(
    name: string,
    state: "ENABLED" | "DISABLED",
    startDate?: Date,
  ): Promise<"updated" | "missing"> {
    let current: GetScheduleCommandOutput;
    try {
      current = await this.client.send(
        new GetScheduleCommand({ Name: name, GroupName: this.groupName }),
      );
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return "missing";
      throw error;
    }
    const input: UpdateScheduleCommandInput = {
      Name: name,
      GroupName: this.groupName,
      ScheduleExpression: current.ScheduleExpression,
      FlexibleTimeWindow: current.FlexibleTimeWindow,
      Target: current.Target,
      State: state,
    };
    if (current.ScheduleExpressionTimezone)
      input.ScheduleExpressionTimezone = current.ScheduleExpressionTimezone;
    if (current.EndDate) input.EndDate = current.EndDate;
    if (current.Description) input.Description = current.Description;
    if (current.ActionAfterCompletion) input.ActionAfterCompletion = current.ActionAfterCompletion;
    if (current.KmsKeyArn) input.KmsKeyArn = current.KmsKeyArn;
    const start = current.StartDate;
    if (start !== undefined) {
      input.StartDate =
        start.getTime() < Date.now() - PAST_START_TOLERANCE_MS && startDate ? startDate : start;
    }
    await this.client.send(new UpdateScheduleCommand(input));
    return "updated";
  }
}
