/**
 * A stand-in for an SMTP plugin: Reaction's email plugin emits `sendEmail` for each job and
 * returns; the mail transport calls `sendEmailCompleted` (the job's `done()`) or
 * `sendEmailFailed` (its `fail()`) once the mail is out, as nodemailer's callback did. This one
 * writes the mail to stdout instead of sending it.
 */
export default async function register(app) {
  await app.registerPlugin({
    label: "Example mail transport",
    name: "example-smtp",
    functionsByType: {
      startup: [
        function exampleSmtpStartup(context) {
          context.appEvents.on("sendEmail", ({ job, sendEmailCompleted }) => {
            const { to, subject } = job.data;
            setTimeout(async () => {
              process.stdout.write(`mail to ${to}: ${subject}\n`);
              await sendEmailCompleted(job, `sent to ${to}`);
            }, 100);
          });
        },
      ],
    },
  });
}
