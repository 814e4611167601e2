/**
 * What the schedule page does with a posted form, in one call: read and
 * check it, review it (the dry run the admin sees), send the admin a test
 * when asked, and schedule exactly what was reviewed — applying it now when
 * asked, with owners told at once. A refused schedule comes back as the
 * form's errors, worded for the form.
 */
import type { AppContext } from "../app_context.ts";
import type { SignedInState } from "../request_state.ts";
import { AppError } from "../errors.ts";
import { log } from "../operations/log.ts";
import { sweep } from "../notices/sweep.ts";
import { previewSchedule, type SchedulePreview } from "../preview/preview.ts";
import { sendTestToAdmin } from "../preview/test_send.ts";
import { withEmailFrame } from "../preview/email_preview.ts";
import { scheduleAction } from "../scheduler/schedule.ts";
import { auditSchedule } from "../scheduler/audit.ts";
import {
  applyWaveIntent,
  checkScheduleForm,
  formErrorOf,
  pastedIds,
  readScheduleForm,
} from "./schedule_form.ts";
import {
  FIELD,
  type FormError,
  REVIEW_CHANGED,
  type ScheduleFormValues,
} from "./form_model.ts";

/** The form shown again, with what the post found. */
export interface ScheduleFormAnswer {
  values: ScheduleFormValues;
  errors: FormError[];
  preview: SchedulePreview | null;
  testResult: string | null;
  /** The review changed under the admin: nothing was scheduled. */
  notice: string | null;
  now: number;
}

export type ScheduleFormOutcome =
  | { scheduled: true; location: string }
  | ({ scheduled: false } & ScheduleFormAnswer);

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

/** Review, test send or schedule, as the form's `intent` says. */
export async function postScheduleForm(
  app: AppContext,
  state: SignedInState,
  form: FormData,
): Promise<ScheduleFormOutcome> {
  const { kv, config } = app;
  const values = readScheduleForm(form);
  const intent = String(form.get("intent") ?? "review");
  if (intent === "skip-pending") values.skipPending = true;
  if (intent === "keep-pending") values.skipPending = false;
  applyWaveIntent(values, intent);
  const now = app.now();
  const check = await checkScheduleForm(kv, values, {
    now,
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
    testResult = await sendTestToAdmin(app, state.user, preview);
  }

  if (intent === "schedule" && check.input && preview && !errors.length) {
    if (values.reviewed !== preview.fingerprint) {
      notice = REVIEW_CHANGED;
    } else {
      try {
        const result = await scheduleAction(
          app,
          check.input,
          state.user,
          { skipPending: values.skipPending },
        );
        await auditSchedule(app, state, result);
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
        return {
          scheduled: true,
          location: actionUrl(result.id, result.excluded, warnings),
        };
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
  return {
    scheduled: false,
    values,
    errors,
    preview,
    testResult,
    notice,
    now,
  };
}
