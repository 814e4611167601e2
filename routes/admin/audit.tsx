/** Admin: every admin change, newest first, with filters and paging. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { type AuditPage, AuditQuerySchema, listAudit } from "@/lib/kv/audit.ts";
import type { State } from "@/lib/request_state.ts";
import { AUDIT_CHANGES } from "@/lib/types.ts";
import { AuditList } from "@/components/AuditList.tsx";
import { CursorPager } from "@/components/Pager.tsx";

interface Data {
  page: AuditPage;
  query: Record<string, string>;
  url: URL;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    // Empty form fields mean "any".
    const raw = Object.fromEntries(
      [...ctx.url.searchParams].filter(([, v]) => v !== ""),
    );
    const q = parseOrThrow(AuditQuerySchema, raw, "query");
    const { kv, now } = appContext();
    return ctx.render({
      page: await listAudit(kv, q),
      query: raw,
      url: ctx.url,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

export default function AuditPageView({ data }: PageProps<Data>) {
  const { query } = data;
  return (
    <>
      <Head>
        <title>Audit · Admin · KiloClaw</title>
      </Head>
      <h1>Audit</h1>
      <p class="muted">
        Every admin change, newest first, kept at least 400 days.
      </p>
      <form method="get" class="search" role="search">
        <label>
          Change{" "}
          <select name="change">
            <option value="">any</option>
            {AUDIT_CHANGES.map((c) => (
              <option value={c} selected={query.change === c}>{c}</option>
            ))}
          </select>
        </label>{" "}
        <label>
          Admin id <input name="actor" value={query.actor ?? ""} size={20} />
        </label>{" "}
        <label>
          Subject{" "}
          <select name="subjectType">
            <option value="">any</option>
            {["action", "instance", "user", "catalog"].map((t) => (
              <option value={t} selected={query.subjectType === t}>{t}</option>
            ))}
          </select>
        </label>{" "}
        <label>
          Subject id{" "}
          <input
            name="subjectId"
            value={query.subjectId ?? ""}
            size={24}
          />
        </label>{" "}
        <button type="submit">Filter</button>
      </form>
      <AuditList
        entries={data.page.items}
        timeZone={data.timeZone}
        now={data.now}
      />
      <CursorPager url={data.url} cursor={data.page.cursor} />
    </>
  );
}
