/** Your instances. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getOwnInstances } from "@/lib/views/instance_reads.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import type { Instance } from "@/lib/types.ts";
import type { BannerStatus } from "@/lib/notices/banner.ts";
import OwnInstances from "@/islands/OwnInstances.tsx";
import { Pager } from "@/components/Pager.tsx";

interface Data {
  instances: Instance[];
  page: number;
  pages: number;
  /** What the workspace banner of each instance says, when it says anything. */
  coming: Record<string, BannerStatus>;
  timeZone: string | null;
  versions: Record<string, string>;
  isAdmin: boolean;
  name: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, now } = appContext();
    const { result, coming, versions } = await getOwnInstances(
      kv,
      ctx.state.user.id,
      Number(ctx.url.searchParams.get("page") ?? "1") || 1,
      now(),
    );
    return ctx.render({
      instances: result.items,
      page: result.page,
      pages: result.pages,
      coming,
      timeZone: ctx.state.user.timeZone,
      versions,
      isAdmin: ctx.state.role === "admin",
      name: ctx.state.user.name,
      now: now(),
    });
  },
};

export default function Home({ data, url }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Your instances · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Your instances</h1>
        <div class="head-actions">
          <a class="button secondary" href="/settings">Settings</a>
          {data.isAdmin && <a class="button secondary" href="/admin">Admin</a>}
        </div>
      </div>
      {data.instances.length === 0
        ? <p class="muted">You have no KiloClaw instances yet.</p>
        : (
          <OwnInstances
            instances={data.instances.map((i) => ({
              id: i.id,
              name: i.name,
              imageTag: i.imageTag,
              status: i.status,
            }))}
            page={data.page}
            versions={data.versions}
            coming={data.coming}
            timeZone={data.timeZone}
            now={data.now}
          />
        )}
      <Pager page={data.page} pages={data.pages} url={url} />
    </>
  );
}
