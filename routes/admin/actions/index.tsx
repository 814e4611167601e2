/** Admin: scheduled actions, newest first, and the notice sweep's last run. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../../lib/context.ts";
import {
  type ActionSummary,
  listActions,
  type Page,
} from "../../../lib/scheduler/read.ts";
import { getLastSweepRun } from "../../../lib/notices/sweep.ts";
import type { State } from "../../../lib/state.ts";
import type { SweepRun } from "../../../lib/types.ts";
import { StatusPill } from "../../../components/StatusPill.tsx";
import {
  actionLabel,
  NoticeSummary,
} from "../../../components/ActionLabel.tsx";
import SweepButton from "../../../islands/SweepButton.tsx";
import SweepLag from "../../../islands/SweepLag.tsx";

interface Data {
  page: Page<ActionSummary>;
  lastRun: SweepRun | null;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv } = appContext();
    const [page, lastRun] = await Promise.all([
      listActions(kv, {
        cursor: ctx.url.searchParams.get("cursor"),
        limit: 25,
      }),
      getLastSweepRun(kv),
    ]);
    return ctx.render({ page, lastRun });
  },
};

export default function Actions({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Scheduled actions · Admin · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Scheduled actions</h1>
        <a class="button" href="/admin/actions/new">Schedule an action</a>
      </div>
      <SweepButton lastRun={data.lastRun} />
      <SweepLag />
      {data.page.items.length === 0
        ? <p>Nothing has been scheduled yet.</p>
        : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Action</th>
                  <th>When (UTC)</th>
                  <th>Status</th>
                  <th>Targets</th>
                  <th>Notice</th>
                </tr>
              </thead>
              <tbody>
                {data.page.items.map(({ action, counters, stages }) => (
                  <tr>
                    <td>
                      <a href={`/admin/actions/${action.id}`}>
                        {actionLabel(action)}
                      </a>
                      {action.reason && (
                        <div class="muted small">{action.reason}</div>
                      )}
                    </td>
                    <td class="nowrap">
                      {stages[0]?.scheduledAt.replace("T", " ").slice(0, 16) ??
                        "—"}
                    </td>
                    <td>
                      <StatusPill status={action.status} />
                    </td>
                    <td class="nowrap">
                      {counters.total} · {counters.applied} applied ·{" "}
                      {counters.skipped} skipped · {counters.failed} failed
                    </td>
                    <td>
                      <NoticeSummary action={action} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {data.page.cursor && (
        <p>
          <a
            href={`/admin/actions?cursor=${
              encodeURIComponent(data.page.cursor)
            }`}
          >
            Older actions →
          </a>
        </p>
      )}
    </>
  );
}
