/**
 * For load balancers and on-call: 200 while notices go out on time, 503 when
 * the sweep lag or the time since the last sweep passes its limit. No
 * sign-in, no secrets, no user data: times, seconds and limits only.
 */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readHealth } from "@/lib/operations/health.ts";

export const handler: Handlers = {
  async GET() {
    const health = await readHealth(appContext());
    return Response.json(health, { status: health.ok ? 200 : 503 });
  },
};
