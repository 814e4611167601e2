/**
 * Emails to admins about something the app did on its own (a rollout's gate
 * paused it). The alert is a KV row written in the same atomic operation as
 * the change it reports, so it exists exactly when the change does; the
 * apply tick sends it under a lease, each recipient under an idempotency key
 * of its own, so a retry or a second process never sends it twice.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { newId } from "../ids.ts";
import { backoffMs } from "../backoff.ts";
import { log } from "./log.ts";
import type { EmailSender } from "../channels/types.ts";

export interface AdminAlert {
  id: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Recipients already sent to (a retry goes on with the rest). */
  sent: string[];
  attempts: number;
  /** When it is due, or when its sender's lease ends. */
  dueAt: number;
  createdAt: number;
}

const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 6;

export function newAdminAlert(
  p: Pick<AdminAlert, "to" | "subject" | "text" | "html">,
  now: number,
): AdminAlert {
  return {
    id: newId(),
    ...p,
    to: [...new Set(p.to.map((a) => a.toLowerCase()))],
    sent: [],
    attempts: 0,
    dueAt: now,
    createdAt: now,
  };
}

/** Adds the alert and its due key to the change's own atomic operation. */
export function addAdminAlert(
  op: Deno.AtomicOperation,
  alert: AdminAlert,
): Deno.AtomicOperation {
  if (alert.to.length === 0) return op;
  return op.set(keys.adminAlert(alert.id), alert)
    .set(keys.adminAlertDue(alert.dueAt, alert.id), null);
}

/** Sends every due alert; returns how many were finished. */
export async function sendAdminAlerts(
  kv: Deno.Kv,
  email: EmailSender,
  now: () => number,
): Promise<number> {
  let done = 0;
  const due: string[] = [];
  for await (
    const e of kv.list({
      start: keys.adminAlertsDue(),
      end: [...keys.adminAlertsDue(), now() + 1],
    }, { limit: 50 })
  ) due.push(e.key[2] as string);
  for (const id of due) {
    if (await sendOne(kv, email, id, now)) done++;
  }
  return done;
}

async function sendOne(
  kv: Deno.Kv,
  email: EmailSender,
  id: string,
  now: () => number,
): Promise<boolean> {
  const entry = await kv.get<AdminAlert>(keys.adminAlert(id));
  const alert = entry.value;
  if (!alert || alert.dueAt > now()) return false;
  // The lease: whoever moves the due key first sends; a crash hands it on.
  const held: AdminAlert = { ...alert, dueAt: now() + LEASE_MS };
  const claim = await commitRetrying(() =>
    kv.atomic().check(entry)
      .delete(keys.adminAlertDue(alert.dueAt, id))
      .set(keys.adminAlertDue(held.dueAt, id), null)
      .set(keys.adminAlert(id), held)
  );
  if (!claim.ok) return false;
  const sent = [...alert.sent];
  let error: string | null = null;
  for (const [i, to] of alert.to.entries()) {
    if (sent.includes(to)) continue;
    const res = await email.send(
      {
        to,
        subject: alert.subject,
        text: alert.text,
        html: alert.html,
        tags: { alert: alert.id },
      },
      { idempotencyKey: `admin-alert-${alert.id}-${i}` },
    );
    if (res.ok) sent.push(to);
    else error = res.error;
  }
  const attempts = alert.attempts + 1;
  const finished = sent.length === alert.to.length || attempts >= MAX_ATTEMPTS;
  if (finished && error) {
    log.error("admin alert not delivered to every admin", {
      alertId: id,
      error,
      unsent: alert.to.filter((a) => !sent.includes(a)).join(", "),
    });
  }
  const next: AdminAlert = {
    ...held,
    sent,
    attempts,
    dueAt: now() + backoffMs(attempts, { baseMs: 30_000, maxMs: 3_600_000 }),
  };
  await commitRetrying(() => {
    const op = kv.atomic().check({
      key: keys.adminAlert(id),
      versionstamp: claim.versionstamp,
    }).delete(keys.adminAlertDue(held.dueAt, id));
    return finished
      ? op.delete(keys.adminAlert(id))
      : op.set(keys.adminAlert(id), next)
        .set(keys.adminAlertDue(next.dueAt, id), null);
  });
  return finished;
}
