/** Admin: one instance — its facts, owner, the action pending on it, and its history. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import {
  getInstancePage,
  type InstanceDetail,
} from "@/lib/views/instance_reads.ts";
import { nameAndEmail, userLabel } from "@/lib/kv/users.ts";
import { parseId } from "@/lib/ids.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import type { CatalogEntry, User } from "@/lib/types.ts";
import { freshScheduleForm } from "@/lib/views/schedule_form.ts";
import type { ScheduleFormValues } from "@/lib/views/form_model.ts";
import LocalTime from "@/islands/LocalTime.tsx";
import ScheduleDialog from "@/islands/ScheduleDialog.tsx";
import { LastRestart } from "@/components/LastRestart.tsx";
import { StatusPill } from "@/components/StatusPill.tsx";
import { TargetStatus } from "@/components/TargetStatus.tsx";
import { actionLabel } from "@/lib/action_words.ts";
import { NoticeSummary } from "@/components/NoticeSummary.tsx";
import { NotificationList } from "@/components/NotificationList.tsx";
import type { RecentChanges } from "@/lib/kv/audit.ts";
import { RecentChangesSection } from "@/components/AuditList.tsx";

interface Data {
  detail: InstanceDetail;
  owner: User | null;
  openclawVersion: string | null;
  audit: RecentChanges;
  catalog: CatalogEntry[];
  form: ScheduleFormValues;
  minAheadSeconds: number;
  csrfToken: string | null;
  now: number;
  timeZone: string | null;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, config, now } = appContext();
    const { detail, owner, catalog, audit } = await getInstancePage(
      kv,
      parseId(ctx.params.id, "instance id"),
    );
    const t = now();
    const newest = catalog.find((c) =>
      c.available && c.imageTag !== detail.instance.imageTag
    );
    return ctx.render({
      detail,
      owner,
      openclawVersion: catalog.find((c) =>
        c.imageTag === detail.instance.imageTag
      )?.openclawVersion ?? null,
      catalog,
      form: freshScheduleForm(t, ctx.state.user.timeZone, {
        imageTag: newest?.imageTag ?? "",
        instanceIds: [detail.instance.id],
      }),
      minAheadSeconds: config.scheduleMinAheadSeconds,
      csrfToken: ctx.state.csrfToken,
      now: t,
      timeZone: ctx.state.user.timeZone,
      audit,
    });
  },
};

export default function AdminInstance({ data }: PageProps<Data>) {
  const { instance, history } = data.detail;
  const running = instance.status === "running";
  // A large action still being written holds the instance, but owners see nothing of it yet.
  const preparing = data.detail.pendingAction?.action.status === "preparing"
    ? data.detail.pendingAction.action
    : null;
  const pendingAction = preparing ? null : data.detail.pendingAction;
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
        {running && !pendingAction && !preparing && (
          <ScheduleDialog
            action="/admin/actions/new"
            instance={{
              id: instance.id,
              name: instance.name,
              owner: userLabel(data.owner, instance.ownerId),
              imageTag: instance.imageTag,
              pinnedImageTag: instance.pinnedImageTag,
              status: instance.status,
            }}
            values={data.form}
            errors={[]}
            preview={null}
            catalog={data.catalog}
            minAheadSeconds={data.minAheadSeconds}
            csrfToken={data.csrfToken}
            now={data.now}
            viewerZone={data.timeZone}
            testResult={null}
            notice={null}
          />
        )}
      </div>
      <dl class="facts">
        <dt>Owner</dt>
        <dd>
          {data.owner ? nameAndEmail(data.owner) : (
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
        <LastRestart
          at={instance.lastRestartAt}
          never="never"
          timeZone={data.timeZone}
          now={data.now}
        />
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
              {actionLabel(
                pendingAction.action,
                versionOf(data.catalog, pendingAction.action.imageTag),
              )}
            </a>{" "}
            {pendingAction.action.status === "paused"
              ? (
                <strong data-testid="pending-paused">
                  on hold: the rollout is paused before this instance's wave
                </strong>
              )
              : (
                <>
                  at{" "}
                  <LocalTime
                    at={pendingAction.stage.scheduledAt}
                    timeZone={data.timeZone}
                    now={data.now}
                    format="when"
                  />
                </>
              )} · <NoticeSummary action={pendingAction.action} />
          </p>
        )
        : preparing
        ? (
          <p data-testid="pending-preparing">
            <a href={`/admin/actions/${preparing.id}`}>
              {actionLabel(
                preparing,
                versionOf(data.catalog, preparing.imageTag),
              )}
            </a>{" "}
            <StatusPill status="preparing" />: its instances are still being
            written; the owner is told nothing until the whole action is
            written.
          </p>
        )
        : <p class="muted">Nothing is scheduled for this instance.</p>}
      <h2>History</h2>
      {history.length === 0
        ? <p class="muted">No actions have targeted this instance.</p>
        : (
          <div class="table-wrap">
            <table class="responsive">
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">Action status</th>
                  <th scope="col">This instance</th>
                  <th scope="col">Notifications</th>
                </tr>
              </thead>
              <tbody>
                {history.map(({ action, target, notifications }) => (
                  <tr>
                    <td data-label="Action">
                      <a href={`/admin/actions/${action.id}`}>
                        {actionLabel(
                          action,
                          versionOf(data.catalog, action.imageTag),
                        )}
                      </a>
                    </td>
                    <td data-label="Status">
                      <StatusPill status={action.status} />
                    </td>
                    <td data-label="This instance">
                      <div>
                        <TargetStatus target={target} />
                      </div>
                    </td>
                    <td data-label="Notices">
                      <NotificationList rows={notifications} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <RecentChangesSection
        changes={data.audit}
        subject={{ type: "instance", id: instance.id }}
        timeZone={data.timeZone}
        now={data.now}
      />
    </>
  );
}

/** The OpenClaw version an action's tag stands for, when the catalog knows it. */
function versionOf(catalog: CatalogEntry[], tag: string | null) {
  return catalog.find((c) => c.imageTag === tag)?.openclawVersion ?? null;
}
