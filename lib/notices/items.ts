/** Everything a channel needs for each claimed row: user, instance, parents, catalog version. */
import { keys } from "../kv/keys.ts";
import {
  getManyById,
  type SharedReads,
  sharedReads,
} from "../kv/batched_reads.ts";
import type { NoticeItem } from "../channels/types.ts";
import type { ClaimedRow } from "./claim.ts";
import {
  type CatalogEntry,
  type Instance,
  isWarning,
  type User,
} from "../types.ts";
import { calendarSigner } from "../calendar.ts";
import { unsubscribeSigner } from "../owners/unsubscribe.ts";
import { postponeSigner } from "../owners/postpone_link.ts";
import { userRecordMissing } from "./parents.ts";

export interface PreDispatchFailure {
  id: string;
  error: string;
}

export async function buildItems(
  kv: Deno.Kv,
  claimed: ClaimedRow[],
  /** Owners and instances already read for sibling groups (default: read here). */
  reads: SharedReads = sharedReads(kv),
): Promise<{ items: NoticeItem[]; failures: PreDispatchFailure[] }> {
  const rows = claimed.map((c) => c.entry.value);
  // A version change's email names both ends: "from OpenClaw 1.8.2 to 1.9.0".
  const versionTags = claimed.flatMap((c) =>
    c.parents.action.value?.actionType === "version_change" &&
      c.parents.target.value
      ? [
        c.parents.target.value.targetImageTag,
        c.parents.target.value.sourceImageTag,
      ]
      : []
  );
  const [users, instances, catalog] = await Promise.all([
    reads.byId<User>(rows.map((r) => r.userId), keys.user),
    reads.byId<Instance>(rows.map((r) => r.instanceId), keys.instance),
    getManyById<CatalogEntry>(kv, versionTags, keys.catalogEntry),
  ]);
  const items: NoticeItem[] = [];
  const failures: PreDispatchFailure[] = [];
  for (const c of claimed) {
    const row = c.entry.value;
    const user = users.get(row.userId)?.value;
    const { action, stage, target } = c.parents;
    if (!user) {
      failures.push({
        id: row.id,
        error: userRecordMissing(row.userId),
      });
    } else if (!action.value || !stage.value || !target.value) {
      failures.push({
        id: row.id,
        error: `parent records missing for target_id=${row.targetId}`,
      });
    } else {
      items.push({
        notification: row,
        user,
        instance: instances.get(row.instanceId)?.value ?? null,
        action: action.value,
        stage: stage.value,
        target: target.value,
        targetOpenclawVersion: action.value.actionType === "version_change"
          ? catalog.get(target.value.targetImageTag)?.value?.openclawVersion ??
            null
          : null,
        sourceOpenclawVersion: action.value.actionType === "version_change"
          ? catalog.get(target.value.sourceImageTag)?.value?.openclawVersion ??
            null
          : null,
      });
    }
  }
  // Warning emails carry an "Add to calendar" link (one token per target);
  // push and the banner show no link.
  const linked = items.filter((i) =>
    isWarning(i.notification.kind) && i.notification.channel === "email"
  );
  if (linked.length) {
    // A key that cannot be read (KV busy past its retries) leaves the links
    // out; it never holds the notice back.
    const sign = await calendarSigner(kv).catch(() => null);
    for (const item of linked) item.calendarToken = sign?.(item.target.id);
  }
  // Notices and reminders can be turned off in one click (RFC 8058); a
  // cancellation or a move always arrives, so it offers no such link.
  const optional = items.filter((i) =>
    (i.notification.kind === "notice" || i.notification.kind === "reminder") &&
    i.notification.channel === "email"
  );
  if (optional.length) {
    const sign = await unsubscribeSigner(kv).catch(() => null);
    for (const item of optional) {
      item.unsubscribeToken = sign?.(item.user.id, "email");
    }
  }
  // Only a change the owner may postpone offers "Change the time".
  const postponable = optional.filter((i) => i.action.ownerMayPostpone);
  if (postponable.length) {
    const sign = await postponeSigner(kv).catch(() => null);
    for (const item of postponable) {
      item.postponeToken = sign?.(item.user.id, item.notification.instanceId);
    }
  }
  return { items, failures };
}
