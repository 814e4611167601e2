/**
 * Following an emailed link: spend the token, start a session, go where the
 * user was headed. A browser signed in as someone else is asked first (login
 * CSRF: a link someone sent must not switch accounts without a word); the
 * question does not spend the link, and only the answer's POST, carrying the
 * session's form token, does.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { consumeLoginLink, peekLoginLink } from "@/lib/auth/login_links.ts";
import {
  createSession,
  deleteSession,
  sessionCookie,
} from "@/lib/auth/sessions.ts";
import { safeNext } from "@/lib/auth/next.ts";
import { deviceCookie } from "@/lib/auth/device_cookie.ts";
import { getUser, nameAndEmail } from "@/lib/kv/users.ts";
import { log } from "@/lib/operations/log.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { redirect } from "@/lib/web/http.ts";
import { CsrfField } from "@/components/CsrfField.tsx";
import type { State } from "@/lib/request_state.ts";

interface SwitchQuestion {
  signedInAs: string;
  linkFor: string;
  csrfToken: string | null;
}

const REFUSED = "/login?failed=1";

/** Spends the link and signs its user in, ending the session `replacing` if any. */
async function signIn(
  token: string,
  replacing: string | null,
): Promise<Response> {
  const { kv, config, now } = appContext();
  const spent = await consumeLoginLink(kv, token, now());
  const user = spent ? await getUser(kv, spent.userId) : null;
  if (!spent || !user) {
    log.info("sign-in link refused");
    return redirect(REFUSED);
  }
  if (replacing) await deleteSession(kv, replacing);
  const { id } = await createSession(kv, user.id, now());
  log.info("signed in", { userId: user.id, switched: replacing !== null });
  const res = redirect(safeNext(spent.next), {
    "set-cookie": sessionCookie(id, config.secureCookies),
  });
  // This browser may ask for a link again even while a flood spends the
  // anonymous budget (device_cookie.ts).
  res.headers.append(
    "set-cookie",
    await deviceCookie(kv, user.email, {
      secure: config.secureCookies,
      now: now(),
    }),
  );
  return res;
}

export const handler: Handlers<SwitchQuestion, State> = {
  // HEAD is safe (link checkers and mail scanners send it): it must not spend the token.
  HEAD() {
    return new Response(null, { status: 200 });
  },
  async GET(_req, ctx) {
    const current = ctx.state.user;
    if (!current) return await signIn(ctx.params.token, null);
    const { kv, now } = appContext();
    const link = await peekLoginLink(kv, ctx.params.token, now());
    const linkUser = link ? await getUser(kv, link.userId) : null;
    if (!link || !linkUser) {
      log.info("sign-in link refused");
      return redirect(REFUSED);
    }
    // Already this account: the link signs in as it always did.
    if (linkUser.id === current.id) {
      return await signIn(ctx.params.token, ctx.state.sessionId);
    }
    return ctx.render({
      signedInAs: nameAndEmail(current),
      linkFor: linkUser.email,
      csrfToken: ctx.state.csrfToken,
    });
  },
  /** The answer "switch": the root middleware checked its origin and form token. */
  async POST(req, ctx) {
    await readForm(req);
    return await signIn(ctx.params.token, ctx.state.sessionId);
  },
};

export default function SwitchAccount({ data }: PageProps<SwitchQuestion>) {
  return (
    <div class="narrow">
      <Head>
        <title>Switch account? · KiloClaw</title>
      </Head>
      <h1>Switch account?</h1>
      <p>
        You are signed in as{" "}
        <strong>{data.signedInAs}</strong>. This sign-in link is for{" "}
        <strong>{data.linkFor}</strong>.
      </p>
      <p class="muted">
        If you did not ask for this link yourself, someone may be trying to get
        you to work in their account: stay signed in as you are.
      </p>
      <form method="post" class="stack">
        <CsrfField token={data.csrfToken} />
        <button type="submit">Sign in as {data.linkFor}</button>
      </form>
      <p>
        <a href="/">Stay signed in as {data.signedInAs}</a>
      </p>
    </div>
  );
}
