/**
 * The audit: one entry per admin change, written in one atomic operation with
 * its index keys (by subject, by actor, by change), kept for
 * AUDIT_RETENTION_DAYS. Lists read newest first, a page at a time.
 */
import { z } from "zod";
import { keys } from "./keys.ts";
import { commitRetrying } from "./db.ts";
import { listCursor } from "./cursor.ts";
import { getManyById } from "./batched_reads.ts";
import { IdSchema, newId } from "../ids.ts";
import type {
  AuditChange,
  AuditEntry,
  AuditSubject,
  AuditVia,
} from "../types.ts";
import { AUDIT_CHANGES, AUDIT_SUBJECT_TYPES } from "../types.ts";

/** Entries (and their index keys) expire after this many days, never sooner. */
export const AUDIT_RETENTION_DAYS = 400;
const RETENTION_MS = AUDIT_RETENTION_DAYS * 24 * 3600 * 1000;
/** Related subjects an entry is also listed under. */
const MAX_RELATED = 10;
export const AUDIT_PAGE_SIZE = 50;
export const MAX_AUDIT_PAGE_SIZE = 200;

/** `GET /api/admin/audit` and `/admin/audit`: filters and paging. */
export const AuditQuerySchema = z.strictObject({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE_SIZE).optional(),
  actor: IdSchema.optional(),
  change: z.enum(AUDIT_CHANGES).optional(),
  subjectType: z.enum(AUDIT_SUBJECT_TYPES).optional(),
  subjectId: IdSchema.optional(),
}).refine(
  (q) => (q.subjectType === undefined) === (q.subjectId === undefined),
  { message: "give subjectType and subjectId together", path: ["subjectId"] },
).transform(({ subjectType, subjectId, ...rest }) => ({
  ...rest,
  subject: subjectType && subjectId
    ? { type: subjectType, id: subjectId }
    : undefined,
}));
/** Entries a filtered page may pass over before it answers with what it found. */
const MAX_SCANNED = 2000;

export interface AuditActor {
  actor: AuditEntry["actor"];
  via: AuditVia;
}

export interface AuditInput {
  change: AuditChange;
  subject: AuditSubject;
  related?: AuditSubject[];
  details?: Record<string, unknown>;
  reason?: string | null;
}

/** A new entry; write it with `addAuditWrite` in the change's own atomic operation, or with `recordAudit`. */
export function newAuditEntry(
  who: AuditActor,
  input: AuditInput,
  now: number,
): AuditEntry {
  return {
    id: newId(),
    at: new Date(now).toISOString(),
    actor: who.actor,
    via: who.via,
    change: input.change,
    subject: input.subject,
    related: (input.related ?? []).slice(0, MAX_RELATED),
    details: input.details ?? {},
    ...(input.reason ? { reason: input.reason } : {}),
  };
}

/** Adds the entry and its index keys to `op`. */
export function addAuditWrite(
  op: Deno.AtomicOperation,
  entry: AuditEntry,
): Deno.AtomicOperation {
  const opts = { expireIn: RETENTION_MS };
  op.check({ key: keys.auditEntry(entry.id), versionstamp: null })
    .set(keys.auditEntry(entry.id), entry, opts)
    .set(keys.auditByActor(entry.actor.id, entry.id), null, opts)
    .set(keys.auditByChange(entry.change, entry.id), null, opts);
  for (const s of uniqueSubjects([entry.subject, ...entry.related])) {
    op.set(keys.auditBySubject(s.type, s.id, entry.id), null, opts);
  }
  return op;
}

/**
 * Records a change that took several atomic operations (schedule, cancel,
 * reschedule): written once the change is done, in one operation of its own.
 */
export async function recordAudit(
  kv: Deno.Kv,
  who: AuditActor,
  input: AuditInput,
  now: number,
): Promise<AuditEntry> {
  const entry = newAuditEntry(who, input, now);
  const res = await commitRetrying(() => addAuditWrite(kv.atomic(), entry));
  if (!res.ok) throw new Error("audit entry id collided");
  return entry;
}

