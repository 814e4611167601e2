/**
 * The health gate of a rollout. Once a wave's changes land, its stage holds a
 * gate key (`stages_gate_due`) at its next reading: the controller's health
 * of every instance the wave changed, at once and then every few minutes of
 * the soak, with the wave's failed targets. A reading over the gate pauses
 * the action at once; the reading at the soak's end, if within it, passes
 * the wave and lets the next one start (`mayFollow` in stage_status.ts).
 *
 * The pause is one atomic operation checked against the action and stage it
 * read: the action becomes `paused`, the verdict is stored, and the audit
 * entry, the webhook event, the admin alert email and the marker of the hold
 * that follows are written with it. Then the later waves' warnings are held
 * (`finishPause`); a crash in between leaves the marker for the next tick.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import {
  allTargetIdsOfAction,
  getStageCounts,
  getTargetEntries,
} from "../kv/actions.ts";
import { getUser } from "../kv/users.ts";
import { addAuditWrite, newAuditEntry } from "../kv/audit.ts";
import { putStage } from "./stage_status.ts";
import { HEALTH_BATCH, type InstanceController } from "./controller.ts";
import { gateVerdict, pauseSentence } from "../scheduler/waves.ts";
import { finishPause, type PausingMarker } from "../scheduler/rollout_hold.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";
import { addAdminAlert, newAdminAlert } from "../operations/admin_alerts.ts";
import { recordGateVerdict } from "../operations/telemetry.ts";
import { log } from "../operations/log.ts";
import type { ScheduledAction, Stage, StageGate } from "../types.ts";

/** How often the gate reads a soaking wave's health before its verdict. */
export const GATE_READ_EVERY_MS = 5 * 60_000;

/** The app's own actor in the audit, for changes no admin made. */
export const SYSTEM_ACTOR = { id: "system", email: null };

export interface GateDeps {
  kv: Deno.Kv;
  controller: InstanceController;
  now: () => number;
  /** Who hears of a pause besides the action's creator (ADMIN_EMAILS). */
  adminEmails?: readonly string[];
  /** For the link in the alert email. */
  publicUrl?: string;
}

export interface GateReport {
  judged: number;
  passed: number;
  paused: number;
  /** Controller health calls made (each reads at most HEALTH_BATCH instances). */
  healthCalls: number;
}

/** Reads every gate whose time has come. */
export async function judgeDueGates(deps: GateDeps): Promise<GateReport> {
  const report: GateReport = {
    judged: 0,
    passed: 0,
    paused: 0,
    healthCalls: 0,
  };
  const due: [string, number][] = [];
  for await (
    const e of deps.kv.list({
      start: keys.stagesGateDue(),
      end: [...keys.stagesGateDue(), deps.now() + 1],
    })
  ) due.push([e.key[2] as string, e.key[3] as number]);
  for (const [actionId, index] of due) {
    await judgeWave(deps, actionId, index, report);
  }
  return report;
}

/** The instances a wave changed: the ones whose health the gate reads. */
async function changedInstances(
  kv: Deno.Kv,
  actionId: string,
  index: number,
): Promise<string[]> {
  const ids = await allTargetIdsOfAction(kv, actionId);
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    for (const e of await getTargetEntries(kv, ids.slice(i, i + 500))) {
      const t = e.value;
      if (t.stageIndex === index && t.status === "applied") {
        out.push(t.instanceId);
      }
    }
  }
  return out;
}

