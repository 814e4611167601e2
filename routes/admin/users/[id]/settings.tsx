/** An admin edits a user's settings, with the same form the user has; each save is audited. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import { getUser, nameAndEmail } from "@/lib/kv/users.ts";
import { getOwnerSettings } from "@/lib/owners/settings.ts";
import { timeZoneChoices } from "@/lib/owners/zones.ts";
import { NotFoundError } from "@/lib/errors.ts";
import type { OwnerSettings } from "@/lib/types.ts";
import SettingsForm from "@/islands/SettingsForm.tsx";

interface Data {
  userId: string;
  who: string;
  settings: OwnerSettings;
  zones: string[];
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
    });
  },
};

export default function UserSettingsPage({ data }: PageProps<Data>) {
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
        endpoint={`/api/admin/users/${
          encodeURIComponent(data.userId)
        }/settings`}
        initial={data.settings}
        zones={data.zones}
        forWhom={data.who}
      />
    </>
  );
}
