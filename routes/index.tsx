/** Your instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getOwnInstances } from "@/lib/scheduler/read.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import type { Instance } from "@/lib/types.ts";
import { StatusPill } from "@/components/StatusPill.tsx";
import type { BannerStatus } from "@/lib/notices/banner.ts";
import LocalTime from "@/islands/LocalTime.tsx";
import { Pager } from "@/components/Pager.tsx";

interface Data {
  instances: Instance[];
  page: number;
  pages: number;
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
    const { result, coming, versions } = await getOwnInstances(
      kv,
      ctx.state.user.id,
      Number(ctx.url.searchParams.get("page") ?? "1") || 1,
      now(),
    );
    return ctx.render({
      instances: result.items,
      page: result.page,
      pages: result.pages,
      coming,
      timeZone: ctx.state.user.timeZone,
      versions,
      isAdmin: ctx.state.role === "admin",
      name: ctx.state.user.name,
      now: now(),
    });
  },
};

export default function Home({ data, url }: PageProps<Data>) {
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
      <Pager page={data.page} pages={data.pages} url={url} />
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
