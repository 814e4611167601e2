/** Admin: one action — progress, waves, notices, every instance and its notices, live; cancelling with a reason; a paused rollout's resume, abort and roll back. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { z } from "zod";
import { appContext } from "@/lib/app_context.ts";
import { type ActionView, getActionPage } from "@/lib/views/action_view.ts";
import {
  cancelActionAsAdmin,
  cancelTargetAsAdmin,
} from "@/lib/scheduler/cancel_with_reason.ts";
import { BadRequestError, parseOrThrow } from "@/lib/errors.ts";
import { ProgressQuerySchema } from "@/lib/views/action_reads.ts";
import {
  abortAction,
  resumeAction,
  rollbackAction,
} from "@/lib/scheduler/rollout_controls.ts";
import { fromZonedInput, isTimeZone } from "@/lib/format.ts";
import { auditActorOf } from "@/lib/request_state.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { IdSchema, parseId } from "@/lib/ids.ts";
import { textField } from "@/lib/text.ts";
import { redirect } from "@/lib/web/http.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import ActionLive from "@/islands/ActionLive.tsx";
import { AUDIT_RETENTION_DAYS, type RecentChanges } from "@/lib/kv/audit.ts";
import { RecentChangesSection } from "@/components/AuditList.tsx";
import { auditSubjectNames } from "@/lib/views/audit_names.ts";
import LocalTime from "@/islands/LocalTime.tsx";
import { DAY_MS, endedAt } from "@/lib/scheduler/retention.ts";
import { getOwnerSay, type OwnerSay } from "@/lib/owners/owner_say.ts";
import { OwnerSaySection } from "@/components/action/OwnerSay.tsx";

interface Data {
  view: ActionView;
  ownerSay: OwnerSay | null;
  /** When the retention job removes this ended action; null while open or kept for good. */
  removedAfter: string | null;
  retentionDays: number;
  csrfToken: string | null;
  timeZone: string | null;
  now: number;
  targetCursor: string | null;
  flash: string[];
  audit: RecentChanges;
  /** The names of the instances its changes are about. */
  auditNames: Record<string, string>;
}

const CancelForm = z.object({
  intent: z.enum(["cancel", "cancel-target", "resume", "abort", "rollback"]),
  targetId: IdSchema.optional(),
  reason: textField({ max: 256 }).optional(),
  /** Resume: the next wave's wall-clock time in `timeZone` (empty: the earliest allowed). */
  scheduledAt: z.string().max(32).optional(),
  timeZone: z.string().max(64).optional(),
});

/** A resume's wall-clock time as the instant it names, or why it names none. */
function resumeTime(
  wall: string | undefined,
  zone: string | undefined,
): string | undefined {
  if (!wall) return undefined;
  const tz = zone && isTimeZone(zone) ? zone : "UTC";
  const at = fromZonedInput(wall, tz);
  if (!at.ok) {
    const message = at.reason === "skipped"
      ? `${
        wall.replace("T", " ")
      } does not exist in ${tz}: the clocks go forward then.`
      : "Enter the time to resume at like 2026-12-01 09:00.";
    throw new BadRequestError(message, [{ path: "scheduledAt", message }]);
  }
  return new Date(at.ms).toISOString();
}

