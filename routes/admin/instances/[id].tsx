/** Admin: one instance — its facts, owner, the action pending on it, and its history. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../../lib/context.ts";
import {
  getInstanceDetail,
  type InstanceDetail,
} from "../../../lib/scheduler/read.ts";
import { getUser } from "../../../lib/kv/users.ts";
import { parseId } from "../../../lib/ids.ts";
import { getCatalogEntry } from "../../../lib/kv/catalog.ts";
import type { State } from "../../../lib/state.ts";
import type { User } from "../../../lib/types.ts";
import { StatusPill } from "../../../components/StatusPill.tsx";
import { TargetStatus } from "../../../components/TargetStatus.tsx";
import {
  actionLabel,
  NoticeSummary,
} from "../../../components/ActionLabel.tsx";
import { NotificationList } from "../../../components/NotificationList.tsx";
import { listAudit } from "../../../lib/kv/audit.ts";
import type { AuditEntry } from "../../../lib/types.ts";
import { AuditList } from "../../../components/AuditList.tsx";

interface Data {
  detail: InstanceDetail;
  owner: User | null;
  openclawVersion: string | null;
  audit: { items: AuditEntry[]; more: boolean };
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv } = appContext();
    const detail = await getInstanceDetail(
      kv,
      parseId(ctx.params.id, "instance id"),
    );
    const [owner, entry, audit] = await Promise.all([
      getUser(kv, detail.instance.ownerId),
      getCatalogEntry(kv, detail.instance.imageTag),
      listAudit(kv, {
        subject: { type: "instance", id: detail.instance.id },
        limit: 20,
      }),
    ]);
    return ctx.render({
      detail,
      owner,
      openclawVersion: entry?.openclawVersion ?? null,
      audit: { items: audit.items, more: audit.cursor !== null },
    });
  },
};

export default function AdminInstance({ data }: PageProps<Data>) {
  const { instance, pendingAction, history } = data.detail;
  const running = instance.status === "running";
  return (
    <>
      <Head>
        <title>{`${instance.name} · Admin · KiloClaw`}</title>
      </Head>
      <p>
        <a href="/admin">← Instances</a>
      </p>
      <div class="page-head">
        <h1>
          {instance.name} <StatusPill status={instance.status} />
        </h1>
        {running && !pendingAction && (
          <span class="row-inline">
            <a
              class="button secondary"
              href={`/admin/actions/new?instanceId=${instance.id}`}
            >
              Schedule restart
            </a>{" "}
            <a
              class="button secondary"
              href={`/admin/actions/new?type=version_change&instanceId=${instance.id}`}
            >
              Change version
            </a>
          </span>
        )}
      </div>
      <dl class="facts">
        <dt>Owner</dt>
        <dd>
          {data.owner
            ? `${data.owner.name ?? ""} <${data.owner.email}>`
            : (
              <span class="error">
                user record missing ({instance.ownerId})
              </span>
            )}
        </dd>
        <dt>Image tag</dt>
        <dd>
          <code>{instance.imageTag}</code>
          {data.openclawVersion && ` (OpenClaw ${data.openclawVersion})`}
        </dd>
        <dt>Pinned</dt>
        <dd>
          {instance.pinnedImageTag
            ? <code>{instance.pinnedImageTag}</code>
            : "no"}
        </dd>
        <dt>Last restart</dt>
        <dd>
          {instance.lastRestartAt
            ? new Date(instance.lastRestartAt).toUTCString()
            : "never"}
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{instance.id}</code>
        </dd>
      </dl>
      <h2>Pending action</h2>
      {pendingAction
        ? (
          <p>
            <a href={`/admin/actions/${pendingAction.action.id}`}>
              {actionLabel(pendingAction.action)}
            </a>{" "}
            at {new Date(pendingAction.stage.scheduledAt).toUTCString()} ·{" "}
            <NoticeSummary action={pendingAction.action} />
          </p>
        )
        : <p class="muted">Nothing is scheduled for this instance.</p>}
      <h2>History</h2>
      {history.length === 0
        ? <p class="muted">No actions have targeted this instance.</p>
        : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Action</th>
                  <th>Action status</th>
                  <th>This instance</th>
                  <th>Notifications</th>
                </tr>
              </thead>
              <tbody>
                {history.map(({ action, target, notifications }) => (
                  <tr>
                    <td>
                      <a href={`/admin/actions/${action.id}`}>
                        {actionLabel(action)}
                      </a>
                    </td>
                    <td>
                      <StatusPill status={action.status} />
                    </td>
                    <td>
                      <TargetStatus target={target} />
                    </td>
                    <td>
                      <NotificationList rows={notifications} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <h2>Changes</h2>
      <AuditList entries={data.audit.items} showSubject={false} />
      {data.audit.more && (
        <p>
          <a
            href={`/admin/audit?subjectType=instance&subjectId=${instance.id}`}
          >
            Every change to this instance →
          </a>
        </p>
      )}
    </>
  );
}
