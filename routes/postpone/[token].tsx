/**
 * The warning email's "Change the time" page: the signed token names the
 * owner's instance; the owner must be signed in (the middleware sends anyone
 * else to sign in and back), and anyone but that owner meets a 404.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { readPostponeToken } from "@/lib/owners/postpone_link.ts";
import {
  type PostponeOffer,
  postponeOffer,
} from "@/lib/owners/postpone_offer.ts";
import { getWorkspace } from "@/lib/views/instance_reads.ts";
import type { BannerStatus, Instance } from "@/lib/types.ts";
import { Banner } from "@/components/Banner.tsx";
import PostponePanel from "@/islands/PostponePanel.tsx";

interface Data {
  instance: Instance;
  status: BannerStatus;
  offer: PostponeOffer | null;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, now } = appContext();
    const grant = await readPostponeToken(kv, ctx.params.token);
    // Another owner's link answers like a link that is not valid.
    if (!grant || grant.userId !== ctx.state.user.id) {
      throw new NotFoundError("this link is not valid for you");
    }
    const { instance, status } = await getWorkspace(
      kv,
      grant.instanceId,
      ctx.state.user.id,
      now(),
    );
    const offer = status.scheduledAction
      ? await postponeOffer(kv, instance.id, ctx.state.user.id, now())
      : null;
    return ctx.render({
      instance,
      status,
      offer,
      timeZone: ctx.state.user.timeZone,
      now: now(),
    });
  },
};

export default function PostponePage({ data }: PageProps<Data>) {
  const { instance } = data;
  return (
    <>
      <Head>
        <title>{`Change the time · ${instance.name} · KiloClaw`}</title>
      </Head>
      <h1>Change the time of {instance.name}</h1>
      {data.status.scheduledAction
        ? (
          <Banner
            name={instance.name}
            status={data.status}
            timeZone={data.timeZone}
            now={data.now}
          />
        )
        : (
          <p data-testid="postpone-nothing">
            Nothing is planned for this bot now.
          </p>
        )}
      {data.offer && (
        <PostponePanel
          instanceId={instance.id}
          offer={data.offer}
          timeZone={data.timeZone}
        />
      )}
      <p>
        <a href={`/claw/${encodeURIComponent(instance.id)}`}>
          Open your workspace
        </a>
      </p>
    </>
  );
}
