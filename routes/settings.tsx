/**
 * The signed-in user's own settings: when changes suit them and how they
 * hear of them. The island saves through `PUT /api/me/settings`; without
 * JavaScript the form posts here and the page answers with the same checks.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { getOwnerSettings, putOwnerSettings } from "@/lib/owners/settings.ts";
import { OwnerSettingsSchema } from "@/lib/owners/settings_schema.ts";
import { settingsFromForm } from "@/lib/owners/settings_form.ts";
import { timeZoneChoices } from "@/lib/owners/zones.ts";
import { type Issue, zodIssues } from "@/lib/errors.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { redirect } from "@/lib/web/http.ts";
import type { OwnerSettings } from "@/lib/types.ts";
import SettingsForm from "@/islands/SettingsForm.tsx";

interface Data {
  settings: OwnerSettings;
  zones: string[];
  csrfToken: string | null;
  problems: Issue[];
  saved: boolean;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    return ctx.render({
      settings: await getOwnerSettings(appContext().kv, ctx.state.user.id),
      zones: timeZoneChoices(),
      csrfToken: ctx.state.csrfToken,
      problems: [],
      saved: ctx.url.searchParams.has("saved"),
    });
  },
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const sent = settingsFromForm(await readForm(req));
    const parsed = OwnerSettingsSchema.safeParse(sent);
    if (!parsed.success) {
      return ctx.render({
        settings: sent,
        zones: timeZoneChoices(),
        csrfToken: ctx.state.csrfToken,
        problems: zodIssues(parsed.error),
        saved: false,
      }, { status: 400 });
    }
    const { kv, now } = appContext();
    await putOwnerSettings(kv, ctx.state.user.id, parsed.data, now());
    return redirect("/settings?saved");
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
        action="/settings"
        csrfToken={data.csrfToken}
        initial={data.settings}
        zones={data.zones}
        problems={data.problems}
        saved={data.saved}
      />
    </>
  );
}
