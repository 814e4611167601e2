/**
 * Admin: schedule an action. The form posts here and is checked with the
 * API's schema (lib/views/schedule_form.ts). "Review" renders the dry run
 * under the form; "Schedule" commits exactly what was reviewed (the review's
 * fingerprint must still match) and goes to the action's page. The island
 * asks the same questions with `Accept: application/json` while the admin
 * types.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getScheduleChoices } from "@/lib/views/list_reads.ts";
import { isId } from "@/lib/ids.ts";
import { searchWords } from "@/lib/search.ts";
import { MAX_TARGETS } from "@/lib/scheduler/schemas.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { AppError } from "@/lib/errors.ts";
import { readForm } from "@/lib/request_body.ts";
import { redirect } from "@/lib/http.ts";
import {
  checkScheduleForm,
  formErrorOf,
  freshScheduleForm,
  pastedIds,
  readScheduleForm,
} from "@/lib/views/schedule_form.ts";
import {
  EMPTY_MATCH,
  FIELD,
  type MatchFilter,
  REVIEW_CHANGED,
} from "@/lib/views/form_model.ts";
import {
  previewSchedule,
  type SchedulePreview,
} from "@/lib/preview/preview.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { auditSchedule } from "@/lib/scheduler/audit.ts";
import { sendTestToAdmin } from "@/lib/preview/test_send.ts";
import { withEmailFrame } from "@/lib/preview/email_preview.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { log } from "@/lib/log.ts";
import type { ScheduleFormBodyProps } from "@/components/schedule/ScheduleFormBody.tsx";
import ScheduleForm from "@/islands/ScheduleForm.tsx";

/** What the page hands the form island, but where it posts. */
type Data = Omit<
  ScheduleFormBodyProps,
  "action" | "variant" | "fixedInstance" | "onCancel"
>;

