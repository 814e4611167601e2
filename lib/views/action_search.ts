/**
 * Finding actions: by status (several at once), type, words (the action's
 * id, reason, image tag, OpenClaw version, notice subject) and the day it is
 * scheduled for. Actions are read newest first and filtered as they are read;
 * one request reads at most SCAN_BUDGET of them and hands back a cursor to go
 * on from, so a search over years of actions never costs more than a page.
 */
import { type NoticeTally, readNoticeCounts } from "../notices/counters.ts";
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { getProgressCounts, getStageEntries } from "../kv/actions.ts";
import { listCatalog } from "../kv/catalog.ts";
import { listCursor } from "../kv/cursor.ts";
import { parseOrThrow } from "../errors.ts";
import { searchWords } from "../search.ts";
import { actionLabel } from "@/lib/action_words.ts";
import type {
  ActionCounters,
  ActionStatus,
  ActionType,
  ProgressCounts,
  ScheduledAction,
  Stage,
} from "../types.ts";
import { getPreparingView, MAX_ACTION_PAGE } from "./action_reads.ts";
import type { PreparingView } from "./action_view_model.ts";

/** Actions one request reads at most, matching or not. */
export const SCAN_BUDGET = 1000;

export const ACTION_STATUSES: readonly ActionStatus[] = [
  "preparing",
  "scheduled",
  "running",
  "paused",
  "completed",
  "failed",
  "cancelled",
];
export const ACTION_TYPES: readonly ActionType[] = [
  "scheduled_restart",
  "version_change",
];

const day = z.string().regex(
  /^\d{4}-\d{2}-\d{2}$/,
  "must be a date like 2026-12-31",
).refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), {
  message: "is not a real date",
});

/** `GET /api/admin/scheduled-actions` and the actions page: `status` may repeat. */
export const ActionQuerySchema = z.strictObject({
  status: z.array(z.enum(ACTION_STATUSES as [ActionStatus, ...ActionStatus[]]))
    .max(ACTION_STATUSES.length).optional(),
  type: z.enum(ACTION_TYPES as [ActionType, ...ActionType[]]).optional(),
  q: z.string().optional(),
  /** First and last day (UTC) the action is scheduled for, both included. */
  from: day.optional(),
  to: day.optional(),
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ACTION_PAGE).optional(),
}).refine((v) => !v.from || !v.to || v.from <= v.to, {
  path: ["to"],
  message: "is before from",
});

export type ActionQuery = z.output<typeof ActionQuerySchema>;

/** The query string as the schema reads it; a bad value is a 400 naming it. */
export function parseActionQuery(params: URLSearchParams): ActionQuery {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of params) {
    // An empty field of the page's form means "any".
    if (value === "") continue;
    if (name === "status") {
      raw.status = [...(raw.status as string[] ?? []), value];
    } else if (name in raw) {
      raw[name] = [raw[name], value].flat();
    } else raw[name] = value;
  }
  const query = parseOrThrow(ActionQuerySchema, raw, "query");
  if (query.q !== undefined) query.q = searchWords(query.q);
  if (query.cursor !== undefined) listCursor(query.cursor);
  return query;
}

/** Whether any filter is set (the page then says "nothing matched", not "nothing scheduled"). */
export function isFiltered(q: ActionQuery): boolean {
  return Boolean(
    q.status?.length || q.type || q.q || q.from || q.to,
  );
}

export interface ActionListItem {
  action: ScheduledAction;
  /** "Version change to OpenClaw 1.9.0", "Restart". */
  label: string;
  /** The target tag's OpenClaw version, when the catalog knows it. */
  openclawVersion: string | null;
  /** As stored: `skipped` counts cancelled targets too. */
  counters: ActionCounters;
  /** As the page shows it: cancelled targets on their own. */
  progress: ProgressCounts;
  stages: Stage[];
  /** The action's notification rows per kind and channel (those that have any), exact. */
  notices: NoticeTally[];
  /** Only for an action written in the background: how far it got, or what it came to. */
  preparing?: PreparingView;
}

export interface ActionList {
  items: ActionListItem[];
  /** Pass back to go on; null when every action was read. */
  cursor: string | null;
}

function matchesWords(
  a: ScheduledAction,
  version: string | null,
  words: string,
): boolean {
  const text = [
    a.id,
    a.reason,
    a.imageTag,
    version,
    version && `OpenClaw ${version}`,
    a.noticeSubject,
    actionLabel(a, version),
  ].filter(Boolean).join("\n").toLocaleLowerCase();
  return words.toLocaleLowerCase().split(/\s+/).filter(Boolean)
    .every((w) => text.includes(w));
}

function inDays(stages: Stage[], from?: string, to?: string): boolean {
  if (!from && !to) return true;
  const lo = from ? Date.parse(`${from}T00:00:00Z`) : -Infinity;
  const hi = to ? Date.parse(`${to}T00:00:00Z`) + 86_400_000 : Infinity;
  return stages.some((s) => {
    const at = Date.parse(s.scheduledAt);
    return at >= lo && at < hi;
  });
}

/** A page of actions, newest first, that match `q`. */
export async function searchActions(
  kv: Deno.Kv,
  q: ActionQuery,
): Promise<ActionList> {
  const limit = q.limit ?? 25;
  const versions = new Map(
    (await listCatalog(kv)).map((c) => [c.imageTag, c.openclawVersion]),
  );
  const versionOf = (a: ScheduledAction) =>
    a.imageTag ? versions.get(a.imageTag) ?? null : null;
  const iter = kv.list<ScheduledAction>({ prefix: keys.actions() }, {
    reverse: true,
    cursor: listCursor(q.cursor),
    batchSize: 100,
  });
  const found: ScheduledAction[] = [];
  const stagesOf = new Map<string, Stage[]>();
  let read = 0;
  let more = false;
  for await (const e of iter) {
    read++;
    const a = e.value;
    const keep = (!q.status?.length || q.status.includes(a.status)) &&
      (!q.type || a.actionType === q.type) &&
      (!q.q || matchesWords(a, versionOf(a), q.q));
    if (keep && (q.from || q.to)) {
      const stages = (await getStageEntries(kv, a.id)).map((s) => s.value);
      if (inDays(stages, q.from, q.to)) {
        found.push(a);
        stagesOf.set(a.id, stages);
      }
    } else if (keep) found.push(a);
    if (found.length === limit || read === SCAN_BUDGET) {
      more = true;
      break;
    }
  }
  // Stopped early: there may be more after the last one read.
  const cursor = more && iter.cursor ? iter.cursor : null;
  const items = await Promise.all(found.map(async (action) => {
    const [progress, stages, notices, preparing] = await Promise.all([
      getProgressCounts(kv, action.id),
      stagesOf.get(action.id) ??
        getStageEntries(kv, action.id).then((s) => s.map((e) => e.value)),
      readNoticeCounts(kv, action.id),
      getPreparingView(kv, action),
    ]);
    const { cancelled, ...counters } = progress;
    counters.skipped += cancelled;
    const version = versionOf(action);
    return {
      action,
      label: actionLabel(action, version),
      openclawVersion: version,
      counters,
      progress,
      stages,
      notices,
      ...(preparing ? { preparing } : {}),
    };
  }));
  return { items, cursor };
}
