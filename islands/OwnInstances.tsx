/**
 * The owner's instance cards, live: each card's note says what its workspace
 * banner says (an upgrade or restart coming, or called off), first as the
 * server wrote it, then kept current without a reload. While the page is
 * visible it asks `/api/instances?page=` for the whole page every
 * `pollSeconds` (one request, however many cards), and at once when the page
 * comes back into view.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { pollWhileVisible } from "@/components/poll.ts";
import { StatusPill } from "@/components/StatusPill.tsx";
import type { BannerStatus, InstanceStatus } from "@/lib/types.ts";
import LocalTime from "./LocalTime.tsx";

export interface InstanceCard {
  id: string;
  name: string;
  imageTag: string;
  status: InstanceStatus;
}

interface Props {
  instances: InstanceCard[];
  /** Which page of the owner's instances this is. */
  page: number;
  /** OpenClaw version by image tag. */
  versions: Record<string, string>;
  coming: Record<string, BannerStatus>;
  timeZone: string | null;
  now: number;
  pollSeconds?: number;
}

/** One instance in `GET /api/instances`. */
interface InstanceAnswer extends BannerStatus {
  instanceId: string;
  name: string;
  status: InstanceStatus;
  imageTag: string;
  openclawVersion: string | null;
}

/** How often the cards ask again: a cancel shows within this many seconds. */
export const OWN_INSTANCES_POLL_SECONDS = 5;

export default function OwnInstances(props: Props) {
  const cards = useSignal(props.instances);
  const coming = useSignal(props.coming);
  const now = useSignal(props.now);
  const versions = useSignal({ ...props.versions });

  useEffect(() => {
    const every = (props.pollSeconds ?? OWN_INSTANCES_POLL_SECONDS) * 1000;
    let gone = false;
    async function refresh() {
      try {
        const res = await fetch(`/api/instances?page=${props.page}`, {
          headers: { accept: "application/json" },
        });
        // Signed out: nothing more to follow.
        if (res.status === 401) gone = true;
        if (res.ok) {
          const body: { items: InstanceAnswer[] } = await res.json();
          const next: Record<string, BannerStatus> = {};
          const known = { ...versions.value };
          for (const i of body.items) {
            next[i.instanceId] = {
              scheduledAction: i.scheduledAction ?? null,
              ...(i.cancelledAction
                ? { cancelledAction: i.cancelledAction }
                : {}),
            };
            if (i.openclawVersion) known[i.imageTag] = i.openclawVersion;
          }
          coming.value = next;
          versions.value = known;
          cards.value = body.items.map((i) => ({
            id: i.instanceId,
            name: i.name,
            imageTag: i.imageTag,
            status: i.status,
          }));
        }
      } catch {
        // Offline for a moment: the next round tries again.
      }
      now.value = Date.now();
    }
    return pollWhileVisible({
      every: () => every,
      tick: refresh,
      wake: refresh,
      done: () => gone,
    });
  }, []);

  return (
    <ul class="cards" data-testid="own-instances">
      {cards.value.map((i) => (
        <li class="card" data-instance={i.id}>
          <a href={`/claw/${i.id}`} class="card-title">{i.name}</a>
          <div class="muted small">
            {versions.value[i.imageTag]
              ? `OpenClaw ${versions.value[i.imageTag]} · `
              : ""}
            {i.imageTag}
          </div>
          <StatusPill status={i.status} />
          <div role="status">
            <Coming
              status={coming.value[i.id]}
              timeZone={props.timeZone}
              now={now.value}
            />
          </div>
        </li>
      ))}
    </ul>
  );
}

/** One line on the card for what the workspace banner says. */
function Coming(
  { status, timeZone, now }: {
    status?: BannerStatus;
    timeZone: string | null;
    now: number;
  },
) {
  const s = status?.scheduledAction;
  if (s) {
    const what = s.actionType === "version_change"
      ? `Upgrade to ${
        s.targetOpenclawVersion
          ? `OpenClaw ${s.targetOpenclawVersion}`
          : s.targetImageTag
      }`
      : "Restart";
    if (s.onHold) {
      return (
        <p class="card-note small" data-on-hold="">
          {what} on hold: we will tell you the new time
        </p>
      );
    }
    return (
      <p class="card-note warn small">
        {what} at{" "}
        <LocalTime
          at={s.scheduledAt}
          timeZone={timeZone}
          now={now}
          format="when"
        />
      </p>
    );
  }
  const c = status?.cancelledAction;
  if (c) {
    const what = c.actionType === "version_change" ? "upgrade" : "restart";
    return (
      <p class="card-note small">
        The {what} planned for{" "}
        <LocalTime at={c.scheduledAt} timeZone={timeZone} now={now} />{" "}
        was called off
      </p>
    );
  }
  return null;
}
