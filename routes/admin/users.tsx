/** Admin: every user, with their role, time zone, devices and instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../lib/context.ts";
import { effectiveRole, listUsers } from "../../lib/kv/users.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { State } from "../../lib/state.ts";
import type { Role, User } from "../../lib/types.ts";

interface Row {
  user: User;
  role: Role;
  instances: number;
}

export const handler: Handlers<Row[], State> = {
  async GET(_req, ctx) {
    const { kv, config } = appContext();
    const users = (await listUsers(kv)).sort((a, b) =>
      a.email.localeCompare(b.email)
    );
    const rows = await Promise.all(users.map(async (user) => {
      let instances = 0;
      for await (
        const _ of kv.list({ prefix: keys.instancesByOwner(user.id) })
      ) instances++;
      return { user, role: effectiveRole(user, config.adminEmails), instances };
    }));
    return ctx.render(rows);
  },
};

export default function Users({ data }: PageProps<Row[]>) {
  return (
    <>
      <Head>
        <title>Users · Admin · KiloClaw</title>
      </Head>
      <h1>Users</h1>
      <p class="muted small">
        {data.length} user{data.length === 1 ? "" : "s"}
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
            {data.map(({ user, role, instances }) => (
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
                        {instances}
                      </a>
                    )
                    : 0}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
