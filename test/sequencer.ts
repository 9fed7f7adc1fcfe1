import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take a worker longest, longest first. On a clean clone vitest has no timings
 * and starts the largest files first, which left these (small files) to the end, beside each
 * other: the 5,000-job load test took 87 s there instead of 46 s, and the suite ran past 3 min.
 */
const SLOWEST = [
  "test/faults/load.test.ts",
  "test/reaction/full-api.test.ts",
  "test/model/lifecycle.model.test.ts",
  "test/faults/delivery.test.ts",
  // cdk synth, bootstrap and deploy onto moto, then up to a minute's wait for a repeat.
  "test/deploy/moto-deploy.test.ts",
];

/** vitest's own order (failed first, then by last duration or size), the slowest files ahead. */
export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = SLOWEST.findIndex((path) => file.moduleId.endsWith(path));
      return index < 0 ? SLOWEST.length : index;
    };
    return (await super.sort(files))
      .map((file, order) => ({ file, order }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order)
      .map(({ file }) => file);
  }
}
