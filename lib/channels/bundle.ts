/**
 * One message per owner: the rows of one dispatch group that tell the same
 * owner the same thing about the same action (kind, and reminder) become one
 * email and one push listing their bots. Done notices stay one per bot: each
 * says how that bot's change went.
 */
import type { NoticeItem } from "./types.ts";
import type { Notification } from "../types.ts";

/** Rows with the same key are told to their owner in one message. */
export function rowBundleKey(n: Notification): string {
  if (n.kind === "done") return `row|${n.id}`;
  return [n.actionId, n.userId, n.kind, n.reminderLeadHours ?? "", n.channel]
    .join("|");
}

export function bundleKey(item: NoticeItem): string {
  return rowBundleKey(item.notification);
}

/**
 * How many rows of a gathered list to put in the next group: up to `size`,
 * never splitting the trailing owner's rows (their siblings may be on the
 * next page) unless they alone fill a group.
 */
export function bundleCut(rows: Notification[], size: number): number {
  const n = Math.min(rows.length, size);
  const last = rowBundleKey(rows[n - 1]);
  let start = n - 1;
  while (start > 0 && rowBundleKey(rows[start - 1]) === last) start--;
  return start > 0 ? start : n;
}

/** Items grouped by owner and message, in the order first seen; each bundle sorted by bot name. */
export function bundleItems(
  items: NoticeItem[],
): { indexes: number[]; items: NoticeItem[] }[] {
  const byKey = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = bundleKey(item);
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  return [...byKey.values()].map((indexes) => {
    const sorted = [...indexes].sort((a, b) =>
      botName(items[a]).localeCompare(botName(items[b])) ||
      items[a].notification.instanceId.localeCompare(
        items[b].notification.instanceId,
      )
    );
    return { indexes: sorted, items: sorted.map((i) => items[i]) };
  });
}

export function botName(item: NoticeItem): string {
  return item.instance?.name ?? item.notification.instanceId;
}

/** "A", "A and B", "A, B and C". */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}
