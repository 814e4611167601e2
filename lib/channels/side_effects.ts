/**
 * Email through the internal route (`POST /api/internal/scheduled-action-side-effects`):
 * the route's domain side (load the row, render, send with the process's
 * sender) and the client the sweep uses when SIDE_EFFECTS_URL points at
 * another deployment.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import { isTooLate, parentCancelled, tooLate } from "../notices/parents.ts";
import { isWarning } from "../types.ts";
import type {
  Instance,
  NoticeGroup,
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
import { unsubscribeSigner } from "../owners/unsubscribe.ts";
import { retryAfterMs, upstreamErrorText } from "../web/http.ts";
import { forEachLimited } from "../kv/commits.ts";

export const SIDE_EFFECTS_PATH = "/api/internal/scheduled-action-side-effects";

export const SideEffectRequestSchema = z.object({
  notificationId: z.uuid(),
  /** Checked by the route so that a wrong channel is named in the answer. */
  channel: z.string().min(1),
  /** The caller's claim on the row: only a row the calling sweep holds is sent. */
  claimId: z.uuid(),
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
  const isVersion = action.value.actionType === "version_change";
  const [version, sourceVersion] = isVersion
    ? await Promise.all([
      getCatalogEntry(kv, target.value.targetImageTag),
      getCatalogEntry(kv, target.value.sourceImageTag),
    ]).then(([t, s]) => [
      t?.openclawVersion ?? null,
      s?.openclawVersion ?? null,
    ])
    : [null, null];
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
      sourceOpenclawVersion: sourceVersion,
      ...(row.channel === "email" &&
          (row.kind === "notice" || row.kind === "reminder")
        ? {
          unsubscribeToken: (await unsubscribeSigner(kv))(row.userId, "email"),
        }
        : {}),
    },
  };
}

export type SideEffectResult =
  | { status: "sent"; id: string | null }
  /** The row is not held by the caller's claim (pending, final, another claim, an ended lease, a cancelled or late notice). */
  | { status: "not_held"; error: string }
  /** The row belongs to another channel: it is never emailed. */
  | { status: "wrong_channel"; error: string }
  /** Nothing to send: the row, its user or its address is missing, or the provider refused. */
  | { status: "unprocessable"; error: string }
  /** The provider failed in a way worth retrying. */
  | { status: "unavailable"; error: string; retryAfterMs?: number };

/** How long a claim's answer is kept for a repeated call: longer than any lease. */
const RESULT_TTL_MS = 24 * 3_600_000;

type StoredResult = { state: "sending" } | {
  state: "done";
  result: SideEffectResult;
};

/** Why the caller may not send this row now, or null when it holds it. */
function notHeldReason(
  item: NoticeItem,
  group: NoticeGroup | null,
  claimId: string,
  now: number,
): string | null {
  const row = item.notification;
  const id = row.id;
  if (row.status !== "sending") {
    const why = row.error ? ` (${row.error})` : "";
    return `notification ${id} is ${row.status}${why}; only a row the calling sweep holds is sent`;
  }
  if (row.claimId !== claimId) {
    return `notification ${id} is held by another claim`;
  }
  if (
    !group || group.claimId !== claimId || group.state !== "sealed" ||
    (group.leaseUntil ?? 0) <= now
  ) {
    return `the claim on notification ${id} has ended; its group is recovered by the next sweep`;
  }
  if (
    isWarning(row.kind) && parentCancelled(item.action, item.target)
  ) return `notification ${id} belongs to a cancelled action`;
  if (isTooLate(row, item.stage, now)) return tooLate(item.action.actionType);
  return null;
}

/**
 * Sends one row's email with the given sender, keyed by the row so a repeat is
 * a no-op at the provider — but only while `claimId` holds the row (DESIGN
 * "Internal"). A repeated call for the same claim gets the first answer, with
 * no second send.
 */
export async function sendNotificationEmail(
  deps: {
    kv: Deno.Kv;
    email: EmailSender;
    publicUrl: string;
    now?: () => number;
  },
  notificationId: string,
  claimId: string,
  signal?: AbortSignal,
): Promise<SideEffectResult> {
  const { kv } = deps;
  const now = (deps.now ?? Date.now)();
  const resultKey = keys.sideEffectResult(notificationId, claimId);
  const earlier = await kv.get<StoredResult>(resultKey);
  if (earlier.value?.state === "done") return earlier.value.result;
  if (earlier.value?.state === "sending") {
    return {
      status: "unavailable",
      error: `notification ${notificationId} is being sent under this claim`,
      retryAfterMs: 1_000,
    };
  }
  const loaded = await loadNoticeItem(kv, notificationId);
  if (!loaded.ok) return { status: "unprocessable", error: loaded.error };
  const { channel, groupId } = loaded.item.notification;
  if (channel !== "email") {
    return {
      status: "wrong_channel",
      error:
        `notification ${notificationId} is a "${channel}" row, not "email"`,
    };
  }
  const group = groupId
    ? (await kv.get<NoticeGroup>(keys.noticeGroup(groupId))).value
    : null;
  const refusal = notHeldReason(loaded.item, group, claimId, now);
  if (refusal) return { status: "not_held", error: refusal };
  // Only one call per claim gets to send; a concurrent repeat waits for its answer.
  const started = await kv.atomic().check(earlier)
    .set(resultKey, { state: "sending" } satisfies StoredResult, {
      expireIn: RESULT_TTL_MS,
    }).commit();
  if (!started.ok) {
    return sendNotificationEmail(deps, notificationId, claimId, signal);
  }
  const result = await sendLoaded(deps, loaded.item, signal);
  if (result.status === "unavailable") {
    // Worth another try under the same claim: forget this one.
    await kv.delete(resultKey);
  } else {
    await kv.set(resultKey, { state: "done", result } satisfies StoredResult, {
      expireIn: RESULT_TTL_MS,
    });
  }
  return result;
}

async function sendLoaded(
  deps: { email: EmailSender; publicUrl: string },
  item: NoticeItem,
  signal?: AbortSignal,
): Promise<SideEffectResult> {
  const notificationId = item.notification.id;
  const prepared = prepareEmail(item, deps.publicUrl);
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
    claimId: string,
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
            claimId,
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
    const error = `side-effects route ${res.status}: ${await upstreamErrorText(
      res,
    )}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const retry: DispatchOutcome = { status: "retry", error };
      const after = retryAfterMs(res.headers);
      if (after !== undefined && after > 0) retry.retryAfterMs = after;
      if (res.status !== 429) retry.uncertain = true;
      return retry;
    }
    return { status: "failed", error };
  };
  return {
    channel: "email",
    maxGroupSize: 100,
    async dispatch(items, { claimId, signal }) {
      const outcomes: DispatchOutcome[] = new Array(items.length);
      // one() never throws: every failure is an outcome.
      await forEachLimited(
        items.map((item, i) => ({ item, i })),
        deps.concurrency ?? 4,
        async ({ item, i }) => {
          outcomes[i] = await one(item, claimId, signal);
        },
      );
      return outcomes;
    },
  };
}
