/** Your instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../lib/context.ts";
import { listInstancesByOwner } from "../lib/kv/instances.ts";
import { listCatalog } from "../lib/kv/catalog.ts";
import { assertSignedIn, type State } from "../lib/state.ts";
import type { Instance } from "../lib/types.ts";
import { StatusPill } from "../components/StatusPill.tsx";

interface Data {
  instances: Instance[];
  versions: Record<string, string>;
  isAdmin: boolean;
  name: string | null;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv } = appContext();
    const [instances, catalog] = await Promise.all([
      listInstancesByOwner(kv, ctx.state.user.id),
      listCatalog(kv),
    ]);
    instances.sort((a, b) => a.name.localeCompare(b.name));
    return ctx.render({
      instances,
      versions: Object.fromEntries(
        catalog.map((c) => [c.imageTag, c.openclawVersion]),
      ),
      isAdmin: ctx.state.role === "admin",
      name: ctx.state.user.name,
    });
  },
};

export default function Home({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Your instances · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Your instances</h1>
        {data.isAdmin && <a class="button secondary" href="/admin">Admin</a>}
      </div>
      {data.instances.length === 0
        ? <p class="muted">You have no KiloClaw instances yet.</p>
        : (
          <ul class="cards">
            {data.instances.map((i) => (
              <li class="card">
                <a href={`/claw/${i.id}`} class="card-title">{i.name}</a>
                <div class="muted small">
                  {i.imageTag}
                  {data.versions[i.imageTag]
                    ? ` · OpenClaw ${data.versions[i.imageTag]}`
                    : ""}
                </div>
                <StatusPill status={i.status} />
              </li>
            ))}
          </ul>
        )}
    </>
  );
}
