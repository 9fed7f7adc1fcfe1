import { migrateJobs } from "../migrate/migrate.ts";
import { connectMongo } from "../migrate/mongo-url.ts";
import { reportText } from "../migrate/report.ts";
import { duration, text, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { EXIT } from "./help.ts";

/**
 * `bgjobs migrate-from-mongo --mongo-url URL [--db NAME] [--dry-run]`: moves the jobs of
 * Reaction's original queue (MongoDB's `Jobs`) onto the stack bgjobs connects to. Exit 0 when
 * every document was imported or was here already, 4 when some could not be (the report
 * names them), 1 when MongoDB or the stack cannot be reached, 130 on Ctrl-C (after the page
 * being written; a new run goes on where it stopped, skipping what is here).
 */
export const migrateCommands: Record<string, Command> = {
  "migrate-from-mongo": {
    flags: {
      "mongo-url": { kind: "string", help: "the shop's MongoDB (mongodb://...)" },
      db: { kind: "string", help: "the database holding Jobs (default: the URL's)" },
      "dry-run": { kind: "boolean", help: "write nothing; report what would be imported" },
      "connect-timeout": { kind: "string", help: "how long to look for MongoDB (default 10s)" },
    },
    run: async ({ parsed, out, signal, withConnection }) => {
      const url = text(parsed, "mongo-url");
      if (!url) throw new UsageError("migrate-from-mongo needs --mongo-url mongodb://HOST/DB");
      if (!/^mongodb(\+srv)?:\/\//.test(url))
        throw new UsageError(
          `--mongo-url must start with mongodb:// or mongodb+srv://, got ${JSON.stringify(url)}`,
        );
      if (parsed.positionals.length > 0)
        throw new UsageError(`migrate-from-mongo takes no arguments, got ${parsed.positionals[0]}`);
      const timeout = text(parsed, "connect-timeout");
      const dbName = text(parsed, "db");
      const mongo = await connectMongo(url, {
        ...(dbName ? { dbName } : {}),
        timeoutMs: timeout ? duration(timeout, "connect-timeout") : 10_000,
      });
      try {
        const report = await withConnection((conn) =>
          migrateJobs(conn.deps.jobs, mongo.db, {
            dryRun: parsed.flags["dry-run"] === true,
            signal,
            onProgress: (done, total) =>
              out.progress(done, total, `documents of ${mongo.name}.Jobs`),
          }),
        );
        out.progressDone();
        out.value(report, () => reportText(report));
        if (report.interrupted) return EXIT.interrupted;
        return report.invalid > 0 ? EXIT.partial : EXIT.ok;
      } finally {
        await mongo.close();
      }
    },
  },
};
