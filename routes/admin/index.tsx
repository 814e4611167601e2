/** Admin: every instance — search and filters, pending actions, ticks to schedule for. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../lib/context.ts";
import { type InstancePage, searchInstances } from "../../lib/kv/instances.ts";
import {
  getUsers,
  listUsersPage,
  MAX_USER_PAGE_SIZE,
} from "../../lib/kv/users.ts";
import { listCatalog } from "../../lib/kv/catalog.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getManyById, getManyChunked } from "../../lib/kv/read.ts";
import type { PendingTargetLock } from "../../lib/kv/actions.ts";
import { parseId } from "../../lib/ids.ts";
import { searchWords } from "../../lib/search.ts";
import type { State } from "../../lib/state.ts";
import type { ScheduledAction, Stage } from "../../lib/types.ts";
import { actionLabel } from "../../components/ActionLabel.tsx";
import { Pager } from "../../components/Pager.tsx";
import InstancePicker, {
  type PickerRow,
} from "../../islands/InstancePicker.tsx";

interface Data {
  result: InstancePage;
  rows: PickerRow[];
  filter: { q: string; tag: string; owner: string; status: string };
  tags: string[];
  owners: { id: string; label: string }[];
  timeZone: string | null;
}

/** Each instance's pending action, when it has one: the lock, its action and stage. */
async function pendingOf(kv: Deno.Kv, ids: string[]) {
  const locks = await getManyChunked<PendingTargetLock>(
    kv,
    ids.map((id) => keys.instancePendingTarget(id)),
  );
  const held = new Map(
    ids.flatMap((id, i) => locks[i].value ? [[id, locks[i].value!]] : []),
  );
  const actionIds = [...held.values()].map((l) => l.actionId);
  const [actions, stages] = await Promise.all([
    getManyById<ScheduledAction>(kv, actionIds, keys.action),
    getManyById<Stage>(kv, actionIds, (id) => keys.stage(id, 0)),
  ]);
  return (id: string): PickerRow["pending"] => {
    const lock = held.get(id);
    const action = lock && actions.get(lock.actionId)?.value;
    if (!lock || !action) return null;
    return {
      actionId: action.id,
      label: actionLabel(action),
      scheduledAt: stages.get(action.id)?.value?.scheduledAt ?? null,
    };
  };
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv } = appContext();
    const p = ctx.url.searchParams;
    const status = p.get("status");
    const owner = p.get("owner") ?? "";
    const filter = {
      q: searchWords(p.get("q")),
      tag: searchWords(p.get("tag")),
      owner: owner ? parseId(owner, "owner") : "",
      status: status === "running" || status === "destroyed" ? status : "",
    };
    const page = Number(p.get("page") ?? "1") || 1;
    const [result, catalog, someUsers] = await Promise.all([
      searchInstances(kv, {
        query: filter.q,
        tag: filter.tag,
        ownerId: filter.owner || undefined,
        status: filter.status as "" | "running" | "destroyed",
        page,
        // A page of ticks: "select all on this page" picks 50.
        pageSize: 50,
      }),
      listCatalog(kv),
      // The owner filter offers a page of users; the one chosen is always among them.
      listUsersPage(kv, { limit: MAX_USER_PAGE_SIZE }),
    ]);
    const users = await getUsers(kv, [
      ...result.items.map((i) => i.ownerId),
      ...(filter.owner ? [filter.owner] : []),
    ]);
    for (const u of someUsers.items) users.set(u.id, u);
    const label = Object.fromEntries(
      [...users.values()].map((
        u,
      ) => [u.id, u.name ? `${u.name} <${u.email}>` : u.email]),
    );
    const owners = [
      ...someUsers.items.map((u) => u.id),
      ...(filter.owner && !someUsers.items.some((u) => u.id === filter.owner) &&
          label[filter.owner]
        ? [filter.owner]
        : []),
    ];
    const versions = new Map(
      catalog.map((c) => [c.imageTag, c.openclawVersion]),
    );
    const pending = await pendingOf(kv, result.items.map((i) => i.id));
    return ctx.render({
      result,
      rows: result.items.map((i) => ({
        id: i.id,
        name: i.name,
        owner: label[i.ownerId] ?? `missing user ${i.ownerId}`,
        imageTag: i.imageTag,
        openclawVersion: versions.get(i.imageTag) ?? null,
        pinnedImageTag: i.pinnedImageTag,
        status: i.status,
        pending: pending(i.id),
      })),
      filter,
      tags: catalog.map((c) => c.imageTag).sort().reverse(),
      owners: owners.map((id) => ({ id, label: label[id] }))
        .sort((a, b) => a.label.localeCompare(b.label)),
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
        {result.total} instance{result.total === 1 ? "" : "s"}
        {filtered ? " match" : ""}
        {result.pages > 1 ? `, ${result.pageSize} a page` : ""}
      </p>
      <InstancePicker
        rows={data.rows}
        total={result.total}
        filter={filter}
        timeZone={data.timeZone}
      />
      <Pager page={result.page} pages={result.pages} url={url} />
    </>
  );
}
