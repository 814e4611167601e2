/**
 * The signed "Change the time" page's picker: open at once, in the browser's
 * own zone once it runs (the owner's stored zone, or UTC, before).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { PostponePicker } from "@/components/PostponePicker.tsx";
import { localTimeZone } from "@/lib/format.ts";
import type { PostponeOffer } from "@/lib/owners/postpone_offer_model.ts";

export default function PostponePanel(
  props: { instanceId: string; offer: PostponeOffer; timeZone: string | null },
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
      {ready.value
        ? (
          <PostponePicker
            instanceId={props.instanceId}
            offer={props.offer}
            timeZone={zone.value}
            open
          />
        )
        : <p class="muted">Loading the times you may choose…</p>}
    </div>
  );
}
