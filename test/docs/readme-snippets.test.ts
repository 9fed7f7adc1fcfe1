import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";

/**
 * The README's TypeScript snippets, run for real, so the front door cannot drift from the code.
 * Each `ts` block is announced by `<!-- snippet: NAME ... -->`; NAME picks how it runs below,
 * and a block without a known name fails. Blocks import the package by its name or this repo's
 * files by `./` paths from its root; both are pointed at the sources here. A line
 * `console.log(x); // => VALUE` is checked: what it logs must equal the JSON `VALUE`.
 */

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const PACKAGE = "reaction-background-jobs-aws";

interface Snippet {
  name: string;
  code: string;
  /** `console.log` lines' expected values, in order. */
  expectedLogs: unknown[];
}

/** Every fenced `ts` block of a markdown text, with the snippet name announced above it. */
function readmeSnippets(markdown: string): Snippet[] {
  const blocks = /(?:<!--\s*snippet:\s*([\w-]+)[^>]*-->\s*\n)?```(?:ts|typescript)\n([\s\S]*?)```/g;
  return [...markdown.matchAll(blocks)].map(([, name, code]) => ({
    name: name ?? "(unnamed)",
    code: code as string,
    expectedLogs: [...(code as string).matchAll(/console\.log\(.*\);\s*\/\/ => (.+)$/gm)].map(
      ([, value]) => JSON.parse(value as string),
    ),
  }));
}

/** The snippet's imports pointed at this repo's sources (as the published package maps them). */
function pointAtSources(code: string): string {
  const source = (path: string) => pathToFileURL(join(REPO, path)).href;
  return code
    .replace(
      new RegExp(`from "${PACKAGE}/reaction"`, "g"),
      `from "${source("lib/reaction/index.ts")}"`,
    )
    .replace(new RegExp(`from "${PACKAGE}"`, "g"), `from "${source("lib/index.ts")}"`)
    .replace(/from "\.\/([^"]+)"/g, (_, path: string) => `from "${source(path)}"`);
}

// Inside the repo (gitignored), so that the snippets' bare imports resolve to its node_modules.
const scratch = join(REPO, ".cache");
mkdirSync(scratch, { recursive: true });
const dir = mkdtempSync(join(scratch, "readme-snippets-"));
const outdirs: string[] = [];
afterAll(() => {
  for (const path of [dir, ...outdirs]) rmSync(path, { recursive: true, force: true });
});

/** Imports a snippet as a module (running it), returning its exports and what it logged. */
async function load(
  snippet: Snippet,
): Promise<{ exports: Record<string, unknown>; logs: unknown[] }> {
  const file = join(dir, `${snippet.name}.ts`);
  writeFileSync(file, pointAtSources(snippet.code));
  const logs: unknown[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((value: unknown) => {
    logs.push(value);
  });
  try {
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    return { exports, logs };
  } finally {
    spy.mockRestore();
  }
}

/** How each named snippet runs, and what proves it did what the README says. */
const runners: Record<string, (snippet: Snippet) => Promise<void>> = {
  /** A script: it starts the local stack, runs one job to completion and stops the stack. */
  "using-it": async (snippet) => {
    const { logs } = await load(snippet);
    expect(snippet.expectedLogs.length).toBeGreaterThan(0);
    expect(logs).toEqual(snippet.expectedLogs);
  },
  /** A CDK stack class: built in an app offline, as `cdk synth` would (bundling skipped). */
  deploy: async (snippet) => {
    const { exports } = await load(snippet);
    const { App } = await import("aws-cdk-lib");
    const { Template } = await import("aws-cdk-lib/assertions");
    const context = JSON.parse(readFileSync(join(REPO, "cdk.json"), "utf8")).context;
    const outdir = mkdtempSync(join(tmpdir(), "readme-deploy-"));
    outdirs.push(outdir);
    const app = new App({ outdir, context: { ...context, "aws:cdk:bundling-stacks": [] } });
    const StackClass = Object.values(exports)[0] as new (scope: unknown, id: string) => never;
    const template = Template.fromStack(new StackClass(app, "ReadmeShop"));
    template.resourceCountIs("AWS::DynamoDB::GlobalTable", 1);
    template.resourceCountIs("AWS::SQS::Queue", 6);
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    template.hasResourceProperties("AWS::Lambda::Function", { Timeout: 900 });
    template.resourceCountIs("AWS::SNS::Topic", 1);
    // The two operator roles got their grants: reading for one, operating (writes) too for the other.
    const actionsOf = (role: string) => {
      const policies = Object.values(template.findResources("AWS::IAM::Policy"));
      return policies
        .filter((policy) =>
          policy.Properties.Roles.some((ref: { Ref: string }) => ref.Ref.startsWith(role)),
        )
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .flatMap((statement: { Action: string | string[] }) => [statement.Action].flat());
    };
    expect(actionsOf("Support")).toContain("dynamodb:Query");
    expect(actionsOf("Support")).not.toContain("dynamodb:UpdateItem");
    expect(actionsOf("OnCall")).toEqual(
      expect.arrayContaining(["dynamodb:Query", "dynamodb:UpdateItem"]),
    );
  },
};

const snippets = readmeSnippets(readFileSync(join(REPO, "README.md"), "utf8"));

describe("README snippets", () => {
  it("has snippets, each named for a way to run it", () => {
    expect(snippets.map((s) => s.name).sort()).toEqual(Object.keys(runners).sort());
  });

  for (const snippet of snippets) {
    const run = runners[snippet.name];
    if (run) it(`runs ${snippet.name}`, () => run(snippet), 120_000);
  }
});
