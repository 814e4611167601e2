import type { ErrorPageProps } from "$fresh/server.ts";
import { log } from "@/lib/operations/log.ts";

export default function ServerError({ error }: ErrorPageProps) {
  log.error("page failed", { error: String((error as Error)?.stack ?? error) });
  return (
    <>
      <p class="muted">Error 500</p>
      <h1>Something went wrong</h1>
      <p>
        The page could not be shown. The error has been logged; try again in a
        moment.
      </p>
      <p>
        <a href="/">Back to your instances</a>
      </p>
    </>
  );
}
