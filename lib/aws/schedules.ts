import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import type { JobMessage, ScheduleArmer } from "../jobs/deps.ts";
import type { JobLane, LaneUrls } from "../resources.ts";
import { atExpression } from "../schedule/eventbridge.ts";
import { laneUrl } from "./lanes.ts";

/** EventBridge Scheduler's universal target for SQS SendMessage. */
export const SQS_SEND_TARGET = "arn:aws:scheduler:::aws-sdk:sqs:sendMessage";

/** EventBridge Scheduler replaces this, in a target's input, with the instant a firing is for. */
export const SCHEDULED_TIME_PLACEHOLDER = "<aws.scheduler.scheduled-time>";

export interface SchedulesOptions {
  groupName: string;
  /** The role the scheduler assumes; it may only `sqs:SendMessage` to the lanes. */
  roleArn: string;
  queueUrls: LaneUrls;
}

/**
 * Schedules on EventBridge Scheduler whose target is a lane queue (universal target
 * `sqs:sendMessage`), in UTC, with no flexible window.
 *
 * @example await schedules.armOnce("at-J1-1795954800", at, "normal", { id: "J1", type: "t" });
 */
export class EventBridgeSchedules implements ScheduleArmer {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: SchedulesOptions,
  ) {}

  async armRecurring(
    name: string,
    expression: string,
    startDate: Date | undefined,
    lane: JobLane,
    message: JobMessage,
  ): Promise<void> {
    // Each firing's message says which instant it is for: the scheduler fills that in.
    const firing: JobMessage = { ...message, firedAt: SCHEDULED_TIME_PLACEHOLDER };
    const input = this.input(name, expression, lane, firing);
    if (startDate) input.StartDate = startDate;
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if ((error as Error).name !== "ConflictException") throw error;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async armOnce(name: string, at: Date, lane: JobLane, message: JobMessage): Promise<void> {
    const input = this.input(name, atExpression(at), lane, message);
    input.ActionAfterCompletion = "DELETE";
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      // The same name is the same job and instant: already armed.
      if ((error as Error).name !== "ConflictException") throw error;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }),
      );
    } catch (error) {
      if ((error as Error).name !== "ResourceNotFoundException") throw error;
    }
  }

  private input(
    name: string,
    expression: string,
    lane: JobLane,
    message: JobMessage,
  ): CreateScheduleCommandInput {
    return {
      Name: name,
      GroupName: this.options.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: SQS_SEND_TARGET,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify({
          QueueUrl: laneUrl(this.options.queueUrls, lane),
          MessageBody: JSON.stringify(message),
          // The firing is the tenant's, as any send: SQS fair queues group by it.
          ...(message.group === undefined ? {} : { MessageGroupId: message.group }),
        }),
      },
    };
  }
}
