/**
 * The embedded outbox: email and push land in KV instead of a provider when
 * none is configured, so a demo or a test can read what users would get.
 * Ids are UUIDv7, so listing the keys in reverse is newest first.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { newId } from "../ids.ts";
import type {
  EmailMessage,
  EmailSender,
  PushMessage,
  PushTicket,
  PushTransport,
  SendResult,
} from "./types.ts";

export interface OutboxEmail {
  id: string;
  kind: "email";
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Mail headers the provider would have sent (List-Unsubscribe on warnings). */
  headers?: Record<string, string>;
  tags: Record<string, string>;
  /** Every notice row it told of, when more than the one in its tags. */
  notificationIds?: string[];
  createdAt: string;
}

export interface OutboxPush {
  id: string;
  kind: "push";
  to: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  tags: Record<string, string>;
  /**
   * Every instance the push told of: a push merged from an owner's rows
   * names one in its payload but carried them all.
   */
  instanceIds?: string[];
  createdAt: string;
}

export type OutboxMessage = OutboxEmail | OutboxPush;

/** Resend forgets an idempotency key after 24 hours; the outbox does the same. */
const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** The outbox keeps 30 days of messages, so a long-running demo stays small. */
export const OUTBOX_TTL_MS = 30 * 24 * 3_600_000;
/** KV caps one value at 64 KiB; keep headroom for the key and the envelope. */
const MAX_MESSAGE_BYTES = 60_000;
/** KV caps one atomic operation at 800 KiB; a batch larger than this is split. */
const MAX_COMMIT_BYTES = 600_000;

const encoder = new TextEncoder();
const sizeOf = (v: unknown) => encoder.encode(JSON.stringify(v)).length;

/** The index keys that lead from a notification row (email) or an instance (push) to its messages. */
function indexKeys(m: OutboxMessage): Deno.KvKey[] {
  if (m.kind === "email") {
    const rows = m.notificationIds ??
      (m.tags.notification ? [m.tags.notification] : []);
    return rows.map((row) => keys.outboxByNotification(row, m.id));
  }
  const instanceIds = m.instanceIds ??
    (typeof m.data.instanceId === "string" ? [m.data.instanceId] : []);
  return instanceIds.map((instanceId) =>
    keys.outboxPushByInstance(
      instanceId,
      Date.parse(m.createdAt),
      String(m.data.event ?? ""),
      m.id,
    )
  );
}

function addMessage(op: Deno.AtomicOperation, m: OutboxMessage) {
  op.set(keys.outboxMessage(m.id), m, { expireIn: OUTBOX_TTL_MS });
  for (const k of indexKeys(m)) op.set(k, m.id, { expireIn: OUTBOX_TTL_MS });
}

/**
 * Stores messages, or returns the ids stored earlier under the same
 * idempotency key. The key is written with the last chunk, so a batch split
 * over several commits is only remembered once it is whole.
 */
async function store(
  kv: Deno.Kv,
  messages: OutboxMessage[],
  idempotencyKey: string | undefined,
): Promise<string[]> {
  const idemKey = idempotencyKey
    ? keys.outboxIdempotency(idempotencyKey)
    : null;
  const ids = messages.map((m) => m.id);
  for (let attempt = 0; attempt < 10; attempt++) {
    const prev = idemKey ? await kv.get<string[]>(idemKey) : null;
    if (prev?.value) return prev.value;
    const chunks: OutboxMessage[][] = [[]];
    let bytes = 0;
    for (const m of messages) {
      const size = sizeOf(m);
      if (bytes + size > MAX_COMMIT_BYTES && chunks.at(-1)!.length) {
        chunks.push([]);
        bytes = 0;
      }
      chunks.at(-1)!.push(m);
      bytes += size;
    }
    for (const chunk of chunks.slice(0, -1)) {
      await commitRetrying(() => {
        const op = kv.atomic();
        for (const m of chunk) addMessage(op, m);
        return op;
      });
    }
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const m of chunks.at(-1)!) addMessage(op, m);
      if (idemKey && prev) {
        op.check(prev).set(idemKey, ids, { expireIn: IDEMPOTENCY_TTL_MS });
      }
      return op;
    });
    if (res.ok) return ids;
    // Another call with the same key won the race: drop our copies, answer with its ids.
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const m of messages) {
        op.delete(keys.outboxMessage(m.id));
        for (const k of indexKeys(m)) op.delete(k);
      }
      return op;
    });
  }
  throw new Error(`outbox: idempotency key ${idempotencyKey} kept changing`);
}

function toEmail(message: EmailMessage, now: number): OutboxEmail {
  return {
    id: newId(),
    kind: "email",
    to: message.to,
    subject: message.subject,
    html: message.html,
    text: message.text,
    ...(message.headers ? { headers: message.headers } : {}),
    tags: message.tags ?? {},
    ...(message.notificationIds
      ? { notificationIds: message.notificationIds }
      : {}),
    createdAt: new Date(now).toISOString(),
  };
}

/** An EmailSender that keeps every message in KV; a repeated idempotency key is a no-op, as at Resend. */
export class OutboxEmailSender implements EmailSender {
  readonly name = "outbox";
  constructor(
    private readonly kv: Deno.Kv,
    private readonly now: () => number = Date.now,
  ) {}

