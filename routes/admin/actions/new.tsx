/**
 * Admin: schedule an action. The form posts here and is checked with the
 * API's schema (lib/views/schedule_form.ts). "Review" renders the dry run
 * under the form; "Schedule" commits exactly what was reviewed (the review's
 * fingerprint must still match) and goes to the action's page. The island
 * asks the same questions with `Accept: application/json` while the admin
 * types.
 */
import { postScheduleForm } from "@/lib/views/schedule_form_post.ts";
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getScheduleChoices } from "@/lib/views/list_reads.ts";
import { isId } from "@/lib/ids.ts";
import { searchWords } from "@/lib/search.ts";
import { MAX_TARGETS } from "@/lib/scheduler/schemas.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { redirect } from "@/lib/web/http.ts";
import { freshScheduleForm } from "@/lib/views/schedule_form.ts";
import { EMPTY_MATCH, type MatchFilter } from "@/lib/views/form_model.ts";
import type {
  ScheduleFormBodyProps,
} from "@/components/schedule/ScheduleFormBody.tsx";
import ScheduleForm from "@/islands/ScheduleForm.tsx";

/** What the page hands the form island, but where it posts. */
type Data = Omit<
  ScheduleFormBodyProps,
  "action" | "variant" | "fixedInstance" | "onCancel"
>;

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
    const json = /application\/json/.test(req.headers.get("accept") ?? "");
    const answer = await postScheduleForm(app, ctx.state, await readForm(req));
    if (answer.scheduled) return redirect(answer.location);
    const { values, errors, preview, testResult, notice } = answer;
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
      ...(await getScheduleChoices(app.kv, values.instanceIds, values.match)),
      minAheadSeconds: app.config.scheduleMinAheadSeconds,
      csrfToken: ctx.state.csrfToken,
      now: answer.now,
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
