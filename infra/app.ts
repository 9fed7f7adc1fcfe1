import { App, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { Construct } from "constructs";
import { DEFAULT_STACK_NAME, deployEnvNames } from "../lib/names.ts";
import { BackgroundJobs } from "./background-jobs.ts";
import { acknowledgeFindings } from "./nag.ts";

/** The deployable stack: the background-jobs construct with this repository's plugins. */
export class BackgroundJobsStack extends Stack {
  readonly jobs: BackgroundJobs;

  constructor(scope: Construct, id: string, props: StackProps & { pluginsEntry: string }) {
    super(scope, id, props);
    this.jobs = new BackgroundJobs(this, "BackgroundJobs", { pluginsEntry: props.pluginsEntry });
    acknowledgeFindings(this, this.jobs);
  }
}

/** The CDK app, with cdk-nag's AwsSolutions checks on every synth. */
export function buildApp(app = new App()): { app: App; stack: BackgroundJobsStack } {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const env = process.env;
  const stack = new BackgroundJobsStack(app, env[deployEnvNames.stackName] ?? DEFAULT_STACK_NAME, {
    pluginsEntry: env[deployEnvNames.pluginsEntry] ?? "lambdas/plugins.ts",
  });
  return { app, stack };
}

if (process.argv[1]?.endsWith("infra/app.ts")) buildApp().app.synth();
