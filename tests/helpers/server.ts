/** Serves `handler` on a free local port for the duration of `fn`. */
export async function withServer<T>(
  handler: (
    req: Request,
    info: Deno.ServeHandlerInfo,
  ) => Response | Promise<Response>,
  fn: (origin: string) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const server = Deno.serve(
    {
      port: 0,
      hostname: "127.0.0.1",
      signal: controller.signal,
      onListen: () => {},
    },
    handler,
  );
  try {
    return await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    controller.abort();
    await server.finished;
  }
}