function uniqueSubjects(list: AuditSubject[]): AuditSubject[] {
  const seen = new Map(list.map((s) => [`${s.type}\u0000${s.id}`, s]));
  return [...seen.values()];
}

/** The fields of `after` that differ from `before`, as `[before, after]`. */
export function changedFields(
  before: object | null,
  after: object,
  fields: string[],
): Record<string, [unknown, unknown]> {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const out: Record<string, [unknown, unknown]> = {};
  for (const f of fields) {
    const was = b[f] ?? null;
    const is = a[f] ?? null;
    if (JSON.stringify(was) !== JSON.stringify(is)) out[f] = [was, is];
  }
  return out;
}

export interface AuditQuery {
  subject?: AuditSubject;
  actor?: string;
  change?: AuditChange;
  cursor?: string | null;
  limit?: number;
}

export interface AuditPage {
  items: AuditEntry[];
  cursor: string | null;
}

function matches(e: AuditEntry, q: AuditQuery): boolean {
  if (q.actor && e.actor.id !== q.actor) return false;
  if (q.change && e.change !== q.change) return false;
  if (q.subject) {
    const hit = [e.subject, ...e.related].some((s) =>
      s.type === q.subject!.type && s.id === q.subject!.id
    );
    if (!hit) return false;
  }
  return true;
}

/** The latest changes a page shows of one subject, and whether there are more. */
export interface RecentChanges {
  items: AuditEntry[];
  more: boolean;
}

export async function recentChanges(
  kv: Deno.Kv,
  subject: AuditSubject,
): Promise<RecentChanges> {
  const page = await listAudit(kv, { subject, limit: 20 });
  return { items: page.items, more: page.cursor !== null };
}

/**
 * Entries newest first. One filter picks the index that is read (subject,
 * then actor, then change); the others are applied to what it yields, and a
 * page passes over at most MAX_SCANNED entries before it answers.
 */
export async function listAudit(
  kv: Deno.Kv,
  q: AuditQuery = {},
): Promise<AuditPage> {
  const limit = Math.min(
    Math.max(1, q.limit ?? AUDIT_PAGE_SIZE),
    MAX_AUDIT_PAGE_SIZE,
  );
  const prefix = q.subject
    ? keys.auditsBySubject(q.subject.type, q.subject.id)
    : q.actor
    ? keys.auditsByActor(q.actor)
    : q.change
    ? keys.auditsByChange(q.change)
    : keys.auditEntries();
  const byIndex = prefix[0] !== "audit";
  const iter = kv.list({ prefix }, {
    reverse: true,
    cursor: listCursor(q.cursor),
    batchSize: Math.min(limit * 2, 500),
  });
  const items: AuditEntry[] = [];
  let scanned = 0;
  let more = false;
  let pending: string[] = [];
  let lastCursor = "";
  // Index entries are read in small batches so a filtered page stays bounded.
  const flush = async () => {
    if (pending.length === 0) return;
    const found = await getManyById<AuditEntry>(
      kv,
      pending,
      (id) => keys.auditEntry(id),
    );
    for (const id of pending) {
      const e = found.get(id)?.value;
      if (e && matches(e, q)) items.push(e);
    }
    pending = [];
  };
  for await (const entry of iter) {
    if (items.length >= limit) {
      more = true;
      break;
    }
    if (scanned >= MAX_SCANNED) {
      more = true;
      break;
    }
    scanned++;
    lastCursor = iter.cursor;
    if (byIndex) {
      pending.push(entry.key[entry.key.length - 1] as string);
      if (items.length + pending.length >= limit || pending.length >= 10) {
        await flush();
      }
    } else {
      const e = entry.value as AuditEntry;
      if (matches(e, q)) items.push(e);
    }
  }
  await flush();
  return { items, cursor: more ? lastCursor : null };
}
