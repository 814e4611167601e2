/** The owner's workspace page: the instance, and the banner when an action is coming. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getWorkspace } from "@/lib/views/instance_reads.ts";
import { parseId } from "@/lib/ids.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import type { Instance } from "@/lib/types.ts";
import type { BannerStatus } from "@/lib/notices/banner.ts";
import WorkspaceBanner from "@/islands/WorkspaceBanner.tsx";
import { LastRestart } from "@/components/LastRestart.tsx";
import { StatusPill } from "@/components/StatusPill.tsx";
import {
  type PostponeOffer,
  postponeOffer,
} from "@/lib/owners/postpone_offer.ts";
import { postponeSigner } from "@/lib/owners/postpone_link.ts";

interface Data {
  instance: Instance;
  openclawVersion: string | null;
  status: BannerStatus;
  postpone: PostponeOffer | null;
  postponePage: string | null;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, now } = appContext();
    const workspace = await getWorkspace(
      kv,
      parseId(ctx.params.instanceId, "instance id"),
      ctx.state.user.id,
      now(),
    );
    const postpone = workspace.status.scheduledAction
      ? await postponeOffer(kv, workspace.instance.id, ctx.state.user.id, now())
      : null;
    const postponePage = postpone?.allowed
      ? `/postpone/${
        (await postponeSigner(kv))(ctx.state.user.id, workspace.instance.id)
      }`
      : null;
    return ctx.render({
      ...workspace,
      postpone,
      postponePage,
      timeZone: ctx.state.user.timeZone,
      now: now(),
    });
  },
};

export default function Workspace({ data }: PageProps<Data>) {
  const { instance } = data;
  return (
    <>
      <Head>
        <title>{`${instance.name} · KiloClaw`}</title>
      </Head>
      <WorkspaceBanner
        instanceId={instance.id}
        name={instance.name}
        status={data.status}
        postpone={data.postpone}
        postponePage={data.postponePage}
        timeZone={data.timeZone}
        now={data.now}
      />
      <div class="page-head">
        <h1>{instance.name}</h1>
        <StatusPill status={instance.status} />
      </div>
      <dl class="facts">
        <dt>Version</dt>
        <dd>
          {data.openclawVersion
            ? `OpenClaw ${data.openclawVersion}`
            : "Unknown OpenClaw version"}{" "}
          <span class="muted">({instance.imageTag})</span>
        </dd>
        {instance.pinnedImageTag && (
          <>
            <dt>Pinned to</dt>
            <dd>{instance.pinnedImageTag}</dd>
          </>
        )}
        <LastRestart
          at={instance.lastRestartAt}
          never="Never"
          timeZone={data.timeZone}
          now={data.now}
        />
      </dl>
      <section class="chat-placeholder" aria-label="Chat">
        <p class="muted">Your chat with {instance.name} opens here.</p>
      </section>
    </>
  );
}
