/**
 * A connection that never reached its server says so: which service, at which URL, and the
 * socket's own words. The SDK's network errors name neither the service nor the endpoint
 * (`connect ECONNREFUSED 127.0.0.1:1234`), and `fetch` says only `fetch failed`.
 */

/** Socket errors meaning no answer came from the server (nothing it said was read). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** A service's endpoint did not answer: `cannot reach SQS at http://127.0.0.1:1234: connect ECONNREFUSED ...`. */
export class ServiceUnreachableError extends Error {
  override name = "ServiceUnreachableError";
  /** The socket error's code (`ECONNREFUSED`), kept for callers that test it. */
  readonly code: string | undefined;

  constructor(
    readonly service: string,
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${service} at ${url}: ${causeText(cause)}`, { cause });
    this.code = networkCode(cause);
  }
}

/** The socket error code of `error` or of its cause (fetch wraps it), if it is a network failure. */
export function networkCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 3; e = (e as Error).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    if (
      (e as Error).name === "TimeoutError" &&
      !(e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    )
      return "ETIMEDOUT";
  }
  return undefined;
}

function causeText(cause: unknown): string {
  // fetch's TypeError("fetch failed") carries the socket error as its cause.
  const inner = (cause as Error)?.cause ?? cause;
  return (inner as Error)?.message ?? String(inner);
}

/** The part of an SDK client's middleware stack used here. */
interface MiddlewareStackLike {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: Record<string, unknown>,
    ) => (args: unknown) => Promise<unknown>,
    options: { step: "initialize" | "finalizeRequest"; name: string; priority?: "low" | "high" },
  ): void;
}

const ENDPOINT_SEEN = "bgjobsEndpointSeen";

/**
 * Turns an SDK client's network failures, after its retries, into a `ServiceUnreachableError`
 * naming `service` and the URL the request went to (wherever the endpoint came from: the
 * caller, `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the config file, or AWS's own).
 */
export function nameUnreachableEndpoints(stack: MiddlewareStackLike, service: string): void {
  // Inside the retry loop: the request as sent, with its resolved endpoint.
  stack.add(
    (next, context) => (args) => {
      const request = (
        args as { request?: { protocol?: string; hostname?: string; port?: number } }
      ).request;
      if (request?.hostname) {
        const port = request.port ? `:${request.port}` : "";
        context[ENDPOINT_SEEN] = `${request.protocol ?? "https:"}//${request.hostname}${port}`;
      }
      return next(args);
    },
    { step: "finalizeRequest", name: "recordEndpoint", priority: "low" },
  );
  // Outside it: the SDK has retried the network error as it would; name it once.
  stack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const url = context[ENDPOINT_SEEN];
        if (typeof url === "string" && networkCode(error))
          throw new ServiceUnreachableError(service, url, error);
        throw error;
      }
    },
    { step: "initialize", name: "nameUnreachableEndpoint", priority: "high" },
  );
}
