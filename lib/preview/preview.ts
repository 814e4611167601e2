/**
 * The dry run of a schedule: who it reaches and who it leaves out (and why),
 * what a chosen owner will read on each channel — rendered by the very
 * templates the sweep uses — when the notices go out, and what deserves a
 * second look. It reads and never writes.
 */
import { userLabel } from "../kv/users.ts";
import { AppError, type Issue } from "../errors.ts";
import { getManyById, getManyChunked } from "../kv/batched_reads.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import { keys } from "../kv/keys.ts";
import { unsubscribeSigner } from "../owners/unsubscribe.ts";
import { listCatalog } from "../kv/catalog.ts";
import { renderNoticeEmail } from "../channels/email_render.ts";
import { calendarSigner } from "../calendar.ts";
import { pushTexts } from "../channels/push_texts.ts";
import type { NoticeItem } from "../channels/types.ts";
import { HOUR_MS, noticeDueAt } from "../due_times.ts";
import { newRow } from "../notices/rows.ts";
import type {
  Channel,
  Instance,
  ScheduledAction,
  Stage,
  Target,
  User,
} from "../types.ts";
import { actionLabel } from "@/lib/action_words.ts";
import type { ScheduleInput } from "../scheduler/schemas.ts";
import type {
  InstanceRef,
  LeftOutGroup,
  OwnerRef,
  PendingRef,
  PreviewSample,
  SchedulePreview,
} from "./preview_model.ts";

export type { SchedulePreview };
import {
  checkImageTag,
  checkScheduledAt,
  type ScheduleDeps,
} from "../scheduler/schedule_checks.ts";
import {
  type HeldInstance,
  scheduleWarnings,
  selectTargets,
  type TargetSelection,
} from "../scheduler/target_selection.ts";
import {
  DEFAULT_CONCURRENCY,
  EXPECTED_CALL_MS,
  type PlannedWave,
  planWaves,
  strangerCanaries,
} from "../scheduler/waves.ts";
import type { PreviewStage } from "./preview_model.ts";
import { deadlineIssues } from "../scheduler/schedule.ts";
import { DEFAULT_INLINE_TARGETS } from "../scheduler/prepare_plan.ts";
import { newActionRecords } from "../scheduler/action_records.ts";
import { planOwnerWindows, readOwnerWindows } from "../owners/window_plan.ts";

/** How many of each left-out group are named; the rest are counted. */
const NAMED = 50;
/** How many of a wave's instances the review names. */
const STAGE_SAMPLE = 5;
/**
 * The action id the preview draws its waves with. The write draws them with
 * the new action's own id, so beyond a hand-picked canary the members named
 * are a sample of the wave's kind, not a promise.
 */
const PREVIEW_ACTION_ID = "preview";
/** How many affected owners the review offers to preview as. */
const OWNER_CHOICES = 200;

export interface PreviewOptions {
  skipPending?: boolean;
  /** Whose view to render; the first affected owner by name otherwise. */
  sampleOwnerId?: string | null;
  publicUrl: string;
  /** Stands for the time in the fingerprint ("apply now" moves with the clock). */
  fingerprintTime?: string;
  /** "Apply now": owners are told as it is scheduled, which is no warning. */
  applyNow?: boolean;
}

const EMPTY_GROUP: LeftOutGroup = { count: 0, items: [] };

function problemsOf(err: unknown): Issue[] {
  if (err instanceof AppError && err.status === 400) {
    return err.issues?.length
      ? err.issues
      : [{ path: "(body)", message: err.message }];
  }
  throw err;
}

