/** Your instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../lib/context.ts";
import { listInstancesByOwner } from "../lib/kv/instances.ts";
import { listCatalog } from "../lib/kv/catalog.ts";
import { assertSignedIn, type State } from "../lib/state.ts";
import type { Instance } from "../lib/types.ts";
import { StatusPill } from "../components/StatusPill.tsx";
import { type BannerStatus, getBannerStatus } from "../lib/notices/banner.ts";
import LocalTime from "../islands/LocalTime.tsx";

interface Data {
  instances: Instance[];
  /** What the workspace banner of each instance says, when it says anything. */
  coming: Record<string, BannerStatus>;
  timeZone: string | null;
  versions: Record<string, string>;
  isAdmin: boolean;
  name: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, now } = appContext();
    const [instances, catalog] = await Promise.all([
      listInstancesByOwner(kv, ctx.state.user.id),
      listCatalog(kv),
    ]);
    instances.sort((a, b) => a.name.localeCompare(b.name));
    const statuses = await Promise.all(
      instances.map((i) => getBannerStatus(kv, i.id, now())),
    );
    return ctx.render({
      instances,
      coming: Object.fromEntries(
        instances.map((i, n) => [i.id, statuses[n]]).filter(([, b]) =>
          (b as BannerStatus).scheduledAction ||
          (b as BannerStatus).cancelledAction
        ),
      ),
      timeZone: ctx.state.user.timeZone,
      versions: Object.fromEntries(
        catalog.map((c) => [c.imageTag, c.openclawVersion]),
      ),
      isAdmin: ctx.state.role === "admin",
      name: ctx.state.user.name,
      now: now(),
    });
  },
};

export default function Home({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Your instances · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Your instances</h1>
        {data.isAdmin && <a class="button secondary" href="/admin">Admin</a>}
      </div>
      {data.instances.length === 0
        ? <p class="muted">You have no KiloClaw instances yet.</p>
        : (
          <ul class="cards">
            {data.instances.map((i) => (
              <li class="card">
                <a href={`/claw/${i.id}`} class="card-title">{i.name}</a>
                <div class="muted small">
                  {i.imageTag}
                  {data.versions[i.imageTag]
                    ? ` · OpenClaw ${data.versions[i.imageTag]}`
                    : ""}
                </div>
                <StatusPill status={i.status} />
                <Coming
                  status={data.coming[i.id]}
                  timeZone={data.timeZone}
                  now={data.now}
                />
              </li>
            ))}
          </ul>
        )}
    </>
  );
}

/** One line on the card for what the workspace banner says. */
function Coming(
  { status, timeZone, now }: {
    status?: BannerStatus;
    timeZone: string | null;
    now: number;
  },
) {
  const s = status?.scheduledAction;
  if (s) {
    const what = s.actionType === "version_change"
      ? `Upgrade to ${
        s.targetOpenclawVersion
          ? `OpenClaw ${s.targetOpenclawVersion}`
          : s.targetImageTag
      }`
      : "Restart";
    return (
      <p class="card-note warn small">
        {what} at{" "}
        <LocalTime
          at={s.scheduledAt}
          timeZone={timeZone}
          now={now}
          format="when"
        />
      </p>
    );
  }
  const c = status?.cancelledAction;
  if (c) {
    const what = c.actionType === "version_change" ? "upgrade" : "restart";
    return (
      <p class="card-note small">
        The {what} planned for{" "}
        <LocalTime at={c.scheduledAt} timeZone={timeZone} now={now} />{" "}
        was called off
      </p>
    );
  }
  return null;
}
