/**
 * The dashboard's API client. Writes are JSON POSTs with the `x-bgjobs-request` header (the
 * server refuses any other write); the session cookie goes along on its own.
 */

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.field = body?.field;
  }
}

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function get(path) {
  return answer(await fetch(path, { headers: { accept: "application/json" } }));
}

export async function post(path, body = {}) {
  return answer(
    await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", "x-bgjobs-request": "1" },
      body: JSON.stringify(body),
    }),
  );
}

/** Polls a server-side operation until it ends; `onProgress` gets it each time. */
export async function follow(operationId, onProgress) {
  for (;;) {
    const operation = await get(`/api/operations/${operationId}`);
    onProgress?.(operation);
    if (operation.state !== "running") return operation;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
