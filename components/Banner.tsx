/** The workspace banner: what is coming to this instance, or that it was called off. */
import type { BannerAction } from "../lib/types.ts";
import { formatWhen } from "../lib/format.ts";

type CancelledBanner = Pick<
  BannerAction,
  "scheduledActionId" | "actionType" | "scheduledAt"
>;

export function Banner(
  { scheduled, cancelled, timeZone }: {
    scheduled: BannerAction | null;
    cancelled: CancelledBanner | null;
    timeZone: string | null;
  },
) {
  if (scheduled) {
    const what = scheduled.actionType === "version_change"
      ? `will be upgraded to ${
        scheduled.targetOpenclawVersion
          ? `OpenClaw ${scheduled.targetOpenclawVersion}`
          : scheduled.targetImageTag
      }`
      : "will restart";
    return (
      <div
        class="banner banner-warn"
        role="status"
        data-action-id={scheduled.scheduledActionId}
      >
        <strong>Heads up:</strong> this instance {what} at{" "}
        {formatWhen(scheduled.scheduledAt, timeZone)}.{" "}
        It may be unavailable for a few minutes.
      </div>
    );
  }
  if (cancelled) {
    const what = cancelled.actionType === "version_change"
      ? "upgrade"
      : "restart";
    return (
      <div
        class="banner banner-info"
        role="status"
        data-action-id={cancelled.scheduledActionId}
      >
        The {what} planned for {formatWhen(cancelled.scheduledAt, timeZone)}
        {" "}
        has been called off. Nothing changes.
      </div>
    );
  }
  return null;
}
