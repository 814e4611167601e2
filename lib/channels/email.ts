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
import { renderBundleEmail } from "./email_render.ts";
import { bundleItems } from "./bundle.ts";

export const EMAIL_BATCH_MAX = 100;
export const NO_EMAIL_ADDRESS = "user has no email address";

const emailAddress = z.email();

/** Renders one row, or says why it cannot be emailed. */
export function prepareEmail(
  item: NoticeItem,
  publicUrl: string,
  /** Several rows of this item's owner, told in one email. */
  bundle: NoticeItem[] = [item],
): { ok: true; message: EmailMessage } | { ok: false; error: string } {
  const to = item.user.email?.trim();
  if (!to) return { ok: false, error: NO_EMAIL_ADDRESS };
  if (!emailAddress.safeParse(to).success) {
    return { ok: false, error: `"${to}" is not a valid email address` };
  }
  try {
    return { ok: true, message: renderBundleEmail(bundle, publicUrl) };
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
      // One email per owner and message (bundle.ts); `index` is the bundle's.
      const bundles = bundleItems(items);
      const ready: { index: number; message: EmailMessage }[] = [];
      bundles.forEach((b, index) => {
        const p = prepareEmail(b.items[0], deps.publicUrl, b.items);
        if (p.ok) ready.push({ index, message: p.message });
        else {
          for (const i of b.indexes) {
            outcomes[i] = { status: "failed", error: p.error };
          }
        }
      });
      const perBundle: DispatchOutcome[] = new Array(bundles.length);
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
            perBundle[p.index] = {
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
          perBundle[p.index] = error !== undefined
            ? { status: "failed", error }
            : res.ok
            ? { status: "sent", detail: res.ids?.[i] ?? res.id ?? undefined }
            : outcomeOfSend(res);
        });
      }
      bundles.forEach((b, n) => {
        if (perBundle[n]) {
          for (const i of b.indexes) outcomes[i] = perBundle[n];
        }
      });
      return outcomes;
    },
  };
}
