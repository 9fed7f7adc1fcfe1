export interface LocalSqs {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * fauxqs (an SQS emulator speaking the AWS JSON protocol) in this process, on a free
 * loopback port. It keeps messages in memory only: the local stack re-enqueues open jobs
 * from the table when it starts.
 */
export async function startLocalSqs(): Promise<LocalSqs> {
  // Loaded on use: the Lambda bundle leaves the local stack's emulator out.
  const { buildApp } = await import("fauxqs");
  const app = buildApp({ logger: false });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    endpoint: address,
    stop: async () => {
      await app.close();
    },
  };
}
