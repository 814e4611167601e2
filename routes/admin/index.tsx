/** Admin: every instance, searchable by name, owner and tag, paged. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../lib/context.ts";
import { type InstancePage, searchInstances } from "../../lib/kv/instances.ts";
import { getUsers } from "../../lib/kv/users.ts";
import { searchWords } from "../../lib/search.ts";
import type { State } from "../../lib/state.ts";
import { StatusPill } from "../../components/StatusPill.tsx";
import { Pager } from "../../components/Pager.tsx";

interface Data {
  result: InstancePage;
  query: string;
  owners: Record<string, string>;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv } = appContext();
    const query = searchWords(ctx.url.searchParams.get("q"));
    const page = Number(ctx.url.searchParams.get("page") ?? "1") || 1;
    const result = await searchInstances(kv, { query, page });
    const users = await getUsers(kv, result.items.map((i) => i.ownerId));
    const owners = Object.fromEntries(
      [...users.values()].map((
        u,
      ) => [u.id, u.name ? `${u.name} <${u.email}>` : u.email]),
    );
    return ctx.render({ result, query, owners });
  },
};

export default function AdminInstances({ data, url }: PageProps<Data>) {
  const { result, query, owners } = data;
  return (
    <>
      <Head>
        <title>Instances · Admin · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Instances</h1>
        <a class="button" href="/admin/actions/new">Schedule an action</a>
      </div>
      <form method="get" class="search" role="search">
        <input
          type="search"
          name="q"
          value={query}
          placeholder="Search by name, owner or image tag"
          aria-label="Search instances"
        />
        <button type="submit" class="secondary">Search</button>
      </form>
      <p class="muted small">
        {result.total} instance{result.total === 1 ? "" : "s"}
        {query ? ` matching “${query}”` : ""}
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Owner</th>
              <th>Image tag</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {result.items.map((i) => (
              <tr>
                <td>
                  <a href={`/admin/instances/${i.id}`}>{i.name}</a>
                </td>
                <td>
                  {owners[i.ownerId] ?? (
                    <span class="muted">missing user {i.ownerId}</span>
                  )}
                </td>
                <td>
                  <code>{i.imageTag}</code>
                  {i.pinnedImageTag && (
                    <div class="muted small">pinned to {i.pinnedImageTag}</div>
                  )}
                </td>
                <td>
                  <StatusPill status={i.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={result.page} pages={result.pages} url={url} />
    </>
  );
}
