import { once } from "node:events";
import { createServer, type Socket } from "node:net";

/** A message the server accepted: envelope and raw content (headers and body). */
export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface LocalSmtpServer {
  /** `smtp://127.0.0.1:<port>`, for Reaction's email-smtp plugin's `MAIL_URL`. */
  url: string;
  received: ReceivedMail[];
  /** Recipients answered `550` at RCPT TO, as a mailbox that does not exist is. */
  rejectedRecipients: Set<string>;
  stop(): Promise<void>;
}

/**
 * A plain SMTP server on 127.0.0.1 (a free port) that accepts mail and keeps it in memory:
 * where Reaction's email-smtp plugin delivers the `sendEmail` jobs' mail, through nodemailer,
 * so a test sees the email a shopper would get. No TLS, no auth (it advertises neither).
 */
export async function startSmtpServer(): Promise<LocalSmtpServer> {
  const received: ReceivedMail[] = [];
  const rejectedRecipients = new Set<string>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serve(socket, received, rejectedRecipients);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    rejectedRecipients,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(socket: Socket, received: ReceivedMail[], rejected: Set<string>): void {
  let buffered = "";
  let mail: ReceivedMail = { from: "", to: [], data: "" };
  let inData = false;
  const reply = (line: string) => socket.write(`${line}\r\n`);
  reply("220 127.0.0.1 ESMTP test server");
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf("\r\n"); end >= 0; end = buffered.indexOf("\r\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (inData) {
        if (line === ".") {
          inData = false;
          received.push(mail);
          mail = { from: "", to: [], data: "" };
          reply("250 OK: queued");
        } else {
          mail.data += `${line.startsWith("..") ? line.slice(1) : line}\n`;
        }
        continue;
      }
      const command = line.slice(0, 4).toUpperCase();
      const address = /<([^>]*)>/.exec(line)?.[1] ?? "";
      if (command === "EHLO" || command === "HELO") reply("250 127.0.0.1");
      else if (command === "MAIL") {
        mail.from = address;
        reply("250 OK");
      } else if (command === "RCPT") {
        if (rejected.has(address)) reply(`550 5.1.1 <${address}>: mailbox unavailable`);
        else {
          mail.to.push(address);
          reply("250 OK");
        }
      } else if (command === "DATA") {
        inData = true;
        reply("354 End data with <CR><LF>.<CR><LF>");
      } else if (command === "RSET") {
        mail = { from: "", to: [], data: "" };
        reply("250 OK");
      } else if (command === "QUIT") {
        reply("221 Bye");
        socket.end();
      } else reply("250 OK");
    }
  });
}
