/**
 * The outbox as admins read it: each message with the person it went to (a
 * push names its device's owner, not the Expo token) and the action it is
 * about, filtered by recipient and by action. Messages are read newest first
 * and filtered as they are read, at most SCAN_BUDGET a request, with a cursor
 * to go on from.
 */
import { keys } from "../kv/keys.ts";
import { getManyById, getManyChunked } from "../kv/batched_reads.ts";
import { listTargetIdsOfInstance } from "../kv/actions.ts";
import { getUserByEmail, nameAndEmail } from "../kv/users.ts";
import { getInstances } from "../kv/instances.ts";
import { listCursor } from "../kv/cursor.ts";
import { BadRequestError } from "../errors.ts";
import { isId } from "../ids.ts";
import { checkText } from "../text.ts";
import { listCatalog } from "../kv/catalog.ts";
import { actionLabel } from "@/lib/action_words.ts";
import type { OutboxMessage } from "./outbox.ts";
import type { ScheduledAction, Target, User } from "../types.ts";

/** Messages one request reads at most, matching or not. */
export const SCAN_BUDGET = 1000;

export interface OutboxFilter {
  /** The recipient's email address (their pushes too). */
  to: string;
  /** An action id. */
  action: string;
}

export interface OutboxRow {
  message: OutboxMessage;
  /** Who it went to, when known: "Maya Lindqvist <maya@…>". */
  recipient: { id: string; label: string; email: string } | null;
  /** The action it is about, when there is one. */
  actionId: string | null;
  /** That action as admins read it: "Restart", "Version change to OpenClaw 1.9.0". */
  actionLabel: string | null;
  /** The instance a push is about, by name. */
  instance: { id: string; name: string } | null;
}

/** The page's query: a bad value is a 400 that names the field. */
export function parseOutboxFilter(params: URLSearchParams): OutboxFilter {
  const to = checkText(params.get("to") ?? "", { max: 254 });
  if (!to.ok) {
    throw new BadRequestError(`invalid recipient: ${to.problem}`, [
      { path: "to", message: to.problem },
    ]);
  }
  const action = (params.get("action") ?? "").trim();
  if (action && !isId(action)) {
    throw new BadRequestError("invalid action: not an action id", [
      { path: "action", message: "is not an action id" },
    ]);
  }
  return { to: to.value.trim().toLowerCase(), action };
}

/** Reads what the rows show about a page of messages, each record once. */
async function describe(
  kv: Deno.Kv,
  messages: OutboxMessage[],
): Promise<OutboxRow[]> {
  const tokens = [
    ...new Set(messages.filter((m) => m.kind === "push").map((m) => m.to)),
  ];
  const owners = await getManyChunked<string>(
    kv,
    tokens.map((t) => keys.pushTokenOwner(t)),
  );
  const ownerOfToken = new Map(
    tokens.flatMap((t, i) => owners[i].value ? [[t, owners[i].value!]] : []),
  );
  const emails = [
    ...new Set(messages.filter((m) => m.kind === "email").map((m) => m.to)),
  ];
  const byEmail = new Map<string, User>();
  await Promise.all(emails.map(async (e) => {
    const u = await getUserByEmail(kv, e);
    if (u) byEmail.set(e, u);
  }));
  const users = await getManyById<User>(
    kv,
    [...new Set(ownerOfToken.values())],
    keys.user,
  );
  const instanceIds = [
    ...new Set(
      messages.flatMap((m) =>
        m.kind === "push" && typeof m.data.instanceId === "string"
          ? [m.data.instanceId]
          : []
      ),
    ),
  ];
  const [instances, actionOf] = await Promise.all([
    getInstances(kv, instanceIds),
    pushActions(kv, instanceIds),
  ]);
  const rows = messages.map((m) => {
    const user = m.kind === "email"
      ? byEmail.get(m.to) ?? null
      : users.get(ownerOfToken.get(m.to) ?? "")?.value ?? null;
    const instanceId =
      m.kind === "push" && typeof m.data.instanceId === "string"
        ? m.data.instanceId
        : null;
    const instance = instanceId ? instances.get(instanceId) : undefined;
    return {
      message: m,
      recipient: user
        ? { id: user.id, label: nameAndEmail(user), email: user.email }
        : null,
      actionId: m.kind === "email"
        ? m.tags.action ?? null
        : instanceId
        ? actionOf(instanceId, m.createdAt)
        : null,
      instance: instanceId
        ? { id: instanceId, name: instance?.name ?? instanceId }
        : null,
      actionLabel: null as string | null,
    };
  });
  const [actions, catalog] = await Promise.all([
    getManyById<ScheduledAction>(
      kv,
      [...new Set(rows.flatMap((r) => r.actionId ? [r.actionId] : []))],
      keys.action,
    ),
    listCatalog(kv),
  ]);
  const versions = new Map(catalog.map((c) => [c.imageTag, c.openclawVersion]));
  for (const r of rows) {
    const a = r.actionId ? actions.get(r.actionId)?.value : null;
    if (a) {
      r.actionLabel = actionLabel(
        a,
        a.imageTag ? versions.get(a.imageTag) : null,
      );
    }
  }
  return rows;
}

