/** The signed-in user's own settings: when changes suit them and how they hear of them. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { getOwnerSettings } from "@/lib/owners/settings.ts";
import { timeZoneChoices } from "@/lib/owners/zones.ts";
import type { OwnerSettings } from "@/lib/types.ts";
import SettingsForm from "@/islands/SettingsForm.tsx";

interface Data {
  settings: OwnerSettings;
  zones: string[];
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    return ctx.render({
      settings: await getOwnerSettings(appContext().kv, ctx.state.user.id),
      zones: timeZoneChoices(),
    });
  },
};

export default function SettingsPage({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Settings · KiloClaw</title>
      </Head>
      <p>
        <a href="/">← Your instances</a>
      </p>
      <h1>Settings</h1>
      <p class="muted">
        When maintenance suits you, and how you hear of it.
      </p>
      <SettingsForm
        endpoint="/api/me/settings"
        initial={data.settings}
        zones={data.zones}
      />
    </>
  );
}
