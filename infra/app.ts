import { App, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { Construct } from "constructs";
import { DEFAULT_STACK_NAME, deployEnvNames } from "../lib/names.ts";
import { BackgroundJobs, type BackgroundJobsProps } from "./background-jobs/construct.ts";
import { acknowledgeFindings } from "./nag.ts";

/** The deployable stack: the background-jobs construct with a plugins module or a Reaction app. */
export class BackgroundJobsStack extends Stack {
  readonly jobs: BackgroundJobs;

  constructor(
    scope: Construct,
    id: string,
    props: StackProps & Pick<BackgroundJobsProps, "pluginsEntry" | "reactionApp">,
  ) {
    super(scope, id, props);
    const { pluginsEntry, reactionApp } = props;
    this.jobs = new BackgroundJobs(this, "BackgroundJobs", { pluginsEntry, reactionApp });
    acknowledgeFindings(this, this.jobs);
  }
}

/** The CDK app, with cdk-nag's AwsSolutions checks on every synth. */
export function buildApp(app = new App()): { app: App; stack: BackgroundJobsStack } {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const env = process.env;
  const reactionApp = env[deployEnvNames.reactionAppEntry];
  const stack = new BackgroundJobsStack(
    app,
    env[deployEnvNames.stackName] ?? DEFAULT_STACK_NAME,
    reactionApp
      ? { reactionApp: { entry: reactionApp } }
      : { pluginsEntry: env[deployEnvNames.pluginsEntry] ?? "lambdas/plugins.ts" },
  );
  return { app, stack };
}

if (process.argv[1]?.endsWith("infra/app.ts")) buildApp().app.synth();
