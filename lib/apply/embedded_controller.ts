/**
 * The default controller: the instance record in KV is the instance. A
 * restart stamps `lastRestartAt`; a version change moves the image tag (and
 * its index, and the pin when it overrides pins). Checked against the record
 * it read, so a destroy or a pin change landing meanwhile is seen, not
 * overwritten. Every instance is healthy, except those on a tag named in
 * `unhealthyTags`: the demo and the tests stage a bad build that way.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { addInstanceUpdate } from "../kv/instances.ts";
import type { Instance } from "../types.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import type {
  ControllerCallOptions,
  ControllerResult,
  InstanceController,
  InstanceHealth,
} from "./controller.ts";

export function embeddedController(
  kv: Deno.Kv,
  now: () => number = Date.now,
  /** Instances now on one of these tags report unhealthy (EMBEDDED_CONTROLLER_UNHEALTHY_TAGS). */
  unhealthyTags: readonly string[] = [],
): InstanceController {
  async function change(
    id: string,
    opts: ControllerCallOptions,
    edit: (i: Instance, at: string) => Instance,
  ): Promise<ControllerResult> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const cur = await kv.get<Instance>(keys.instance(id));
      if (!cur.value || cur.value.status === "destroyed") {
        return {
          ok: false,
          transient: false,
          error: `instance ${id} is destroyed`,
          skipReason: "destroyed",
        };
      }
      if (
        opts.expectedPinnedImageTag !== undefined &&
        cur.value.pinnedImageTag !== opts.expectedPinnedImageTag
      ) {
        return {
          ok: false,
          transient: false,
          error:
            `instance ${id} was pinned to ${cur.value.pinnedImageTag} meanwhile`,
          skipReason: "pin_changed_in_flight",
        };
      }
      const at = new Date(now()).toISOString();
      const res = await commitRetrying(() =>
        addInstanceUpdate(
          kv.atomic(),
          cur as Deno.KvEntry<Instance>,
          edit(cur.value!, at),
        )
      );
      if (res.ok) return { ok: true };
    }
    return {
      ok: false,
      transient: true,
      error: `instance ${id} kept changing under the apply; try again`,
    };
  }
  async function health(ids: string[]) {
    const out: Record<string, InstanceHealth> = {};
    const got = await getManyChunked<Instance>(
      kv,
      ids.map((id) => keys.instance(id)),
    );
    got.forEach((e, i) => {
      out[ids[i]] = !e.value || e.value.status === "destroyed"
        ? "unknown"
        : unhealthyTags.includes(e.value.imageTag)
        ? "unhealthy"
        : "healthy";
    });
    return out;
  }
  return {
    name: "embedded",
    health,
    restart: (instance, opts) =>
      change(instance.id, opts, (i, at) => ({
        ...i,
        lastRestartAt: at,
        updatedAt: at,
      })),
    changeVersion: (instance, imageTag, opts) =>
      change(instance.id, opts, (i, at) => ({
        ...i,
        imageTag,
        pinnedImageTag: opts.removePin ? null : i.pinnedImageTag,
        updatedAt: at,
      })),
  };
}
