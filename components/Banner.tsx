/**
 * The workspace banner: what is coming to the owner's bot, or that it was
 * called off. Rendered by the server (in the owner's stored zone, or UTC), by
 * the banner island (in the browser's zone) and by the admin's review (as the
 * chosen owner will see it). No KV, no server-only imports.
 */
import type { BannerStatus } from "@/lib/types.ts";
import { formatDateTime, formatRelative } from "@/lib/format.ts";

/** "OpenClaw 1.9.0", or the image tag when the catalog does not know its version. */
function versionOf(
  a: { targetOpenclawVersion: string | null; targetImageTag: string | null },
): string {
  return a.targetOpenclawVersion
    ? `OpenClaw ${a.targetOpenclawVersion}`
    : `image tag ${a.targetImageTag ?? "unknown"}`;
}

/** The banner's sentence as plain text (for tests, previews and screen readers alike). */
export function bannerText(
  name: string,
  status: BannerStatus,
  timeZone: string | null,
  now: number,
): string | null {
  const s = status.scheduledAction;
  if (s?.onHold) {
    return `On hold: we will tell you the new time. The ${
      heldWhat(s)
    } of your bot ${name} is paused.`;
  }
  if (s) {
    const what = s.actionType === "version_change"
      ? `will upgrade to ${versionOf(s)}`
      : "will restart";
    return `Your bot ${name} ${what} at ${
      formatDateTime(s.scheduledAt, timeZone)
    } (${
      formatRelative(s.scheduledAt, now)
    }). Chat may be unavailable for a few minutes.`;
  }
  const c = status.cancelledAction;
  if (c) {
    const what = c.actionType === "version_change"
      ? `upgrade to ${versionOf(c)}`
      : "restart";
    return `The ${what} of your bot ${name} planned for ${
      formatDateTime(c.scheduledAt, timeZone)
    } has been called off. Nothing changes.`;
  }
  return null;
}

/** "upgrade to OpenClaw 1.9.0", "restart": what a paused rollout holds back. */
function heldWhat(
  s: NonNullable<BannerStatus["scheduledAction"]>,
): string {
  return s.actionType === "version_change"
    ? `upgrade to ${versionOf(s)}`
    : "restart";
}

export function Banner(
  { name, status, timeZone, now }: {
    name: string;
    status: BannerStatus;
    timeZone: string | null;
    now: number;
  },
) {
  const s = status.scheduledAction;
  if (s?.onHold) {
    // The time it was planned for will not happen: no countdown to it.
    return (
      <div
        class="banner banner-info"
        data-action-id={s.scheduledActionId}
        data-on-hold=""
      >
        <strong>On hold:</strong> we will tell you the new time. The{" "}
        {heldWhat(s)} of your bot <strong>{name}</strong> is paused.
      </div>
    );
  }
  if (s) {
    const what = s.actionType === "version_change"
      ? ` will upgrade to ${versionOf(s)}`
      : " will restart";
    return (
      <div class="banner banner-warn" data-action-id={s.scheduledActionId}>
        Your bot <strong>{name}</strong>
        {what} at{" "}
        <time dateTime={s.scheduledAt}>
          {formatDateTime(s.scheduledAt, timeZone)}
        </time>{" "}
        ({formatRelative(s.scheduledAt, now)}). Chat may be unavailable for a
        few minutes.{" "}
        <a href="/settings" class="banner-link">
          Choose when and how you hear of changes
        </a>
      </div>
    );
  }
  const c = status.cancelledAction;
  if (c) {
    const what = c.actionType === "version_change"
      ? `upgrade to ${versionOf(c)}`
      : "restart";
    return (
      <div class="banner banner-info" data-action-id={c.scheduledActionId}>
        The {what} of your bot <strong>{name}</strong> planned for{" "}
        <time dateTime={c.scheduledAt}>
          {formatDateTime(c.scheduledAt, timeZone)}
        </time>{" "}
        has been called off. Nothing changes.
      </div>
    );
  }
  return null;
}
