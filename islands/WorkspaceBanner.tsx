/**
 * The workspace banner, live: first drawn by the server in the owner's stored
 * zone (or UTC), then in the browser's own zone, and kept current without a
 * reload. While the page is visible it asks `/api/instances/:id/status` every
 * `pollSeconds`, and again as soon as the page comes back into view, so the
 * banner appears, turns "called off" or goes away on its own.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { pollWhileVisible } from "@/components/poll.ts";
import { Banner } from "@/components/Banner.tsx";
import { localTimeZone } from "@/lib/format.ts";
import type { BannerStatus } from "@/lib/types.ts";
import { PostponePicker } from "@/components/PostponePicker.tsx";
import type { PostponeOffer } from "@/lib/owners/postpone_offer_model.ts";

/** How often the banner asks again: a change shows within this many seconds. */
export const BANNER_POLL_SECONDS = 5;

interface Props {
  instanceId: string;
  name: string;
  status: BannerStatus;
  /** The zone the server rendered in: the owner's stored zone, or null for UTC. */
  timeZone: string | null;
  /** The server's clock when it rendered, so the first paint matches. */
  now: number;
  pollSeconds?: number;
  /** Whether the owner may postpone the change shown (null: nothing to postpone). */
  postpone?: PostponeOffer | null;
  /** The signed "Change the time" page, offered until the island runs (no JavaScript). */
  postponePage?: string | null;
}

export default function WorkspaceBanner(props: Props) {
  const status = useSignal<BannerStatus>(props.status);
  const name = useSignal(props.name);
  const zone = useSignal<string | null>(props.timeZone);
  const now = useSignal(props.now);
  const enhanced = useSignal(false);
  const postpone = useSignal<PostponeOffer | null>(props.postpone ?? null);
  const refreshNow = useSignal<() => void>(() => {});

  useEffect(() => {
    enhanced.value = true;
    zone.value = localTimeZone();
    now.value = Date.now();
    const every = (props.pollSeconds ?? BANNER_POLL_SECONDS) * 1000;
    let gone = false;

    async function refresh() {
      try {
        const res = await fetch(
          `/api/instances/${encodeURIComponent(props.instanceId)}/status`,
          { headers: { accept: "application/json" } },
        );
        // Signed out, or the instance is gone: nothing more to follow.
        if (res.status === 401 || res.status === 404) gone = true;
        if (res.ok) {
          const body = await res.json();
          name.value = body.name ?? name.value;
          postpone.value = body.postpone ?? null;
          status.value = {
            scheduledAction: body.scheduledAction ?? null,
            ...(body.cancelledAction
              ? { cancelledAction: body.cancelledAction }
              : {}),
          };
        }
      } catch {
        // Offline for a moment: the next round tries again.
      }
      now.value = Date.now();
    }

    refreshNow.value = refresh;
    return pollWhileVisible({
      every: () => every,
      tick: refresh,
      wake: refresh,
      done: () => gone,
    });
  }, []);

  // On hold, the banner already says a new time will come: nothing to pick.
  const offer = status.value.scheduledAction?.onHold
    ? null
    : status.value.scheduledAction
    ? postpone.value
    : null;
  return (
    <>
      <div
        class="banner-slot"
        role="status"
        data-testid="workspace-banner"
        data-enhanced={enhanced.value ? "" : undefined}
      >
        <Banner
          name={name.value}
          status={status.value}
          timeZone={zone.value}
          now={now.value}
        />
      </div>
      {offer?.allowed && !enhanced.value && props.postponePage && (
        <p class="postpone">
          <a href={props.postponePage}>Change time</a>
        </p>
      )}
      {offer && enhanced.value && (
        <PostponePicker
          instanceId={props.instanceId}
          offer={offer}
          timeZone={zone.value}
          onPostponed={() => refreshNow.value()}
        />
      )}
    </>
  );
}
