/** Admin: one action — its stage, counters, notice settings, targets and their notifications. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../../lib/context.ts";
import {
  type ActionDetail,
  getActionDetail,
} from "../../../lib/scheduler/read.ts";
import type { State } from "../../../lib/state.ts";
import { StatusPill } from "../../../components/StatusPill.tsx";
import { TargetStatus } from "../../../components/TargetStatus.tsx";
import {
  actionLabel,
  NoticeSummary,
} from "../../../components/ActionLabel.tsx";
import { NotificationList } from "../../../components/NotificationList.tsx";
import CancelButton from "../../../islands/CancelButton.tsx";
import MoveAction from "../../../islands/MoveAction.tsx";
import SweepButton from "../../../islands/SweepButton.tsx";
import { getLastSweepRun } from "../../../lib/notices/sweep.ts";
import { getInstances } from "../../../lib/kv/instances.ts";
import { getUser } from "../../../lib/kv/users.ts";
import type { SweepRun } from "../../../lib/types.ts";
import { API_TOKEN_ACTOR_ID, parseId } from "../../../lib/ids.ts";
import { listAudit } from "../../../lib/kv/audit.ts";
import type { AuditEntry } from "../../../lib/types.ts";
import { AuditList } from "../../../components/AuditList.tsx";

interface Data {
  detail: ActionDetail;
  lastRun: SweepRun | null;
  /** Instance names and owner emails of the targets on this page. */
  names: Record<string, string>;
  owners: Record<string, string>;
  creator: string;
  /** Set right after scheduling from the form: how many instances were left out and why. */
  justScheduled: { destroyed: number; pinned: number } | null;
  audit: { items: AuditEntry[]; more: boolean };
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv } = appContext();
    const actionId = parseId(ctx.params.id, "action id");
    const [detail, lastRun, audit] = await Promise.all([
      getActionDetail(kv, actionId, {
        targetCursor: ctx.url.searchParams.get("targets"),
        targetLimit: 50,
      }),
      getLastSweepRun(kv),
      listAudit(kv, { subject: { type: "action", id: actionId }, limit: 20 }),
    ]);
    const instances = await getInstances(
      kv,
      detail.targets.items.map((t) => t.target.instanceId),
    );
    const userIds = [
      ...new Set([
        ...detail.targets.items.map((t) => t.target.userId),
        detail.action.createdBy,
      ]),
    ];
    const users = await Promise.all(userIds.map((id) => getUser(kv, id)));
    const owners = Object.fromEntries(
      users.filter((u) => u !== null).map((u) => [u.id, u.email]),
    );
    return ctx.render({
      detail,
      lastRun,
      names: Object.fromEntries([...instances].map(([id, i]) => [id, i.name])),
      owners,
      audit: { items: audit.items, more: audit.cursor !== null },
      creator: detail.action.createdBy === API_TOKEN_ACTOR_ID
        ? "the admin API token"
        : owners[detail.action.createdBy] ?? detail.action.createdBy,
      justScheduled: ctx.url.searchParams.has("scheduled")
        ? {
          destroyed: Number(ctx.url.searchParams.get("destroyed")) || 0,
          pinned: Number(ctx.url.searchParams.get("pinned")) || 0,
        }
        : null,
    });
  },
};