export async function previewSchedule(
  deps: ScheduleDeps,
  input: ScheduleInput,
  opts: PreviewOptions,
): Promise<SchedulePreview> {
  const { kv } = deps;
  const now = deps.now();
  const problems: Issue[] = [];
  const atMs = Date.parse(input.scheduledAt);
  try {
    checkScheduledAt(
      input.scheduledAt,
      now,
      deps.config.scheduleMinAheadSeconds,
    );
  } catch (err) {
    problems.push(
      ...problemsOf(err).map((i) =>
        input.timing && i.path === "scheduledAt"
          ? { ...i, path: "timing.notBefore" }
          : i
      ),
    );
  }
  if (input.timing) {
    problems.push(...deadlineIssues(input.timing.deadline, now));
  }
  const catalog = new Map(
    (await listCatalog(kv)).map((c) => [c.imageTag, c.openclawVersion]),
  );
  const targetTag = input.actionType === "version_change"
    ? input.imageTag
    : null;
  if (targetTag) {
    try {
      await checkImageTag(kv, targetTag);
    } catch (err) {
      problems.push(...problemsOf(err));
    }
  }
  let sel: TargetSelection | null = null;
  try {
    sel = await selectTargets(kv, input);
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  const skipPending = opts.skipPending === true;
  const held = new Set(sel?.pending.map((h) => h.instanceId) ?? []);
  const live = (sel?.live ?? []).filter((i) => !held.has(i.id));

  const refIds = sel
    ? [
      ...live.map((i) => i.ownerId),
      ...[sel.destroyed, sel.pinned, sel.alreadyOnTag].flatMap((ids) =>
        ids.slice(0, NAMED).map((id) => sel!.instances.get(id)!.ownerId)
      ),
      ...sel.pending.slice(0, NAMED).map((h) =>
        sel!.instances.get(h.instanceId)!.ownerId
      ),
    ]
    : [];
  const users = await getManyById<User>(kv, refIds, keys.user);
  const userOf = (id: string) => users.get(id)?.value ?? null;
  const ref = (i: Instance): InstanceRef => ({
    id: i.id,
    name: i.name,
    owner: userLabel(userOf(i.ownerId), i.ownerId),
  });
  const group = (ids: string[]): LeftOutGroup => ({
    count: ids.length,
    items: ids.slice(0, NAMED).map((id) => ref(sel!.instances.get(id)!)),
  });

  const ownerIds = [...new Set(live.map((i) => i.ownerId))];
  const owners: OwnerRef[] = ownerIds.map((id) => {
    const u = userOf(id);
    return {
      id,
      label: userLabel(u, id),
      timeZone: u?.timeZone ?? null,
      devices: u?.pushTokens.length ?? 0,
    };
  }).sort((a, b) => a.label.localeCompare(b.label));
  const ownersWithoutDevice = owners.filter((o) => o.devices === 0).length;
  const windowPlan = input.timing
    ? planOwnerWindows(
      live,
      await readOwnerWindows(kv, ownerIds),
      Date.parse(input.timing.notBefore),
      Date.parse(input.timing.deadline),
    )
    : null;

  if (sel && sel.pending.length && !skipPending) {
    problems.push({
      path: "skipPending",
      message: `${sel.pending.length} of the chosen instances already ${
        sel.pending.length === 1 ? "has" : "have"
      } a pending action. Skip ${
        sel.pending.length === 1 ? "it" : "them"
      }, or cancel those actions first.`,
    });
  }
  if (
    sel && live.length === 0 && !problems.some((p) => p.path === "skipPending")
  ) {
    const why = [
      sel.destroyed.length && "destroyed",
      sel.alreadyOnTag.length && "already on that tag",
      sel.pinned.length && "pinned to another tag",
      sel.pending.length && "already has a pending action",
    ].filter(Boolean).join(", ");
    problems.push({
      path: "instanceIds",
      message: `Every instance chosen is left out (${
        why || "none left"
      }); nothing to schedule.`,
    });
  }

  const strangers = sel ? strangerCanaries(input.waves, live) : [];
  if (strangers.length) {
    problems.push({
      path: "waves.0.instanceIds",
      message:
        `the hand-picked first wave names instances that are not among the action's instances: ${
          strangers.slice(0, 10).join(", ")
        }${strangers.length > 10 ? ` and ${strangers.length - 10} more` : ""}`,
    });
  }
  const concurrency = deps.config.controllerConcurrency ?? DEFAULT_CONCURRENCY;

  const notify = input.notify && input.noticeChannels.length > 0;
  const validTime = Number.isFinite(atMs);
  const noticeAt = validTime ? noticeDueAt(input, input) : NaN;
  const targetVersion = targetTag ? catalog.get(targetTag) ?? null : null;
  const sampleOwner = owners.find((o) => o.id === opts.sampleOwnerId) ??
    owners[0];
  // One stage per wave, or per owner-window time (the two are not combined).
  const plan: PlannedWave[] = !validTime
    ? []
    : windowPlan
    ? windowPlan.waves
    : planWaves(PREVIEW_ACTION_ID, live, input.waves, atMs, concurrency);
  const sampleInstance = sampleOwner &&
    live.find((i) => i.ownerId === sampleOwner.id)!;
  const sample = sampleOwner && validTime
    ? await renderSample({
      input,
      owner: sampleOwner,
      user: userOf(sampleOwner.id),
      instance: sampleInstance,
      // Each owner is told the time of their own wave.
      scheduledAt: plan.find((w) => w.instanceIds.includes(sampleInstance.id))
        ?.scheduledAt ?? new Date(atMs).toISOString(),
      targetVersion,
      sourceVersion: (tag) => catalog.get(tag) ?? null,
      notify,
      publicUrl: opts.publicUrl,
      now,
      sign: () => calendarSigner(kv),
      signUnsubscribe: () => unsubscribeSigner(kv),
    })
    : null;

  const warnings = validTime
    ? scheduleWarnings(input, now).filter((w) =>
      !(opts.applyNow && w.code === "notice_at_once")
    )
    : [];
  if (
    notify && input.noticeChannels.includes("mobile_push") &&
    ownersWithoutDevice > 0
  ) {
    warnings.push({
      code: "no_device",
      message: ownersWithoutDevice === owners.length
        ? `None of the ${owners.length} owners has a device registered: nobody gets the push.`
        : `${ownersWithoutDevice} of ${owners.length} owners ${
          ownersWithoutDevice === 1 ? "has" : "have"
        } no device registered: they get no push.`,
    });
  }

  const inline = deps.config.scheduleInlineTargets ?? DEFAULT_INLINE_TARGETS;
  if (live.length > inline) {
    warnings.push({
      code: "background_write",
      message: `${
        live.length.toLocaleString("en-US")
      } instances are more than ${
        inline.toLocaleString("en-US")
      }: the action is written in the background first ("preparing", its progress on its page), and nothing is sent or applied until every instance is written.`,
    });
  }

  const pendingRefs = sel ? await pendingRefsOf(kv, sel, ref, catalog) : [];
  return {
    ready: problems.length === 0,
    problems,
    actionType: input.actionType,
    targetImageTag: targetTag,
    targetOpenclawVersion: targetVersion,
    scheduledAt: validTime ? new Date(atMs).toISOString() : null,
    applyNow: opts.applyNow === true,
    // Nobody left to change is nobody to tell.
    notice: notify && validTime && live.length > 0
      ? {
        channels: input.noticeChannels,
        leadHours: input.noticeLeadHours,
        at: new Date(Math.max(noticeAt, now)).toISOString(),
        atOnce: noticeAt <= now,
        reminders: input.noticeChannels.some((c) => c !== "webapp")
          ? input.reminderLeadHours
            .map((h) => ({ leadHours: h, ms: atMs - h * HOUR_MS }))
            .filter((r) => r.ms > now)
            .map((r) => ({
              leadHours: r.leadHours,
              at: new Date(r.ms).toISOString(),
            }))
          : [],
      }
      : null,
    doneChannels: input.doneChannels,
    requested: sel?.ids.length ?? 0,
    affected: { instances: live.length, owners: owners.length },
    leftOut: sel
      ? {
        destroyed: group(sel.destroyed),
        pinned: group(sel.pinned),
        alreadyOnTag: group(sel.alreadyOnTag),
        pending: { count: sel.pending.length, items: pendingRefs },
      }
      : {
        destroyed: EMPTY_GROUP,
        pinned: EMPTY_GROUP,
        alreadyOnTag: EMPTY_GROUP,
        pending: { count: 0, items: [] },
      },
    skipPending,
    owners: owners.slice(0, OWNER_CHOICES),
    ownersWithoutDevice,
    sample,
    windows: input.timing && windowPlan
      ? {
        notBefore: input.timing.notBefore,
        deadline: input.timing.deadline,
        times: windowPlan.waves.map((w) => ({
          at: w.scheduledAt,
          instances: w.instanceIds.length,
        })),
        fellBack: windowPlan.fellBack,
      }
      : null,
    warnings,
    stages: stagesOf(plan, live),
    rollout: {
      expectedCallMs: EXPECTED_CALL_MS,
      concurrency,
      gate: input.gate ?? null,
    },
    fingerprint: await fingerprintOf(
      input,
      live,
      skipPending,
      opts.fingerprintTime,
    ),
  };
}

/** The waves as the write plans them (over the same instances), each with a few names. */
function stagesOf(plan: PlannedWave[], live: Instance[]): PreviewStage[] {
  const byId = new Map(live.map((i) => [i.id, i]));
  return plan.map((w) => ({
    index: w.index,
    scheduledAt: w.scheduledAt,
    size: w.instanceIds.length,
    soakMinutes: w.soakMinutes,
    expectedApplyMinutes: w.expectedApplyMinutes,
    sample: w.instanceIds.slice(0, STAGE_SAMPLE).map((id) => ({
      instanceId: id,
      name: byId.get(id)?.name ?? id,
    })),
  }));
}

/**
 * The actions holding the pending instances, so the review can link to
 * them, each at the time of that instance's own wave.
 */
async function pendingRefsOf(
  kv: Deno.Kv,
  sel: TargetSelection,
  ref: (i: Instance) => InstanceRef,
  catalog: Map<string, string>,
): Promise<PendingRef[]> {
  const named: HeldInstance[] = sel.pending.slice(0, NAMED);
  const actionIds = [...new Set(named.map((h) => h.actionId))];
  const [actions, locks] = await Promise.all([
    getManyById<ScheduledAction>(kv, actionIds, keys.action),
    getManyById<PendingTargetLock>(
      kv,
      named.map((h) => h.instanceId),
      keys.instancePendingTarget,
    ),
  ]);
  const targetIdOf = (h: HeldInstance) =>
    locks.get(h.instanceId)?.value?.targetId ?? "-";
  const targets = await getManyById<Target>(
    kv,
    named.map(targetIdOf),
    keys.target,
  );
  const stageKeys = named.map((h) =>
    keys.stage(h.actionId, targets.get(targetIdOf(h))?.value?.stageIndex ?? 0)
  );
  const stages = await getManyChunked<Stage>(kv, stageKeys);
  return named.map((h, i) => {
    const action = actions.get(h.actionId)?.value;
    return {
      ...ref(sel.instances.get(h.instanceId)!),
      actionId: h.actionId,
      // Named as on the action's own page: by the version people know.
      actionLabel: action
        ? actionLabel(action, action.imageTag && catalog.get(action.imageTag))
        : "Another action",
      scheduledAt: stages[i].value?.scheduledAt ?? null,
    };
  });
}

/** The owner's view, rendered by the templates the sweep and the workspace use. */
async function renderSample(p: {
  input: ScheduleInput;
  owner: OwnerRef;
  user: User | null;
  instance: Instance;
  scheduledAt: string;
  targetVersion: string | null;
  sourceVersion: (tag: string) => string | null;
  notify: boolean;
  publicUrl: string;
  now: number;
  /** The calendar links' signer, read only when an email is rendered. */
  sign: () => Promise<(targetId: string) => string>;
  /** The one-click unsubscribe link's signer, as the sweep signs it for a warning email. */
  signUnsubscribe: () => Promise<(userId: string, channel: "email") => string>;
}): Promise<PreviewSample> {
  const { input, instance } = p;
  const channels = p.notify ? input.noticeChannels : [];
  const at = new Date(p.now).toISOString();
  const isVersion = input.actionType === "version_change";
  const user: User = p.user ?? {
    id: p.owner.id,
    email: "",
    name: null,
    timeZone: null,
    role: "user",
    pushTokens: [],
    createdAt: at,
    updatedAt: at,
  };
  const { action, stage, targets: [target] } = newActionRecords(
    input,
    [instance],
    {
      id: "preview",
      createdBy: "preview",
      scheduledAt: p.scheduledAt,
      now: p.now,
      targetId: () => "preview",
    },
  );
  const item = (channel: Channel): NoticeItem => ({
    notification: {
      ...newRow(
        { ...target, targetId: target.id, userId: user.id },
        "notice",
        channel,
        noticeDueAt(action, stage),
        p.now,
      ),
      id: "preview",
    },
    user,
    instance,
    action,
    stage,
    target,
    targetOpenclawVersion: isVersion ? p.targetVersion : null,
    sourceOpenclawVersion: isVersion
      ? p.sourceVersion(instance.imageTag)
      : null,
  });
  let email: PreviewSample["email"] = null;
  if (channels.includes("email")) {
    // The email carries its "Add to calendar" link as the sent one does
    // (signed for the sample's stand-in target, as the sweep signs the real one).
    const sign = await p.sign().catch(() => null);
    const unsubscribe = await p.signUnsubscribe().catch(() => null);
    const m = renderNoticeEmail(
      {
        ...item("email"),
        calendarToken: sign?.(target.id),
        unsubscribeToken: unsubscribe?.(user.id, "email"),
      },
      p.publicUrl,
    );
    email = { to: m.to, subject: m.subject, html: m.html, text: m.text };
  }
  return {
    owner: p.owner,
    instance: { id: instance.id, name: instance.name },
    email,
    push: channels.includes("mobile_push")
      ? { ...pushTexts(item("mobile_push")), devices: p.owner.devices }
      : null,
    banner: channels.includes("webapp")
      ? {
        status: {
          scheduledAction: {
            scheduledActionId: "preview",
            actionType: input.actionType,
            scheduledAt: p.scheduledAt,
            targetImageTag: action.imageTag,
            targetOpenclawVersion: isVersion ? p.targetVersion : null,
          },
        },
        timeZone: p.owner.timeZone,
      }
      : null,
  };
}

/**
 * Everything that decides what gets scheduled, for whom and what they are
 * told, hashed. The reason is left out: the review does not show it, so
 * writing one after the review leaves the review current.
 */
async function fingerprintOf(
  input: ScheduleInput,
  live: Instance[],
  skipPending: boolean,
  time: string | undefined,
): Promise<string> {
  const { scheduledAt, reason: _reason, ...rest } = input;
  const bytes = new TextEncoder().encode(JSON.stringify({
    ...rest,
    scheduledAt: time ?? scheduledAt,
    targets: live.map((i) => i.id).sort(),
    skipPending,
  }));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
