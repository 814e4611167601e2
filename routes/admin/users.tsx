/** Admin: users in email order, a page at a time, with their role, time zone, devices and instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import {
  INSTANCE_COUNT_CAP,
  listUserRows,
  type UserRow,
} from "@/lib/views/list_reads.ts";
import { listCursor } from "@/lib/kv/cursor.ts";
import type { State } from "@/lib/request_state.ts";
import { CursorPager } from "@/components/Pager.tsx";

interface Data {
  rows: UserRow[];
  cursor: string | null;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, config } = appContext();
    return ctx.render(
      await listUserRows(kv, {
        cursor: listCursor(ctx.url.searchParams.get("cursor")),
        adminEmails: config.adminEmails,
      }),
    );
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
            {data.rows.map(({ user, role, instances, instancesCapped }) => (
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
                  <div class="small">
                    <a
                      href={`/admin/users/${
                        encodeURIComponent(user.id)
                      }/settings`}
                    >
                      Settings
                      <span class="visually-hidden">
                        {` of ${user.name ?? user.email}`}
                      </span>
                    </a>
                  </div>
                </td>
                <td data-label="Devices">{user.pushTokens.length}</td>
                <td data-label="Instances">
                  {instances > 0
                    ? (
                      <a href={`/admin?owner=${encodeURIComponent(user.id)}`}>
                        {instancesCapped
                          ? `${INSTANCE_COUNT_CAP.toLocaleString("en-US")}+`
                          : instances.toLocaleString("en-US")}
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
