/**
 * Email through the internal route (`POST /api/internal/scheduled-action-side-effects`):
 * the route's domain side (load the row, render, send with the process's
 * sender) and the client the sweep uses when SIDE_EFFECTS_URL points at
 * another deployment.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import type {
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  Target,
  User,
} from "../types.ts";
import type {
  ChannelDispatcher,
  DispatchOutcome,
  EmailSender,
  NoticeItem,
} from "./types.ts";
import { NO_EMAIL_ADDRESS, prepareEmail } from "./email.ts";

export const SIDE_EFFECTS_PATH = "/api/internal/scheduled-action-side-effects";

export const SideEffectRequestSchema = z.object({
  notificationId: z.uuid(),
  /** Checked by the route so that a wrong channel is named in the answer. */
  channel: z.string().min(1),
});
export type SideEffectRequest = z.infer<typeof SideEffectRequestSchema>;

/** The idempotency key of one row sent alone: the same row never makes a second email. */
export function notificationIdempotencyKey(notificationId: string): string {
  return `kiloclaw-notification/${notificationId}`;
}

/** Everything needed to render a row, or why it cannot be rendered. */
export async function loadNoticeItem(
  kv: Deno.Kv,
  notificationId: string,
): Promise<{ ok: true; item: NoticeItem } | { ok: false; error: string }> {
  const row = (await kv.get<Notification>(keys.notification(notificationId)))
    .value;
  if (!row) {
    return { ok: false, error: `notification ${notificationId} not found` };
  }
  const [user, instance, action, stage, target] = await kv.getMany<
    [User, Instance, ScheduledAction, Stage, Target]
  >([
    keys.user(row.userId),
    keys.instance(row.instanceId),
    keys.action(row.actionId),
    keys.stage(row.actionId, row.stageIndex),
    keys.target(row.targetId),
  ]);
  if (!user.value) {
    return { ok: false, error: `user ${row.userId} no longer exists` };
  }
  if (!action.value || !stage.value || !target.value) {
    return { ok: false, error: `the action of notification ${row.id} is gone` };
  }
  const version = action.value.actionType === "version_change"
    ? (await getCatalogEntry(kv, target.value.targetImageTag))
      ?.openclawVersion ??
      null
    : null;
  return {
    ok: true,
    item: {
      notification: row,
      user: user.value,
      instance: instance.value,
      action: action.value,
      stage: stage.value,
      target: target.value,
      targetOpenclawVersion: version,
    },
  };
}

export type SideEffectResult =
  | { status: "sent"; id: string | null }
  /** The row belongs to another channel: it is never emailed. */
  | { status: "wrong_channel"; error: string }
  /** Nothing to send: the row, its user or its address is missing, or the provider refused. */
  | { status: "unprocessable"; error: string }
  /** The provider failed in a way worth retrying. */
  | { status: "unavailable"; error: string; retryAfterMs?: number };

/** Sends one row's email with the given sender, keyed by the row so a repeat is a no-op. */
export async function sendNotificationEmail(
  deps: { kv: Deno.Kv; email: EmailSender; publicUrl: string },
  notificationId: string,
  signal?: AbortSignal,
): Promise<SideEffectResult> {
  const loaded = await loadNoticeItem(deps.kv, notificationId);
  if (!loaded.ok) return { status: "unprocessable", error: loaded.error };
  const { channel } = loaded.item.notification;
  if (channel !== "email") {
    return {
      status: "wrong_channel",
      error:
        `notification ${notificationId} is a "${channel}" row, not "email"`,
    };
  }
  const prepared = prepareEmail(loaded.item, deps.publicUrl);
  if (!prepared.ok) return { status: "unprocessable", error: prepared.error };
  let res;
  try {
    res = await deps.email.send(prepared.message, {
      idempotencyKey: notificationIdempotencyKey(notificationId),
      signal,
    });
  } catch (err) {
    return {
      status: "unavailable",
      error: `${deps.email.name} threw: ${
        err instanceof Error ? err.message : String(err)
      }`,
    };
  }
  if (res.ok) return { status: "sent", id: res.id };
  if (!res.transient) return { status: "unprocessable", error: res.error };
  return {
    status: "unavailable",
    error: res.error,
    retryAfterMs: res.retryAfterMs,
  };
}

function routeUrl(base: string): string {
  const u = base.replace(/\/+$/, "");
  return u.endsWith(SIDE_EFFECTS_PATH) ? u : u + SIDE_EFFECTS_PATH;
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === "string") return body.error;
  } catch {
    // not JSON: the text itself is the best description
  }
  return text.slice(0, 300) || res.statusText;
}

/**
 * The email channel when another deployment sends: one request per row, a
 * few at a time. 4xx answers fail the row (the route refused it for good);
 * 429, 5xx and the network are retried, honouring Retry-After.
 */
export function createSideEffectsEmailDispatcher(
  deps: {
    url: string;
    secret: string;
    fetch?: typeof fetch;
    timeoutMs?: number;
    concurrency?: number;
  },
): ChannelDispatcher {
  const doFetch = deps.fetch ?? fetch;
  const url = routeUrl(deps.url);
  const one = async (
    item: NoticeItem,
    signal: AbortSignal,
  ): Promise<DispatchOutcome> => {
    if (!item.user.email?.trim()) {
      return { status: "failed", error: NO_EMAIL_ADDRESS };
    }
    let res: Response;
    try {
      res = await doFetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-internal-secret": deps.secret,
        },
        body: JSON.stringify(
          {
            notificationId: item.notification.id,
            channel: "email",
          } satisfies SideEffectRequest,
        ),
        signal: AbortSignal.any([
          signal,
          AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        ]),
      });
    } catch (err) {
      return {
        status: "retry",
        uncertain: true,
        error: `side-effects route unreachable: ${
          err instanceof Error ? err.message : String(err)
        }`,
      };
    }
    if (res.ok) {
      await res.body?.cancel();
      return { status: "sent" };
    }
    const error = `side-effects route ${res.status}: ${await errorText(res)}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const retry: DispatchOutcome = { status: "retry", error };
      const after = Number(res.headers.get("retry-after"));
      if (Number.isFinite(after) && after > 0) {
        retry.retryAfterMs = after * 1000;
      }
      if (res.status !== 429) retry.uncertain = true;
      return retry;
    }
    return { status: "failed", error };
  };
  return {
    channel: "email",
    maxGroupSize: 100,
    async dispatch(items, { signal }) {
      const outcomes: DispatchOutcome[] = new Array(items.length);
      let next = 0;
      const worker = async () => {
        while (next < items.length) {
          const i = next++;
          outcomes[i] = await one(items[i], signal);
        }
      };
      await Promise.all(
        Array.from(
          { length: Math.min(deps.concurrency ?? 4, items.length) },
          worker,
        ),
      );
      return outcomes;
    },
  };
}
