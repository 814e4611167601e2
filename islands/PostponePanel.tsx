/**
 * The signed "Change the time" page's picker, open at once. Drawn by the
 * server in the owner's stored zone (or UTC) as a form that posts to the
 * page, so it works without JavaScript; once running, in the browser's own
 * zone, it posts to the API instead.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { PostponePicker } from "@/components/PostponePicker.tsx";
import { localTimeZone } from "@/lib/format.ts";
import type { PostponeOffer } from "@/lib/owners/postpone_offer_model.ts";

export default function PostponePanel(
  props: {
    instanceId: string;
    offer: PostponeOffer;
    timeZone: string | null;
    /** The page the form posts to without JavaScript. */
    action: string;
    csrfToken: string | null;
  },
) {
  const zone = useSignal(props.timeZone);
  const ready = useSignal(false);
  useEffect(() => {
    zone.value = localTimeZone();
    ready.value = true;
  }, []);
  return (
    <div
      data-testid="postpone-panel"
      data-enhanced={ready.value ? "" : undefined}
    >
      <PostponePicker
        // The browser's zone redraws the times once the island runs.
        key={ready.value ? "browser" : "server"}
        instanceId={props.instanceId}
        offer={props.offer}
        timeZone={zone.value}
        action={props.action}
        csrfToken={props.csrfToken}
        open
      />
    </div>
  );
}
