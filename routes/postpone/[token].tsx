/**
 * The warning email's "Change the time" page: the signed token names the
 * owner's instance; the owner must be signed in (the middleware sends anyone
 * else to sign in and back), and anyone but that owner meets a 404. Without
 * JavaScript its form posts here and the postpone is made as the API makes it.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { AppError, NotFoundError } from "@/lib/errors.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { readPostponeToken } from "@/lib/owners/postpone_link.ts";
import {
  type PostponeOffer,
  postponeOffer,
} from "@/lib/owners/postpone_offer.ts";
import { postponeInstance } from "@/lib/scheduler/postpone.ts";
import { getWorkspace } from "@/lib/views/instance_reads.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { redirect } from "@/lib/web/http.ts";
import { formatDateTime, fromZonedInput, isTimeZone } from "@/lib/format.ts";
import type { BannerStatus, Instance } from "@/lib/types.ts";
import { Banner } from "@/components/Banner.tsx";
import PostponePanel from "@/islands/PostponePanel.tsx";

interface Data {
  instance: Instance;
  status: BannerStatus;
  offer: PostponeOffer | null;
  timeZone: string | null;
  now: number;
  csrfToken: string | null;
  /** What the form without JavaScript was told. */
  said: { ok: boolean; text: string } | null;
}

/** The owner's own instance the token names; a 404 for anyone else. */
async function grantedInstance(token: string, state: State) {
  assertSignedIn(state);
  const { kv } = appContext();
  const grant = await readPostponeToken(kv, token);
  // Another owner's link answers like a link that is not valid.
  if (!grant || grant.userId !== state.user.id) {
    throw new NotFoundError("this link is not valid for you");
  }
  return { user: state.user, instanceId: grant.instanceId };
}

async function pageData(
  instanceId: string,
  state: State,
  said: Data["said"],
): Promise<Data> {
  const { kv, now } = appContext();
  const { instance, status } = await getWorkspace(
    kv,
    instanceId,
    state.user!.id,
    now(),
  );
  return {
    instance,
    status,
    offer: status.scheduledAction
      ? await postponeOffer(kv, instance.id, state.user!.id, now())
      : null,
    timeZone: state.user!.timeZone,
    now: now(),
    csrfToken: state.csrfToken,
    said,
  };
}

/** The time the form names: a suggested start, or another time typed in its zone. */
function chosenTime(form: FormData): string | null {
  const to = String(form.get("postponeTo") ?? "");
  if (to && to !== "other") return Number.isFinite(Date.parse(to)) ? to : null;
  const zone = String(form.get("timeZone") ?? "UTC");
  const at = fromZonedInput(
    String(form.get("postponeOther") ?? ""),
    isTimeZone(zone) ? zone : "UTC",
  );
  return at.ok ? new Date(at.ms).toISOString() : null;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { instanceId } = await grantedInstance(ctx.params.token, ctx.state);
    const postponed = ctx.url.searchParams.get("postponed");
    return ctx.render(
      await pageData(
        instanceId,
        ctx.state,
        postponed && Number.isFinite(Date.parse(postponed))
          ? {
            ok: true,
            text: `Postponed to ${
              formatDateTime(postponed, ctx.state.user!.timeZone)
            }.`,
          }
          : null,
      ),
    );
  },
  async POST(req, ctx) {
    const { user, instanceId } = await grantedInstance(
      ctx.params.token,
      ctx.state,
    );
    const scheduledAt = chosenTime(await readForm(req));
    if (!scheduledAt) {
      return ctx.render(
        await pageData(instanceId, ctx.state, {
          ok: false,
          text: "Choose a suggested time, or enter the new date and time.",
        }),
        { status: 400 },
      );
    }
    try {
      const done = await postponeInstance(appContext(), instanceId, user, {
        scheduledAt,
      }, { timeZone: user.timeZone });
      return redirect(
        `${ctx.url.pathname}?${new URLSearchParams({
          postponed: done.scheduledAt,
        })}`,
      );
    } catch (err) {
      if (!(err instanceof AppError) || err.status === 404) throw err;
      const why = err.issues?.[0]?.message;
      return ctx.render(
        await pageData(instanceId, ctx.state, {
          ok: false,
          text: why
            ? `The new time ${why}.`
            : `It could not be postponed: ${err.message}.`,
        }),
        { status: err.status },
      );
    }
  },
};

export default function PostponePage({ data, url }: PageProps<Data>) {
  const { instance } = data;
  return (
    <>
      <Head>
        <title>{`Change the time · ${instance.name} · KiloClaw`}</title>
      </Head>
      <h1>Change the time of {instance.name}</h1>
      {data.said && (
        <p
          class={data.said.ok ? "flash flash-ok" : "error"}
          role={data.said.ok ? "status" : "alert"}
          data-testid="postpone-said"
        >
          {data.said.text}
        </p>
      )}
      {!data.status.scheduledAction && (
        <p data-testid="postpone-nothing">
          Nothing is planned for this bot now.
        </p>
      )}
      {data.offer && (
        // The banner and the picker share the browser's zone once it runs.
        <PostponePanel
          instanceId={instance.id}
          offer={data.offer}
          timeZone={data.timeZone}
          action={url.pathname}
          csrfToken={data.csrfToken}
          name={instance.name}
          status={data.status}
          now={data.now}
        />
      )}
      {data.status.scheduledAction && !data.offer && (
        <Banner
          name={instance.name}
          status={data.status}
          timeZone={data.timeZone}
          now={data.now}
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
