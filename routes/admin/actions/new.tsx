/** Admin: the schedule form (an island posting to the admin API). */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../../lib/context.ts";
import { listCatalog } from "../../../lib/kv/catalog.ts";
import type { State } from "../../../lib/state.ts";
import { isId } from "../../../lib/ids.ts";
import { MAX_TARGETS } from "../../../lib/scheduler/schemas.ts";
import type { ActionType, CatalogEntry } from "../../../lib/types.ts";
import ScheduleForm from "../../../islands/ScheduleForm.tsx";

interface Data {
  catalog: CatalogEntry[];
  instanceIds: string[];
  actionType: ActionType;
  minAheadSeconds: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, config } = appContext();
    const p = ctx.url.searchParams;
    return ctx.render({
      catalog: (await listCatalog(kv)).sort((a, b) =>
        a.imageTag.localeCompare(b.imageTag)
      ),
      instanceIds: p.getAll("instanceId").filter(isId).slice(0, MAX_TARGETS),
      actionType: p.get("type") === "version_change"
        ? "version_change"
        : "scheduled_restart",
      minAheadSeconds: config.scheduleMinAheadSeconds,
    });
  },
};

export default function NewAction({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Schedule an action · Admin · KiloClaw</title>
      </Head>
      <p>
        <a href="/admin/actions">← Scheduled actions</a>
      </p>
      <h1>Schedule an action</h1>
      <ScheduleForm
        catalog={data.catalog}
        instanceIds={data.instanceIds}
        defaultActionType={data.actionType}
        minAheadSeconds={data.minAheadSeconds}
      />
    </>
  );
}
