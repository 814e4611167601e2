/**
 * The email channel: renders each row, sends a group in one Resend call
 * (batch when more than one), under an idempotency key fixed by the group.
 */
import { z } from "zod";
import type {
  ChannelDispatcher,
  DispatchOutcome,
  EmailMessage,
  EmailSender,
  NoticeItem,
  SendResult,
} from "./types.ts";
import { renderNoticeEmail } from "./email_render.ts";

export const EMAIL_BATCH_MAX = 100;
export const NO_EMAIL_ADDRESS = "user has no email address";

const emailAddress = z.email();

/** Renders one row, or says why it cannot be emailed. */
export function prepareEmail(
  item: NoticeItem,
  publicUrl: string,
): { ok: true; message: EmailMessage } | { ok: false; error: string } {
  const to = item.user.email?.trim();
  if (!to) return { ok: false, error: NO_EMAIL_ADDRESS };
  if (!emailAddress.safeParse(to).success) {
    return { ok: false, error: `"${to}" is not a valid email address` };
  }
  try {
    return { ok: true, message: renderNoticeEmail(item, publicUrl) };
  } catch (err) {
    return {
      ok: false,
      error: `could not render the email: ${
        err instanceof Error ? err.message : String(err)
      }`,
    };
  }
}

export function outcomeOfSend(res: SendResult): DispatchOutcome {
  if (res.ok) return { status: "sent", detail: res.id ?? undefined };
  if (!res.transient) return { status: "failed", error: res.error };
  const retry: DispatchOutcome = { status: "retry", error: res.error };
  if (res.retryAfterMs !== undefined) retry.retryAfterMs = res.retryAfterMs;
  if (res.uncertain) retry.uncertain = true;
  return retry;
}

/**
 * The idempotency key of one provider call. The sweep fixes a group's
 * membership when it claims it and reuses its id on every retry and
 * recovery, so the same call always carries the same key (DESIGN rule 5).
 */
export function emailIdempotencyKey(
  groupId: string,
  part: number,
  parts: number,
) {
  return parts === 1
    ? `kiloclaw-notice/${groupId}`
    : `kiloclaw-notice/${groupId}/${part}`;
}

export function createEmailDispatcher(
  deps: { email: EmailSender; publicUrl: string },
): ChannelDispatcher {
  return {
    channel: "email",
    maxGroupSize: EMAIL_BATCH_MAX,
    async dispatch(items, { groupId, resend, signal, timeLeftMs }) {
      const notAfter = timeLeftMs === undefined
        ? undefined
        : Date.now() + timeLeftMs;
      const outcomes: DispatchOutcome[] = new Array(items.length);
      const ready: { index: number; message: EmailMessage }[] = [];
      items.forEach((item, index) => {
        const p = prepareEmail(item, deps.publicUrl);
        if (p.ok) ready.push({ index, message: p.message });
        else outcomes[index] = { status: "failed", error: p.error };
      });
      const parts: typeof ready[] = [];
      for (let i = 0; i < ready.length; i += EMAIL_BATCH_MAX) {
        parts.push(ready.slice(i, i + EMAIL_BATCH_MAX));
      }
      for (const [n, part] of parts.entries()) {
        const idempotencyKey = emailIdempotencyKey(groupId, n, parts.length);
        let res: SendResult;
        try {
          res = part.length === 1
            ? await deps.email.send(part[0].message, {
              idempotencyKey,
              signal,
              notAfter,
            })
            : await deps.email.sendBatch(part.map((p) => p.message), {
              idempotencyKey,
              signal,
              notAfter,
            });
        } catch (err) {
          res = {
            ok: false,
            transient: true,
            error: `${deps.email.name} threw: ${
              err instanceof Error ? err.message : String(err)
            }`,
          };
        }
        if (!res.ok && res.keyInUse && resend) {
          // A group only loses members between sends, so the earlier request
          // holding this key carried every email of this one: delivered then.
          for (const p of part) {
            outcomes[p.index] = {
              status: "sent",
              detail: "delivered by an earlier send under the same key",
            };
          }
          continue;
        }
        const refused = new Map(
          (res.ok ? res.refused ?? [] : []).map((r) => [r.index, r.error]),
        );
        part.forEach((p, i) => {
          const error = refused.get(i);
          outcomes[p.index] = error !== undefined
            ? { status: "failed", error }
            : res.ok
            ? { status: "sent", detail: res.ids?.[i] ?? res.id ?? undefined }
            : outcomeOfSend(res);
        });
      }
      return outcomes;
    },
  };
}
