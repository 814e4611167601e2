/**
 * The names the audit shows for the actions and instances its entries are
 * about, so an admin reads "Version change to OpenClaw 2.0.0" or "Tom's bot"
 * rather than an id. A record since deleted keeps its id.
 */
import type { AuditEntry, Instance, ScheduledAction } from "../types.ts";
import { getManyById } from "../kv/batched_reads.ts";
import { keys } from "../kv/keys.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import { actionLabel } from "../action_words.ts";

export async function auditSubjectNames(
  kv: Deno.Kv,
  entries: AuditEntry[],
): Promise<Record<string, string>> {
  const actionIds = new Set<string>();
  const instanceIds = new Set<string>();
  for (const e of entries) {
    if (e.subject.type === "action") actionIds.add(e.subject.id);
    if (e.subject.type === "instance") instanceIds.add(e.subject.id);
    for (const r of e.related) {
      if (r.type === "instance") instanceIds.add(r.id);
    }
  }
  const [actions, instances] = await Promise.all([
    getManyById<ScheduledAction>(kv, actionIds, keys.action),
    getManyById<Instance>(kv, instanceIds, keys.instance),
  ]);
  const versions = new Map<string, string | null>();
  for (const { value } of actions.values()) {
    if (value?.imageTag && !versions.has(value.imageTag)) {
      versions.set(
        value.imageTag,
        (await getCatalogEntry(kv, value.imageTag))?.openclawVersion ?? null,
      );
    }
  }
  const names: Record<string, string> = {};
  for (const [id, { value }] of actions) {
    if (value) {
      names[id] = actionLabel(
        value,
        versions.get(value.imageTag ?? "") ?? null,
      );
    }
  }
  for (const [id, { value }] of instances) {
    if (value) names[id] = value.name;
  }
  return names;
}
