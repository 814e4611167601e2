/**
 * The signed "Change the time" page's banner and picker, open at once. Drawn
 * by the server in the owner's stored zone (or UTC) as a form that posts to
 * the page, so it works without JavaScript; once running, both are in the
 * browser's own zone, it posts to the API instead, and the banner shows the
 * new time.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { PostponePicker } from "@/components/PostponePicker.tsx";
import { localTimeZone } from "@/lib/format.ts";
import type {
  PostponeAnswer,
  PostponeOffer,
} from "@/lib/owners/postpone_offer_model.ts";
import { Banner } from "@/components/Banner.tsx";
import type { BannerStatus } from "@/lib/types.ts";

export default function PostponePanel(
  props: {
    instanceId: string;
    offer: PostponeOffer;
    timeZone: string | null;
    /** The page the form posts to without JavaScript. */
    action: string;
    csrfToken: string | null;
    /** The banner above the picker: the instance's name and what is coming. */
    name: string;
    status: BannerStatus;
    /** The server's clock when it rendered, so the first paint matches. */
    now: number;
  },
) {
  const zone = useSignal(props.timeZone);
  const ready = useSignal(false);
  const status = useSignal(props.status);
  const now = useSignal(props.now);
  useEffect(() => {
    zone.value = localTimeZone();
    now.value = Date.now();
    ready.value = true;
  }, []);
  const postponed = (answer: PostponeAnswer) => {
    const coming = status.value.scheduledAction;
    if (!coming) return;
    status.value = {
      ...status.value,
      scheduledAction: { ...coming, scheduledAt: answer.scheduledAt },
    };
    now.value = Date.now();
  };
  return (
    <div
      data-testid="postpone-panel"
      data-enhanced={ready.value ? "" : undefined}
    >
      <Banner
        name={props.name}
        status={status.value}
        timeZone={zone.value}
        now={now.value}
      />
      <PostponePicker
        // The browser's zone redraws the times once the island runs.
        key={ready.value ? "browser" : "server"}
        instanceId={props.instanceId}
        offer={props.offer}
        timeZone={zone.value}
        action={props.action}
        csrfToken={props.csrfToken}
        onPostponed={postponed}
        open
      />
    </div>
  );
}