/** What the schedule form tells this page right after scheduling (see routes/admin/actions/new.tsx). */
function scheduledFlash(p: URLSearchParams, total: number): string[] {
  if (!p.has("scheduled")) {
    return p.has("cancelled") ? [p.get("cancelled") ?? "Cancelled."] : [];
  }
  const left = [
    ["pending", "already had a pending action"],
    ["alreadyOnTag", "already on that tag"],
    ["pinned", "pinned to another tag"],
    ["destroyed", "destroyed"],
  ].flatMap(([key, why]) => {
    const n = Number(p.get(key)) || 0;
    return n > 0 ? [`${n} ${why}`] : [];
  });
  return [
    `Scheduled for ${total.toLocaleString("en-US")} instance${
      total === 1 ? "" : "s"
    }.${left.length ? ` Left out: ${left.join(", ")}.` : ""}`,
    ...p.getAll("warning").slice(0, 3),
  ];
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, config, now } = appContext();
    const cursor = ctx.url.searchParams.get("cursor") ||
      ctx.url.searchParams.get("targets");
    const targetCursor = cursor && cursor.length <= 1000 ? cursor : null;
    const actionId = parseId(ctx.params.id, "action id");
    const { outcome } = parseOrThrow(ProgressQuerySchema, {
      outcome: ctx.url.searchParams.get("outcome") || undefined,
    }, "filter");
    const { view, audit } = await getActionPage(kv, actionId, {
      targetCursor,
      outcome,
      pushViaOutbox: !config.pushViaExpo,
    });
    const ended = endedAt(view.action);
    const days = config.actionRetentionDays;
    return ctx.render({
      view,
      ownerSay: await getOwnerSay(kv, view.action),
      removedAfter: ended !== null && days > 0
        ? new Date(ended + days * DAY_MS).toISOString()
        : null,
      retentionDays: days,
      csrfToken: ctx.state.csrfToken,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
      targetCursor,
      flash: scheduledFlash(
        ctx.url.searchParams,
        // While it is written, the counters hold only the instances written so far.
        view.preparing && "written" in view.preparing
          ? view.preparing.total
          : view.counters.total,
      ),
      audit,
      auditNames: await auditSubjectNames(kv, audit.items),
    });
  },
  /** The cancel and rollout controls without JavaScript post here. */
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "action id");
    const form = Object.fromEntries(await readForm(req));
    const parsed = CancelForm.safeParse(form);
    if (!parsed.success) {
      throw new BadRequestError("That cancel request was not understood.");
    }
    const { intent, targetId, reason } = parsed.data;
    const app = appContext();
    const page = (said: string) =>
      redirect(
        `/admin/actions/${encodeURIComponent(id)}?${new URLSearchParams({
          cancelled: said,
        })}`,
      );
    if (intent === "resume") {
      await resumeAction(app, id, {
        scheduledAt: resumeTime(parsed.data.scheduledAt, parsed.data.timeZone),
        reason: reason || null,
      }, auditActorOf(ctx.state));
      return page("Rollout resumed.");
    }
    if (intent === "abort") {
      await abortAction(
        app,
        id,
        reason || null,
        ctx.state.user,
        auditActorOf(ctx.state),
      );
      return page("Rollout aborted.");
    }
    if (intent === "rollback") {
      const result = await rollbackAction(
        app,
        id,
        reason || null,
        ctx.state.user,
        auditActorOf(ctx.state),
      );
      return redirect(
        `/admin/actions/${encodeURIComponent(result.id)}?${new URLSearchParams({
          cancelled: "Rollback scheduled.",
        })}`,
      );
    }
    let said = "Action cancelled.";
    if (intent === "cancel-target" && targetId) {
      await cancelTargetAsAdmin(app, ctx.state, id, targetId, reason || null);
      said = "Cancelled for this instance.";
    } else {
      await cancelActionAsAdmin(app, ctx.state, id, reason || null);
    }
    return page(said);
  },
};

export default function ActionPage({ data }: PageProps<Data>) {
  const action = data.view.action;
  return (
    <>
      <Head>
        <title>{`${data.view.action.label} · Admin · KiloClaw`}</title>
      </Head>
      <p>
        <a href="/admin/actions">← Scheduled actions</a>
      </p>
      {data.flash.length > 0 && (
        <div class="flash flash-ok" role="status">
          {data.flash.map((line) => <p key={line}>{line}</p>)}
        </div>
      )}
      <ActionLive
        view={data.view}
        csrfToken={data.csrfToken}
        timeZone={data.timeZone}
        now={data.now}
        targetCursor={data.targetCursor}
      />
      {data.removedAfter && (
        <p class="muted small" data-testid="retention">
          Kept until{" "}
          <LocalTime
            at={data.removedAfter}
            timeZone={data.timeZone}
            now={data.now}
          />, {data.retentionDays}{" "}
          days after it ended; then it is deleted with its instances and
          notices. Its changes stay in the audit for {AUDIT_RETENTION_DAYS}{" "}
          days.
        </p>
      )}
      {data.ownerSay && (
        <OwnerSaySection
          say={data.ownerSay}
          timeZone={data.timeZone}
          now={data.now}
        />
      )}
      <RecentChangesSection
        changes={data.audit}
        names={data.auditNames}
        subject={{ type: "action", id: action.id }}
        timeZone={data.timeZone}
        now={data.now}
      />
    </>
  );
}
