/**
 * An admin edits a user's settings, with the same form the user has (posted
 * here without JavaScript); each save is audited.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import { getUser, nameAndEmail } from "@/lib/kv/users.ts";
import { getOwnerSettings, putOwnerSettings } from "@/lib/owners/settings.ts";
import { OwnerSettingsSchema } from "@/lib/owners/settings_schema.ts";
import { settingsFromForm } from "@/lib/owners/settings_form.ts";
import { timeZoneChoices } from "@/lib/owners/zones.ts";
import { userSettingsAudit } from "@/lib/scheduler/audit.ts";
import { type Issue, NotFoundError, zodIssues } from "@/lib/errors.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { redirect } from "@/lib/web/http.ts";
import type { OwnerSettings } from "@/lib/types.ts";
import SettingsForm from "@/islands/SettingsForm.tsx";

interface Data {
  userId: string;
  who: string;
  settings: OwnerSettings;
  zones: string[];
  csrfToken: string | null;
  problems: Issue[];
  saved: boolean;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const id = parseId(ctx.params.id, "user id");
    const { kv } = appContext();
    const user = await getUser(kv, id);
    if (!user) throw new NotFoundError(`user ${id} not found`);
    return ctx.render({
      userId: id,
      who: nameAndEmail(user),
      settings: await getOwnerSettings(kv, id),
      zones: timeZoneChoices(),
      csrfToken: ctx.state.csrfToken,
      problems: [],
      saved: ctx.url.searchParams.has("saved"),
    });
  },
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "user id");
    const { kv, now } = appContext();
    const user = await getUser(kv, id);
    if (!user) throw new NotFoundError(`user ${id} not found`);
    const sent = settingsFromForm(await readForm(req));
    const parsed = OwnerSettingsSchema.safeParse(sent);
    if (!parsed.success) {
      return ctx.render({
        userId: id,
        who: nameAndEmail(user),
        settings: sent,
        zones: timeZoneChoices(),
        csrfToken: ctx.state.csrfToken,
        problems: zodIssues(parsed.error),
        saved: false,
      }, { status: 400 });
    }
    await putOwnerSettings(
      kv,
      id,
      parsed.data,
      now(),
      userSettingsAudit(ctx.state, id, now()),
    );
    return redirect(`/admin/users/${encodeURIComponent(id)}/settings?saved`);
  },
};

export default function UserSettingsPage({ data }: PageProps<Data>) {
  const path = `/admin/users/${encodeURIComponent(data.userId)}/settings`;
  return (
    <>
      <Head>
        <title>{`Settings of ${data.who} · KiloClaw`}</title>
      </Head>
      <p>
        <a href="/admin/users">← Users</a>
      </p>
      <h1>Settings of {data.who}</h1>
      <p class="muted">
        Saved here, a change is recorded in the audit under your name.
      </p>
      <SettingsForm
        endpoint={`/api${path}`}
        action={path}
        csrfToken={data.csrfToken}
        problems={data.problems}
        saved={data.saved}
        initial={data.settings}
        zones={data.zones}
        forWhom={data.who}
      />
    </>
  );
}
