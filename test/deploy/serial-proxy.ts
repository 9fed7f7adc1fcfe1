import { createServer, type IncomingMessage, request } from "node:http";

/** A proxy that hands its target one request at a time. */
export interface SerialProxy {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Requests forwarded so far. */
  forwarded(): number;
  stop(): Promise<void>;
}

/**
 * Bridges a moto gap measured here: moto's DynamoDB checks a conditional write's condition and
 * applies the write without a lock, so two concurrent conditional UpdateItems on one item can
 * both succeed (3 of 20 pairs did; DynamoDB's conditional writes are atomic, and the
 * project's claim and fencing rely on that). This proxy, on 127.0.0.1 and a free port, sends
 * the requests it receives to `target` one after another, so each conditional write meets the
 * state the previous one left, as on DynamoDB. Bodies and headers pass unchanged (moto does not
 * check signatures).
 *
 * @example const dynamodb = await startSerialProxy(moto.endpoint); // AWS_ENDPOINT_URL_DYNAMODB
 */
export async function startSerialProxy(target: string): Promise<SerialProxy> {
  const upstream = new URL(target);
  let queue: Promise<void> = Promise.resolve();
  let count = 0;
  const server = createServer((incoming, outgoing) => {
    const body = readBody(incoming);
    queue = queue.then(async () => {
      const payload = await body;
      count += 1;
      await new Promise<void>((resolve) => {
        const forwarded = request(
          {
            hostname: upstream.hostname,
            port: upstream.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(outgoing);
            response.on("end", resolve);
            response.on("error", resolve);
          },
        );
        forwarded.on("error", (error) => {
          outgoing.writeHead(502).end(`serial proxy: ${error.message}`);
          resolve();
        });
        forwarded.end(payload);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    forwarded: () => count,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => resolve(Buffer.concat(chunks)));
    incoming.on("error", reject);
  });
}
