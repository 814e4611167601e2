/** Admin: users in email order, a page at a time, with their role, time zone, devices and instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../lib/context.ts";
import { effectiveRole, listUsersPage } from "../../lib/kv/users.ts";
import { countInstancesOfOwner } from "../../lib/kv/instances.ts";
import { listCursor } from "../../lib/kv/cursor.ts";
import type { State } from "../../lib/state.ts";
import type { Role, User } from "../../lib/types.ts";
import { CursorPager } from "../../components/Pager.tsx";

interface Row {
  user: User;
  role: Role;
  instances: number;
}

interface Data {
  rows: Row[];
  cursor: string | null;
}

/** An owner of more instances than this shows as "1,000+". */
const COUNT_CAP = 1_000;

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, config } = appContext();
    const page = await listUsersPage(kv, {
      cursor: listCursor(ctx.url.searchParams.get("cursor")),
    });
    const rows = await Promise.all(page.items.map(async (user) => ({
      user,
      role: effectiveRole(user, config.adminEmails),
      instances: await countInstancesOfOwner(kv, user.id, COUNT_CAP),
    })));
    return ctx.render({ rows, cursor: page.cursor });
  },
};

export default function Users({ data, url }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Users · Admin · KiloClaw</title>
      </Head>
      <h1>Users</h1>
      <p class="muted small">
        {data.rows.length === 0
          ? "No users."
          : `${data.rows.length} user${
            data.rows.length === 1 ? "" : "s"
          } on this page, by email`}
      </p>
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Time zone</th>
              <th scope="col">Devices</th>
              <th scope="col">Instances</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map(({ user, role, instances }) => (
              <tr>
                <td data-label="User">
                  <div>
                    {user.name ?? <span class="muted">no name</span>}
                    <div class="muted small">{user.email}</div>
                  </div>
                </td>
                <td data-label="Role">{role}</td>
                <td data-label="Time zone">
                  {user.timeZone ?? <span class="muted">UTC</span>}
                </td>
                <td data-label="Devices">{user.pushTokens.length}</td>
                <td data-label="Instances">
                  {instances > 0
                    ? (
                      <a href={`/admin?owner=${encodeURIComponent(user.id)}`}>
                        {instances > COUNT_CAP
                          ? `${COUNT_CAP.toLocaleString("en-US")}+`
                          : instances}
                      </a>
                    )
                    : 0}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CursorPager url={url} cursor={data.cursor} />
    </>
  );
}
