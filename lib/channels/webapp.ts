import type { ChannelDispatcher } from "./types.ts";

/**
 * The workspace banner needs no delivery: the banner reads the action itself.
 * The row exists so the banner can follow it (shown once the notice is due,
 * hidden when the admin left the webapp channel out).
 */
export const webappDispatcher: ChannelDispatcher = {
  channel: "webapp",
  maxGroupSize: 1000,
  deliveredByClaim: { detail: "banner" },
  dispatch(items) {
    return Promise.resolve(
      items.map(() => ({ status: "sent" as const, detail: "banner" })),
    );
  },
};