/** Where to go after scheduling: the action, told what was left out and what to watch. */
function actionUrl(
  id: string,
  excluded: Record<string, string[]>,
  warnings: { message: string }[],
): string {
  const q = new URLSearchParams({ scheduled: "1" });
  for (const [why, ids] of Object.entries(excluded)) {
    if (ids.length) q.set(why, String(ids.length));
  }
  for (const w of warnings) q.append("warning", w.message);
  return `/admin/actions/${encodeURIComponent(id)}?${q}`;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, config, now } = appContext();
    const p = ctx.url.searchParams;
    const ids = [...new Set(p.getAll("instanceId").filter(isId))].slice(
      0,
      MAX_TARGETS,
    );
    const match: MatchFilter = p.has("match")
      ? {
        q: searchWords(p.get("q")),
        tag: searchWords(p.get("tag")),
        owner: p.get("owner") ?? "",
        status: p.get("status") ?? "",
      }
      : { ...EMPTY_MATCH };
    const { catalog: sorted, chosen, match: matchSummary } =
      await getScheduleChoices(kv, ids, match);
    // The newest available tag (for a single instance: one it does not run already).
    const newest = sorted.find((c) =>
      c.available &&
      !(chosen.length === 1 && c.imageTag === chosen[0].imageTag)
    ) ?? sorted.find((c) => c.available);
    // "Every instance on an image tag" starts from another tag than the one
    // it changes to: the one just before it, rather than nothing to change.
    const fromTag = sorted.find((c) => c.imageTag !== newest?.imageTag) ??
      sorted[0];
    const t = now();
    return ctx.render({
      values: freshScheduleForm(t, ctx.state.user.timeZone, {
        actionType: p.get("type") === "version_change"
          ? "version_change"
          : "scheduled_restart",
        imageTag: newest?.imageTag ?? "",
        targets: p.has("match") ? "match" : "ids",
        instanceIds: ids,
        selectorTag: fromTag?.imageTag ?? "",
        match,
      }),
      errors: [],
      preview: null,
      catalog: sorted,
      chosen,
      match: matchSummary,
      minAheadSeconds: config.scheduleMinAheadSeconds,
      csrfToken: ctx.state.csrfToken,
      now: t,
      viewerZone: ctx.state.user.timeZone,
      testResult: null,
      notice: null,
    });
  },

  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const app = appContext();
    const { kv, config } = app;
    const json = /application\/json/.test(req.headers.get("accept") ?? "");
    const form = await readForm(req);
    const values = readScheduleForm(form);
    const intent = String(form.get("intent") ?? "review");
    if (intent === "skip-pending") values.skipPending = true;
    if (intent === "keep-pending") values.skipPending = false;
    const t = app.now();
    const check = await checkScheduleForm(kv, values, {
      now: t,
      minAheadSeconds: config.scheduleMinAheadSeconds,
    });
    // Pasted ids join the chosen ones, listed by name from now on.
    values.instanceIds = [
      ...new Set([...values.instanceIds, ...pastedIds(values.instanceIdsText)]),
    ];
    values.instanceIdsText = "";
    let errors = check.errors;
    let preview: SchedulePreview | null = null;
    let testResult: string | null = null;
    let notice: string | null = null;
    if (check.input) {
      preview = await withEmailFrame(
        kv,
        await previewSchedule(app, check.input, {
          skipPending: values.skipPending,
          sampleOwnerId: values.sampleOwner || null,
          publicUrl: config.publicUrl,
          fingerprintTime: values.when === "now" ? "now" : undefined,
          applyNow: values.when === "now",
        }),
      );
      // Instances held by another action are the review's own question ("skip those"),
      // an error only when the admin tries to schedule without answering it.
      errors = preview.problems
        .filter((i) => intent === "schedule" || i.path !== "skipPending")
        .map(formErrorOf);
    }

    if (intent === "test" && preview && errors.length === 0) {
      testResult = await sendTestToAdmin(app, ctx.state.user, preview);
    }

    if (intent === "schedule" && check.input && preview && !errors.length) {
      if (values.reviewed !== preview.fingerprint) {
        notice = REVIEW_CHANGED;
      } else {
        try {
          const result = await scheduleAction(
            app,
            check.input,
            ctx.state.user,
            { skipPending: values.skipPending },
          );
          await auditSchedule(app, ctx.state, result);
          if (values.when === "now") {
            // "Apply now": owners are told at once rather than at the next minute's sweep.
            await sweep({ ...app, log: log.info }, { budgetMs: 10_000 })
              .catch((err) =>
                log.error("sweep after apply-now failed", {
                  error: String(err),
                })
              );
          }
          // "Apply now" tells owners at once on purpose: no warning about it.
          const warnings = result.warnings.filter((w) =>
            !(values.when === "now" && w.code === "notice_at_once")
          );
          return redirect(actionUrl(result.id, result.excluded, warnings));
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          errors = err.status === 409
            ? [{
              field: FIELD.pending,
              message:
                "Another schedule took some of these instances a moment ago. Review again to see them, then skip them or cancel that action.",
            }]
            : (err.issues ?? [{ path: "(body)", message: err.message }]).map(
              formErrorOf,
            );
        }
      }
    }

    // A refused schedule is a conflict with what the admin reviewed.
    const status = notice ? 409 : errors.length ? 400 : 200;
    if (json) {
      return Response.json({ errors, preview, testResult, notice }, {
        status: notice ? 409 : 200,
      });
    }
    return ctx.render({
      values,
      errors,
      preview,
      ...(await getScheduleChoices(kv, values.instanceIds, values.match)),
      minAheadSeconds: config.scheduleMinAheadSeconds,
      csrfToken: ctx.state.csrfToken,
      now: t,
      viewerZone: ctx.state.user.timeZone,
      testResult,
      notice,
    }, { status });
  },
};

export default function NewAction({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>
          {data.errors.length
            ? "Fix the form · Schedule an action · KiloClaw"
            : "Schedule an action · Admin · KiloClaw"}
        </title>
      </Head>
      <p>
        <a href="/admin/actions">← Scheduled actions</a>
      </p>
      <h1>Schedule an action</h1>
      <ScheduleForm
        action="/admin/actions/new"
        values={data.values}
        errors={data.errors}
        preview={data.preview}
        catalog={data.catalog}
        chosen={data.chosen}
        match={data.match}
        minAheadSeconds={data.minAheadSeconds}
        csrfToken={data.csrfToken}
        now={data.now}
        viewerZone={data.viewerZone}
        testResult={data.testResult}
        notice={data.notice}
      />
    </>
  );
}
