/** Admin: every instance — search and filters, pending actions, ticks to schedule for. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import {
  getInstanceTable,
  type InstanceListFilter,
} from "@/lib/views/list_reads.ts";
import type { InstancePage } from "@/lib/kv/instances.ts";
import { parseId } from "@/lib/ids.ts";
import { searchWords } from "@/lib/search.ts";
import type { State } from "@/lib/request_state.ts";
import { Pager } from "@/components/Pager.tsx";
import InstancePicker from "@/islands/InstancePicker.tsx";
import type { PickerRow } from "@/lib/views/form_model.ts";

interface Data {
  result: InstancePage;
  rows: PickerRow[];
  filter: InstanceListFilter;
  tags: string[];
  owners: { id: string; label: string }[];
  timeZone: string | null;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv } = appContext();
    const p = ctx.url.searchParams;
    const status = p.get("status");
    const owner = p.get("owner") ?? "";
    const filter: InstanceListFilter = {
      q: searchWords(p.get("q")),
      tag: searchWords(p.get("tag")),
      owner: owner ? parseId(owner, "owner") : "",
      status: status === "running" || status === "destroyed" ? status : "",
    };
    const page = Number(p.get("page") ?? "1") || 1;
    const { result, rows, tags, owners } = await getInstanceTable(
      kv,
      filter,
      page,
    );
    return ctx.render({
      result,
      rows,
      filter,
      tags,
      owners,
      timeZone: ctx.state.user?.timeZone ?? null,
    });
  },
};

export default function AdminInstances({ data, url }: PageProps<Data>) {
  const { result, filter } = data;
  const filtered = filter.q || filter.tag || filter.owner || filter.status;
  return (
    <>
      <Head>
        <title>Instances · Admin · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Instances</h1>
        <a class="button secondary" href="/admin/actions/new">
          Schedule an action
        </a>
      </div>
      <form method="get" class="filters" role="search" aria-label="Instances">
        <label class="grow">
          Search
          <input
            type="search"
            name="q"
            value={filter.q}
            placeholder="Name, owner, id or tag"
          />
        </label>
        <label>
          Image tag
          <select name="tag">
            <option value="">Any</option>
            {data.tags.map((t) => (
              <option value={t} selected={t === filter.tag}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Owner
          <select name="owner">
            <option value="">Anyone</option>
            {data.owners.map((o) => (
              <option value={o.id} selected={o.id === filter.owner}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status">
            <option value="">Any</option>
            <option value="running" selected={filter.status === "running"}>
              running
            </option>
            <option value="destroyed" selected={filter.status === "destroyed"}>
              destroyed
            </option>
          </select>
        </label>
        <button type="submit" class="secondary">Filter</button>
        {filtered && <a href="/admin">Clear</a>}
      </form>
      <p class="muted small" role="status">
        {result.total.toLocaleString("en-US")}{" "}
        instance{result.total === 1 ? "" : "s"}
        {filtered ? " match" : ""}
        {result.pages > 1 ? `, ${result.pageSize} a page` : ""}
      </p>
      {result.total === 0
        ? (
          <p class="empty" data-testid="no-match">
            {filtered
              ? (
                <>
                  No instance matches these filters.{" "}
                  <a href="/admin">Show every instance</a>
                </>
              )
              : "There are no instances yet."}
          </p>
        )
        : (
          <InstancePicker
            rows={data.rows}
            total={result.total}
            filter={filter}
            timeZone={data.timeZone}
          />
        )}
      <Pager page={result.page} pages={result.pages} url={url} />
    </>
  );
}