/**
 * A push names its instance, not its action: it is about the latest action
 * on that instance created before it was sent (an instance has one pending
 * action at a time, and done notices follow their own action).
 */
async function pushActions(kv: Deno.Kv, instanceIds: string[]) {
  const perInstance = new Map<string, ScheduledAction[]>();
  await Promise.all(instanceIds.map(async (id) => {
    const targetIds = await listTargetIdsOfInstance(kv, id, 20);
    const targets = await getManyById<Target>(kv, targetIds, keys.target);
    const actionIds = [
      ...new Set(
        [...targets.values()].flatMap((t) => t.value ? [t.value.actionId] : []),
      ),
    ];
    const actions = await getManyById<ScheduledAction>(
      kv,
      actionIds,
      keys.action,
    );
    perInstance.set(
      id,
      [...actions.values()].flatMap((a) => a.value ? [a.value] : [])
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    );
  }));
  return (instanceId: string, at: string): string | null =>
    perInstance.get(instanceId)?.find((a) => a.createdAt <= at)?.id ?? null;
}

/** One message with its recipient, action and instance, as its page shows them. */
export async function describeOutboxMessage(
  kv: Deno.Kv,
  message: OutboxMessage,
): Promise<OutboxRow> {
  const [row] = await describe(kv, [message]);
  return row;
}

/** A page of the outbox, newest first, matching `filter`. */
export async function listOutboxRows(
  kv: Deno.Kv,
  filter: OutboxFilter,
  opts: { cursor?: string | null; limit?: number } = {},
): Promise<{ rows: OutboxRow[]; cursor: string | null }> {
  const limit = opts.limit ?? 50;
  const filtered = Boolean(filter.to || filter.action);
  let recipient: User | null = null;
  if (filter.to) {
    recipient = await getUserByEmail(kv, filter.to);
  }
  const iter = kv.list<OutboxMessage>({ prefix: keys.outbox() }, {
    reverse: true,
    cursor: listCursor(opts.cursor),
    batchSize: 100,
  });
  const rows: OutboxRow[] = [];
  let read = 0;
  let more = false;
  let batch: OutboxMessage[] = [];
  const take = async () => {
    const described = await describe(kv, batch);
    batch = [];
    for (const r of described) {
      if (!filtered || matches(r, filter, recipient)) rows.push(r);
    }
  };
  for await (const e of iter) {
    read++;
    // A cheap first cut: an email to someone else is never a match.
    const m = e.value;
    if (
      !(filter.to && m.kind === "email" && m.to.toLowerCase() !== filter.to) &&
      !(filter.action && m.kind === "email" &&
        m.tags.action !== filter.action)
    ) batch.push(m);
    // Never more in hand than could still match: the cursor then lies right
    // after the last message the page holds.
    if (batch.length >= Math.min(50, limit - rows.length)) await take();
    if (rows.length === limit || read === SCAN_BUDGET) {
      more = true;
      break;
    }
  }
  if (batch.length) await take();
  return { rows, cursor: more && iter.cursor ? iter.cursor : null };
}

function matches(
  r: OutboxRow,
  filter: OutboxFilter,
  recipient: User | null,
): boolean {
  if (filter.action && r.actionId !== filter.action) return false;
  if (filter.to) {
    const m = r.message;
    if (m.kind === "email") return m.to.toLowerCase() === filter.to;
    return recipient !== null && r.recipient?.id === recipient.id;
  }
  return true;
}
