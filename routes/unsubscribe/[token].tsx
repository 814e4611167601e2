/**
 * The one-click unsubscribe link of warning emails (RFC 8058). A mail
 * provider POSTs here without cookies or an Origin: the signed token is the
 * authority, so this path alone skips the CSRF and Origin checks (see
 * routes/_middleware.ts). A GET (someone opening the link) goes to the
 * settings page, which asks them to sign in.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { readUnsubscribeToken } from "@/lib/owners/unsubscribe.ts";
import { turnOffChannel } from "@/lib/owners/settings.ts";
import { redirect } from "@/lib/web/http.ts";
import type { State } from "@/lib/request_state.ts";

interface Data {
  /** The channel now off, or null: the link is not valid. */
  channel: "email" | "mobile_push" | null;
}

export const handler: Handlers<Data, State> = {
  GET() {
    return redirect("/settings");
  },
  async POST(_req, ctx) {
    const { kv, now } = appContext();
    const grant = await readUnsubscribeToken(kv, ctx.params.token);
    if (
      !grant || !(await turnOffChannel(kv, grant.userId, grant.channel, now()))
    ) {
      return ctx.render({ channel: null }, { status: 404 });
    }
    return ctx.render({ channel: grant.channel });
  },
};

export default function UnsubscribePage({ data }: PageProps<Data>) {
  const words = data.channel === "mobile_push"
    ? "push notifications"
    : "emails";
  return (
    <>
      <Head>
        <title>
          {data.channel
            ? "Unsubscribed · KiloClaw"
            : "Link not valid · KiloClaw"}
        </title>
      </Head>
      {data.channel
        ? (
          <>
            <h1>You are unsubscribed</h1>
            <p>
              You will no longer get warning {words}{" "}
              about your bots' maintenance. Cancellations and changes of time
              still reach you, and your workspace banner still shows what is
              coming.
            </p>
          </>
        )
        : (
          <>
            <h1>This link is not valid</h1>
            <p>
              It may have been changed on the way. Nothing was changed.
            </p>
          </>
        )}
      <p>
        <a href="/settings">Your notification settings</a>{" "}
        (sign-in required) let you turn them back on or choose quiet hours.
      </p>
    </>
  );
}
