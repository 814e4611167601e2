/** Admin: every admin change, newest first, filtered by kind of change, admin and subject, paged. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { BadRequestError, parseOrThrow } from "@/lib/errors.ts";
import { type AuditPage, AuditQuerySchema, listAudit } from "@/lib/kv/audit.ts";
import { getUserByEmail, nameAndEmail } from "@/lib/kv/users.ts";
import type { State } from "@/lib/request_state.ts";
import { AUDIT_CHANGES, AUDIT_SUBJECT_TYPES, type User } from "@/lib/types.ts";
import { API_TOKEN_ACTOR_ID } from "@/lib/ids.ts";
import { CHANGE_WORDS } from "@/lib/views/audit_words.ts";
import { AuditList } from "@/components/AuditList.tsx";
import { auditSubjectNames } from "@/lib/views/audit_names.ts";
import { CursorPager } from "@/components/Pager.tsx";

interface Data {
  page: AuditPage;
  /** The names of the actions and instances the entries are about. */
  names: Record<string, string>;
  query: Record<string, string>;
  /** The admins the "Admin" field suggests: "Ada Admin <ada@…>". */
  admins: string[];
  url: URL;
  timeZone: string | null;
  now: number;
}

const API_TOKEN_WORDS = "the admin API token";

/** "Ada Admin <ada@x>", "ada@x", "Ada Admin" or the API token → whose changes. */
function adminOf(typed: string, known: User[]): string {
  const t = typed.trim().toLowerCase();
  if (["api token", "admin api token", API_TOKEN_WORDS].includes(t)) {
    return API_TOKEN_ACTOR_ID;
  }
  const email = /<([^>]+)>\s*$/.exec(t)?.[1] ?? (t.includes("@") ? t : null);
  const user = known.find((u) =>
    email ? u.email.toLowerCase() === email : u.name?.toLowerCase() === t
  );
  if (user) return user.id;
  throw new BadRequestError(
    `no admin ${
      JSON.stringify(typed)
    }: give an admin's name or email address, or "API token"`,
    [{ path: "admin", message: "is not a known admin" }],
  );
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, config, now } = appContext();
    // Empty form fields mean "any".
    const raw = Object.fromEntries(
      [...ctx.url.searchParams].filter(([, v]) => v !== ""),
    );
    const known = (await Promise.all(
      config.adminEmails.map((e) => getUserByEmail(kv, e)),
    )).filter((u): u is User => u !== null);
    const { admin, ...rest } = raw;
    if (admin) {
      // An admin by role, not among ADMIN_EMAILS, is still found by address.
      const byEmail = admin.includes("@") && !admin.includes("<")
        ? await getUserByEmail(kv, admin.trim().toLowerCase())
        : null;
      rest.actor = byEmail?.id ?? adminOf(admin, known);
    }
    const q = parseOrThrow(AuditQuerySchema, rest, "query");
    const page = await listAudit(kv, q);
    return ctx.render({
      page,
      names: await auditSubjectNames(kv, page.items),
      query: raw,
      admins: [...known.map(nameAndEmail), "API token"],
      url: ctx.url,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

const SUBJECT_WORDS: Record<string, string> = {
  action: "Action",
  instance: "Instance",
  user: "User",
  catalog: "Catalog entry",
  webhook: "Webhook",
};

export default function AuditPageView({ data }: PageProps<Data>) {
  const { query } = data;
  const filtered = Boolean(
    query.change || query.admin || query.actor || query.subjectType,
  );
  return (
    <>
      <Head>
        <title>Audit · Admin · KiloClaw</title>
      </Head>
      <h1>Audit</h1>
      <p class="muted">
        Every admin change, newest first, kept at least 400 days.
      </p>
      <form method="get" class="filters" role="search" aria-label="Audit">
        <label>
          Change
          <select name="change">
            <option value="">Any</option>
            {AUDIT_CHANGES.map((c) => (
              <option value={c} selected={query.change === c}>
                {CHANGE_WORDS[c]}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Admin
          <input
            name="admin"
            value={query.admin ?? ""}
            list="audit-admins"
            placeholder="Name or email"
            autocomplete="off"
          />
          <datalist id="audit-admins">
            {data.admins.map((a) => <option key={a} value={a} />)}
          </datalist>
        </label>
        <label>
          Subject
          <select name="subjectType">
            <option value="">Any</option>
            {AUDIT_SUBJECT_TYPES.map((t) => (
              <option value={t} selected={query.subjectType === t}>
                {SUBJECT_WORDS[t]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Its id
          <input name="subjectId" value={query.subjectId ?? ""} size={24} />
        </label>
        <button type="submit" class="secondary">Filter</button>
        {filtered && <a href="/admin/audit">Clear</a>}
      </form>
      <AuditList
        entries={data.page.items}
        names={data.names}
        timeZone={data.timeZone}
        now={data.now}
      />
      <CursorPager url={data.url} cursor={data.page.cursor} />
    </>
  );
}