async function judgeWave(
  deps: GateDeps,
  actionId: string,
  index: number,
  report: GateReport,
): Promise<void> {
  const { kv } = deps;
  const [action, stage] = await kv.getMany<[ScheduledAction, Stage]>([
    keys.action(actionId),
    keys.stage(actionId, index),
  ]);
  const s = stage.value;
  const gate = s?.gate;
  if (!s || !gate?.nextAt) return;
  const now = deps.now();
  if (Date.parse(gate.nextAt) > now) return;
  const spec = action.value?.gate;
  if (action.value?.status !== "running" || gate.verdict !== null || !spec) {
    // Nothing left to judge (paused, cancelled, judged): the key goes.
    await commitRetrying(() =>
      putStage(kv.atomic().check(stage), s, {
        ...s,
        gate: { ...gate, nextAt: null },
      })
    );
    return;
  }
  report.judged++;
  const instanceIds = await changedInstances(kv, actionId, index);
  const health = instanceIds.length
    ? await deps.controller.health(instanceIds)
    : {};
  report.healthCalls += Math.ceil(instanceIds.length / HEALTH_BATCH);
  const tally = { healthy: 0, unhealthy: 0, unknown: 0 };
  for (const id of instanceIds) tally[health[id] ?? "unknown"]++;
  const sc = (await getStageCounts(kv, actionId)).get(index);
  const size = Math.max(0, (sc?.total ?? 0) - (sc?.cancelled ?? 0));
  const failed = sc?.failed ?? 0;
  const v = gateVerdict(spec, { size, failed, unhealthy: tally.unhealthy });
  const at = new Date(now).toISOString();
  const soakOver = !s.soakUntil || Date.parse(s.soakUntil) <= now;
  const reading: StageGate = {
    ...gate,
    ...tally,
    at,
    failedPercent: v.failedPercent,
    unhealthyPercent: v.unhealthyPercent,
    checked: instanceIds.length,
  };
  if (!v.passed) {
    const paused = await pause(deps, action as Deno.KvEntry<ScheduledAction>, {
      stage: stage as Deno.KvEntry<Stage>,
      reading: { ...reading, verdict: "failed", nextAt: null },
      sentence: pauseSentence(index + 1, spec, {
        size,
        failed,
        unhealthy: tally.unhealthy,
      }),
      counts: {
        total: sc?.total ?? 0,
        applied: sc?.applied ?? 0,
        skipped: (sc?.skipped ?? 0) + (sc?.cancelled ?? 0),
        failed,
      },
    });
    if (paused) {
      report.paused++;
      recordGateVerdict("failed");
      await finishPause(deps, actionId);
    }
    return;
  }
  const next: StageGate = soakOver
    ? { ...reading, verdict: "passed", nextAt: null }
    : {
      ...reading,
      nextAt: new Date(
        Math.min(now + GATE_READ_EVERY_MS, Date.parse(s.soakUntil!)),
      ).toISOString(),
    };
  const res = await commitRetrying(() =>
    putStage(kv.atomic().check(action, stage), s, { ...s, gate: next })
  );
  if (res.ok && soakOver) {
    report.passed++;
    recordGateVerdict("passed");
  }
}

/** The pause commit; false when the action or stage moved first (the next tick looks again). */
async function pause(
  deps: GateDeps,
  action: Deno.KvEntry<ScheduledAction>,
  p: {
    stage: Deno.KvEntry<Stage>;
    reading: StageGate;
    sentence: string;
    counts: { total: number; applied: number; skipped: number; failed: number };
  },
): Promise<boolean> {
  const { kv } = deps;
  const now = deps.now();
  const at = new Date(now).toISOString();
  const a = action.value;
  const s = p.stage.value;
  const paused: ScheduledAction = { ...a, status: "paused", updatedAt: at };
  const wave = s.index + 1;
  const creator = await getUser(kv, a.createdBy).catch(() => null);
  const url = `${(deps.publicUrl ?? "").replace(/\/+$/, "")}/admin/actions/${
    encodeURIComponent(a.id)
  }`;
  const what = a.actionType === "version_change"
    ? `The version change to ${a.imageTag}`
    : "The rolling restart";
  const body =
    `${what} stopped itself. ${p.sentence}. No later wave starts and no later owner is warned until you resume it; you can also abort it or roll back the waves already applied.`;
  const alert = newAdminAlert({
    to: [...(creator?.email ? [creator.email] : []), ...deps.adminEmails ?? []],
    subject: `KiloClaw: rollout paused after wave ${wave}`,
    text: `${body}\n\nOpen the action: ${url}\n`,
    html: `<p>${escapeHtml(body)}</p><p><a href="${
      escapeHtml(url)
    }">Open the action</a></p>`,
  }, now);
  const marker: PausingMarker = { at, stageIndex: s.index };
  const audit = newAuditEntry({ actor: SYSTEM_ACTOR, via: "system" }, {
    change: "action.pause",
    subject: { type: "action", id: a.id },
    details: {
      status: [a.status, "paused"],
      wave,
      sentence: p.sentence,
      size: p.counts.total,
      failed: p.counts.failed,
      unhealthy: p.reading.unhealthy,
      unknown: p.reading.unknown,
      failedPercent: p.reading.failedPercent,
      unhealthyPercent: p.reading.unhealthyPercent,
    },
  }, now);
  const res = await commitRetrying(() =>
    addAdminAlert(
      addAuditWrite(
        addWebhookEvent(
          putStage(kv.atomic().check(action, p.stage), s, {
            ...s,
            gate: p.reading,
          }).set(keys.action(a.id), paused)
            .set(keys.actionPausing(a.id), marker),
          actionEvent("action.paused", paused, now, {
            scheduledAt: s.scheduledAt,
            counts: p.counts,
            wave,
          }),
        ),
        audit,
      ),
      alert,
    )
  );
  if (res.ok) {
    log.warn("rollout paused by its health gate", {
      actionId: a.id,
      wave,
      sentence: p.sentence,
    });
  }
  return res.ok;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
