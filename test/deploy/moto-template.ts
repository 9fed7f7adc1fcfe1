import { execFile } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { CreateScheduleGroupCommand, type SchedulerClient } from "@aws-sdk/client-scheduler";

const run = promisify(execFile);

/** The checkout: where `cdk synth` runs (cdk.json's app and context). */
export const REPO = resolve(import.meta.dirname, "..", "..");

/** The real CDK CLI of the checkout (the `aws-cdk` package). */
export const CDK = join(REPO, "node_modules", ".bin", "cdk");

/**
 * What the CDK CLI gets besides the caller's variables: nothing leaves the machine (no
 * notices, no version check, no telemetry).
 */
export const CDK_QUIET_ENV = {
  CDK_DISABLE_VERSION_CHECK: "1",
  CDK_DISABLE_CLI_TELEMETRY: "true",
};

/** A CloudFormation template, as far as the patches read it. */
interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  [section: string]: unknown;
}

/** One change made to the template for moto, and the moto limitation it bridges. */
export interface MotoChange {
  logicalId: string;
  change: string;
  limitation: string;
}

/** A synthesized cloud assembly and a copy of it with only moto's gaps bridged. */
export interface MotoAssembly {
  stackName: string;
  /** The assembly as `cdk synth` wrote it. */
  synthesized: string;
  /** The copy `cdk deploy --app` gets: the same assets, the patched template. */
  patched: string;
  /** The template as synthesized (for what the deployment is compared against). */
  template: Template;
  changes: MotoChange[];
  synthMs: number;
  remove(): void;
}

/**
 * `cdk synth` of the deployable app (infra/app.ts through cdk.json, bundling on, cdk-nag on),
 * for `pluginsEntry` under `stackName`, then a copy of the assembly whose template has only
 * moto's known gaps bridged (see `bridgeMotoGaps`).
 *
 * @example const assembly = await synthesizeForMoto("MotoJobs", "test/deploy/scenario-plugins.ts")
 */
export async function synthesizeForMoto(
  stackName: string,
  pluginsEntry: string,
  region: string,
  account: string,
): Promise<MotoAssembly> {
  const root = mkdtempSync(join(tmpdir(), "moto-assembly-"));
  const synthesized = join(root, "synthesized");
  const patched = join(root, "patched");
  const begin = performance.now();
  await run(CDK, ["synth", "--quiet", "--no-notices", "--output", synthesized], {
    cwd: REPO,
    env: {
      ...process.env,
      ...CDK_QUIET_ENV,
      JOBS_STACK_NAME: stackName,
      JOBS_PLUGINS_ENTRY: pluginsEntry,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  const synthMs = performance.now() - begin;
  const templateFile = `${stackName}.template.json`;
  const template: Template = JSON.parse(readFileSync(join(synthesized, templateFile), "utf8"));
  const copy: Template = structuredClone(template);
  const changes = bridgeMotoGaps(copy, { region, account });
  mkdirSync(patched);
  for (const name of readdirSync(synthesized))
    if (name !== templateFile) symlinkSync(join(synthesized, name), join(patched, name));
  writeFileSync(join(patched, templateFile), JSON.stringify(copy, null, 1));
  return {
    stackName,
    synthesized,
    patched,
    template,
    changes,
    synthMs,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Bridges moto 5.2.1's CloudFormation gaps in `template` (in place), and nothing else; each
 * change names the limitation it bridges:
 * - no `AWS::DynamoDB::GlobalTable`: the same properties as an `AWS::DynamoDB::Table`;
 * - no `AWS::Scheduler::*`, so a schedule group's `Fn::GetAtt Arn` is a template error: the
 *   ARN the group has in an account, as a literal;
 * - its `Custom::Trigger` fails to serialize the `Ref` to an `AWS::Lambda::Version` (a 500),
 *   and invoking any function needs Docker: the Trigger is removed, and the deploy-time
 *   startup it would run is invoked by the test instead.
 */
export function bridgeMotoGaps(
  template: Template,
  where: { region: string; account: string },
): MotoChange[] {
  const changes: MotoChange[] = [];
  const groupArns = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === "AWS::DynamoDB::GlobalTable") {
      resource.Type = "AWS::DynamoDB::Table";
      changes.push({
        logicalId,
        change: "AWS::DynamoDB::GlobalTable → AWS::DynamoDB::Table, same properties",
        limitation: "moto's CloudFormation has no AWS::DynamoDB::GlobalTable",
      });
    } else if (resource.Type === "AWS::Scheduler::ScheduleGroup") {
      const name = String(resource.Properties?.Name);
      groupArns.set(
        logicalId,
        `arn:aws:scheduler:${where.region}:${where.account}:schedule-group/${name}`,
      );
    } else if (resource.Type === "Custom::Trigger") {
      delete template.Resources[logicalId];
      changes.push({
        logicalId,
        change: "Custom::Trigger removed (the test runs the startup function once instead)",
        limitation:
          "moto's Trigger fails to serialize a Ref to AWS::Lambda::Version (a 500), and invoking a function needs Docker",
      });
    }
  }
  const replaced = replaceGetAttArn(template.Resources, groupArns);
  for (const [logicalId, arn] of replaced)
    changes.push({
      logicalId,
      change: `Fn::GetAtt ${arn.group}.Arn → "${arn.arn}"`,
      limitation: "moto's CloudFormation has no AWS::Scheduler::*, so Fn::GetAtt on one fails",
    });
  return changes;
}

/** Replaces `{"Fn::GetAtt": [group, "Arn"]}` everywhere under each resource; who had one. */
function replaceGetAttArn(
  resources: Template["Resources"],
  arns: Map<string, string>,
): [string, { group: string; arn: string }][] {
  const found: [string, { group: string; arn: string }][] = [];
  const walk = (value: unknown, owner: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => walk(item, owner));
    if (value === null || typeof value !== "object") return value;
    const getAtt = (value as Record<string, unknown>)["Fn::GetAtt"];
    if (Array.isArray(getAtt) && getAtt[1] === "Arn" && arns.has(String(getAtt[0]))) {
      const arn = arns.get(String(getAtt[0])) as string;
      found.push([owner, { group: String(getAtt[0]), arn }]);
      return arn;
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, walk(inner, owner)]),
    );
  };
  for (const [logicalId, resource] of Object.entries(resources))
    resources[logicalId] = walk(resource, logicalId) as Template["Resources"][string];
  return found;
}

/**
 * moto's CloudFormation skips `AWS::Scheduler::ScheduleGroup` silently, and moto's Scheduler
 * refuses a schedule in a group it does not know (a 500): creates each group the template
 * declares through the Scheduler API, as CloudFormation would have.
 */
export async function createSkippedScheduleGroups(
  template: Template,
  scheduler: SchedulerClient,
): Promise<string[]> {
  const names: string[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::Scheduler::ScheduleGroup") continue;
    const name = String(resource.Properties?.Name);
    await scheduler.send(new CreateScheduleGroupCommand({ Name: name }));
    names.push(name);
  }
  return names;
}
