/** An admin reads and edits a user's settings; each edit is audited in the same write. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import { OwnerSettingsSchema } from "@/lib/owners/settings_schema.ts";
import { getOwnerSettings, putOwnerSettings } from "@/lib/owners/settings.ts";
import { userSettingsAudit } from "@/lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async GET(_req, ctx) {
    const id = parseId(ctx.params.id, "user id");
    return Response.json(await getOwnerSettings(appContext().kv, id));
  },
  async PUT(req, ctx) {
    const id = parseId(ctx.params.id, "user id");
    const input = parseOrThrow(OwnerSettingsSchema, await readJson(req));
    const { kv, now } = appContext();
    return Response.json(
      await putOwnerSettings(
        kv,
        id,
        input,
        now(),
        userSettingsAudit(ctx.state, id, now()),
      ),
    );
  },
};
