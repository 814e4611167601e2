/** Admin: scheduled actions, newest first, and the notice sweep's last run. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import {
  type ActionSummary,
  getActionsPage,
  type Page,
} from "@/lib/scheduler/read.ts";
import type { State } from "@/lib/request_state.ts";
import type { SweepRun } from "@/lib/types.ts";
import { StatusPill } from "@/components/StatusPill.tsx";
import { actionLabel, NoticeSummary } from "@/components/ActionLabel.tsx";
import SweepButton from "@/islands/SweepButton.tsx";
import LocalTime from "@/islands/LocalTime.tsx";
import SweepLag from "@/islands/SweepLag.tsx";

interface Data {
  page: Page<ActionSummary>;
  lastRun: SweepRun | null;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, now } = appContext();
    return ctx.render({
      ...(await getActionsPage(kv, ctx.url.searchParams.get("cursor"))),
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
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
            <table class="responsive">
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">When</th>
                  <th scope="col">Status</th>
                  <th scope="col">Instances</th>
                  <th scope="col">Notice</th>
                </tr>
              </thead>
              <tbody>
                {data.page.items.map(({ action, counters, stages }) => (
                  <tr>
                    <td data-label="Action">
                      <div>
                        <a href={`/admin/actions/${action.id}`}>
                          {actionLabel(action)}
                        </a>
                        {action.reason && (
                          <div class="muted small">{action.reason}</div>
                        )}
                      </div>
                    </td>
                    <td data-label="When">
                      {stages[0]
                        ? (
                          <LocalTime
                            at={stages[0].scheduledAt}
                            timeZone={data.timeZone}
                            now={data.now}
                            format="when"
                          />
                        )
                        : "—"}
                    </td>
                    <td data-label="Status">
                      <StatusPill status={action.status} />
                    </td>
                    <td data-label="Instances">
                      {counters.total} · {counters.applied} applied ·{" "}
                      {counters.skipped} skipped · {counters.failed} failed
                    </td>
                    <td data-label="Notice">
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