  async send(
    message: EmailMessage,
    opts: { idempotencyKey?: string } = {},
  ): Promise<SendResult> {
    const res = await this.sendBatch([message], opts);
    return res.ok ? { ok: true, id: res.ids?.[0] ?? res.id } : res;
  }

  async sendBatch(
    messages: EmailMessage[],
    opts: { idempotencyKey?: string } = {},
  ): Promise<SendResult> {
    if (messages.length === 0 || messages.length > 100) {
      return {
        ok: false,
        transient: false,
        error: `a batch holds 1 to 100 emails, got ${messages.length}`,
      };
    }
    const at = this.now();
    const stored = messages.map((m) => toEmail(m, at));
    const tooBig = stored.find((m) => sizeOf(m) > MAX_MESSAGE_BYTES);
    if (tooBig) {
      return {
        ok: false,
        transient: false,
        error: `email to ${tooBig.to} is larger than the outbox keeps (60 kB)`,
      };
    }
    const ids = await store(this.kv, stored, opts.idempotencyKey);
    return { ok: true, id: ids[0] ?? null, ids };
  }
}

/** Push to the outbox when neither EXPO_ACCESS_TOKEN nor EXPO_BASE_URL is set. It has no receipts. */
export class OutboxPushTransport implements PushTransport {
  readonly name = "outbox";
  constructor(
    private readonly kv: Deno.Kv,
    private readonly now: () => number = Date.now,
  ) {}

  async send(
    messages: PushMessage[],
    about?: string[][],
  ): Promise<PushTicket[]> {
    if (messages.length === 0) return [];
    const at = new Date(this.now()).toISOString();
    const stored: OutboxPush[] = messages.map((m, i) => ({
      id: newId(),
      kind: "push",
      to: m.to,
      title: m.title,
      body: m.body,
      data: { ...m.data },
      tags: {},
      ...(about?.[i]?.length ? { instanceIds: [...new Set(about[i])] } : {}),
      createdAt: at,
    }));
    for (let i = 0; i < stored.length; i += 100) {
      await store(this.kv, stored.slice(i, i + 100), undefined);
    }
    return stored.map((m) => ({ status: "ok", id: m.id }));
  }
}

/** One page of the outbox, newest first. Pass the returned cursor for the next page; null means no more. */
export async function listOutbox(
  kv: Deno.Kv,
  opts: { limit?: number; cursor?: string | null } = {},
): Promise<{ items: OutboxMessage[]; cursor: string | null }> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
  const iter = kv.list<OutboxMessage>({ prefix: keys.outbox() }, {
    reverse: true,
    limit,
    cursor: opts.cursor ?? undefined,
  });
  const items: OutboxMessage[] = [];
  for await (const e of iter) items.push(e.value);
  return {
    items,
    cursor: items.length === limit && iter.cursor ? iter.cursor : null,
  };
}

/**
 * One message as `viewer` may see it: a sign-in email's link signs its
 * addressee in, so anyone else (an admin reading the outbox) sees the link
 * with its token hidden, and the hidden link signs nobody in. No viewer: hidden.
 */
export async function getOutboxMessage(
  kv: Deno.Kv,
  id: string,
  viewer: { email: string } | null = null,
): Promise<OutboxMessage | null> {
  const m = (await kv.get<OutboxMessage>(keys.outboxMessage(id))).value;
  return m && asSeenBy(m, viewer);
}

/** What stands for a sign-in token the viewer may not see: no token has these characters. */
export const HIDDEN_TOKEN = "••••••••";
const SIGN_IN_TOKEN = /(\/login\/)[A-Za-z0-9_-]{20,100}/g;

export function asSeenBy(
  m: OutboxMessage,
  viewer: { email: string } | null,
): OutboxMessage {
  if (m.kind !== "email" || m.tags.kind !== "sign_in") return m;
  if (viewer && viewer.email.toLowerCase() === m.to.toLowerCase()) return m;
  const hide = (s: string) => s.replace(SIGN_IN_TOKEN, `$1${HIDDEN_TOKEN}`);
  return { ...m, html: hide(m.html), text: hide(m.text) };
}

/** The outbox emails sent for a notification row (one, or none when it went through a provider). */
export async function outboxIdsOfNotification(
  kv: Deno.Kv,
  notificationId: string,
): Promise<string[]> {
  const ids: string[] = [];
  for await (
    const e of kv.list<string>({
      prefix: keys.outboxOfNotification(notificationId),
    })
  ) ids.push(e.value);
  return ids;
}

/** Outbox push messages about an instance for `event`, stored within [fromMs, toMs]. */
export async function outboxPushIds(
  kv: Deno.Kv,
  instanceId: string,
  event: string,
  fromMs: number,
  toMs: number,
): Promise<string[]> {
  const prefix = keys.outboxPushOfInstance(instanceId);
  const ids: string[] = [];
  for await (
    const e of kv.list<string>({
      start: [...prefix, fromMs],
      end: [...prefix, toMs + 1],
    })
  ) if (e.key[3] === event) ids.push(e.value);
  return ids;
}