export default function ActionPage({ data }: PageProps<Data>) {
  const { action, counters, stages, targets } = data.detail;
  const open = action.status === "scheduled" || action.status === "running";
  return (
    <>
      <Head>
        <title>{`${actionLabel(action)} · Admin · KiloClaw`}</title>
      </Head>
      <p>
        <a href="/admin/actions">← Scheduled actions</a>
      </p>
      <div class="page-head">
        <h1>
          {actionLabel(action)} <StatusPill status={action.status} />
        </h1>
        {action.status === "scheduled" && stages[0]?.status === "pending" && (
          <MoveAction
            actionId={action.id}
            scheduledAt={stages[0].scheduledAt}
            noticeLeadHours={action.noticeLeadHours}
            notify={action.notify}
          />
        )}
        {open && (
          <CancelButton
            url={`/api/admin/scheduled-actions/${action.id}/cancel`}
            label="Cancel action"
            confirmText="Cancel this action for every instance that has not been changed yet? Users who were warned will be told."
          />
        )}
      </div>
      {data.justScheduled && (
        <p class="flash flash-ok" role="status">
          Scheduled for {counters.total}{" "}
          instance{counters.total === 1 ? "" : "s"}.
          {data.justScheduled.pinned > 0 &&
            ` Left out ${data.justScheduled.pinned} pinned to another tag.`}
          {data.justScheduled.destroyed > 0 &&
            ` Left out ${data.justScheduled.destroyed} destroyed.`}
        </p>
      )}
      <dl class="facts">
        <dt>Scheduled for</dt>
        <dd>
          {stages.map((s) =>
            `${new Date(s.scheduledAt).toUTCString()} (stage ${
              s.index + 1
            }: ${s.status})`
          ).join("; ")}
        </dd>
        <dt>Targets</dt>
        <dd>
          {counters.total} in all · {counters.applied} applied ·{" "}
          {counters.skipped} skipped · {counters.failed} failed
        </dd>
        <dt>Notice</dt>
        <dd>
          <NoticeSummary action={action} />
        </dd>
        {action.noticeSubject && (
          <>
            <dt>Subject</dt>
            <dd>{action.noticeSubject}</dd>
          </>
        )}
        {action.noticeBody && (
          <>
            <dt>Message</dt>
            <dd class="prewrap">{action.noticeBody}</dd>
          </>
        )}
        {action.actionType === "version_change" && (
          <>
            <dt>Pinned instances</dt>
            <dd>{action.overridePins ? "changed too" : "skipped"}</dd>
          </>
        )}
        {action.reason && (
          <>
            <dt>Reason</dt>
            <dd>{action.reason}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          {new Date(action.createdAt).toUTCString()} by {data.creator}
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{action.id}</code>
        </dd>
      </dl>
      <h2>Notices</h2>
      <SweepButton lastRun={data.lastRun} />
      <h2>Targets</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Instance</th>
              <th>Change</th>
              <th>Status</th>
              <th>Notifications</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {targets.items.map(({ target, notifications }) => (
              <tr>
                <td>
                  <a href={`/admin/instances/${target.instanceId}`}>
                    {data.names[target.instanceId] ?? (
                      <code>{target.instanceId}</code>
                    )}
                  </a>
                  <div class="muted small">
                    {data.owners[target.userId] ??
                      `missing user ${target.userId}`}
                  </div>
                </td>
                <td class="nowrap">
                  {target.sourceImageTag}
                  {target.targetImageTag !== target.sourceImageTag &&
                    ` → ${target.targetImageTag}`}
                </td>
                <td>
                  <TargetStatus target={target} />
                </td>
                <td>
                  <NotificationList rows={notifications} />
                </td>
                <td>
                  {open && target.status === "pending" && (
                    <CancelButton
                      url={`/api/admin/scheduled-actions/${action.id}/targets/${target.id}/cancel`}
                      label="Cancel"
                      confirmText="Leave this instance out of the action? Its owner will be told if they were warned."
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {targets.cursor && (
        <p>
          <a
            href={`/admin/actions/${action.id}?targets=${
              encodeURIComponent(targets.cursor)
            }`}
          >
            More targets →
          </a>
        </p>
      )}
      <h2>Changes</h2>
      <AuditList entries={data.audit.items} showSubject={false} />
      {data.audit.more && (
        <p>
          <a
            href={`/admin/audit?subjectType=action&subjectId=${action.id}`}
          >
            Every change to this action →
          </a>
        </p>
      )}
    </>
  );
}
