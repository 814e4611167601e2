/** Ask for a sign-in link. The answer is the same whether or not the address is known. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { z } from "zod";
import { appContext } from "@/lib/app_context.ts";
import { PER_ADDRESS, requestLoginLink } from "@/lib/auth/login_links.ts";
import { deviceCookieName } from "@/lib/auth/device_cookie.ts";
import { readCookie } from "@/lib/auth/sessions.ts";
import {
  queueSignInEmail,
  sendSignInEmailSoon,
} from "@/lib/auth/sign_in_emails.ts";
import { safeNext } from "@/lib/auth/next.ts";
import { log } from "@/lib/operations/log.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { redirect } from "@/lib/web/http.ts";
import type { State } from "@/lib/request_state.ts";

interface Data {
  sent: boolean;
  email: string;
  error: string | null;
  next: string;
  failed: boolean;
}

const EMAIL_RULE = "Enter a valid email address.";
const Email = z.email({ message: EMAIL_RULE }).max(254, EMAIL_RULE);

export const handler: Handlers<Data, State> = {
  GET(_req, ctx) {
    const next = safeNext(ctx.url.searchParams.get("next"));
    if (ctx.state.user) {
      return redirect(next);
    }
    return ctx.render({
      sent: false,
      email: "",
      error: null,
      next,
      failed: ctx.url.searchParams.has("failed"),
    });
  },
  async POST(req, ctx) {
    const form = await readForm(req);
    const raw = String(form.get("email") ?? "").trim();
    const next = safeNext(String(form.get("next") ?? ""));
    const parsed = Email.safeParse(raw);
    if (!parsed.success) {
      return ctx.render({
        sent: false,
        email: raw,
        error: parsed.error.issues[0].message,
        next,
        failed: false,
      }, {
        status: 400,
      });
    }
    const app = appContext();
    const { kv, now } = app;
    const client = ctx.remoteAddr && "hostname" in ctx.remoteAddr
      ? ctx.remoteAddr.hostname
      : "unknown";
    const outcome = await requestLoginLink(
      {
        kv,
        now,
        queue: async (job) =>
          sendSignInEmailSoon(app, await queueSignInEmail(kv, job, now())),
      },
      parsed.data,
      client,
      next,
      {
        deviceCookie: readCookie(
          req,
          deviceCookieName(app.config.secureCookies),
        ),
      },
    );
    log.info("sign-in link requested", { outcome });
    return ctx.render({
      sent: true,
      email: parsed.data,
      error: null,
      next,
      failed: false,
    });
  },
};

export default function Login({ data }: PageProps<Data>) {
  return (
    <div class="narrow">
      <Head>
        <title>Sign in · KiloClaw</title>
      </Head>
      <h1>Sign in</h1>
      {data.sent
        ? (
          <div class="notice" role="status">
            <p>
              If <strong>{data.email}</strong>{" "}
              has a KiloClaw account, a sign-in link is on its way. It works
              once and expires in 15 minutes.
            </p>
            <p class="muted">
              Nothing after a few minutes? Look in your spam folder. An address
              gets at most {PER_ADDRESS.max} links in{" "}
              {PER_ADDRESS.windowMs / 60_000}{" "}
              minutes, so after that, ask again a little later.{" "}
              <a
                href={data.next === "/"
                  ? "/login"
                  : `/login?${new URLSearchParams({ next: data.next })}`}
              >
                Use another address
              </a>
            </p>
          </div>
        )
        : (
          <form method="post" class="stack">
            {data.failed && (
              <p class="error" role="alert">
                That sign-in link has expired or was already used. Ask for a new
                one.
              </p>
            )}
            <label>
              Email address
              <input
                type="email"
                name="email"
                required
                autocomplete="email"
                value={data.email}
                autofocus
              />
            </label>
            {data.error && <p class="error" role="alert">{data.error}</p>}
            <input type="hidden" name="next" value={data.next} />
            <button type="submit">Email me a sign-in link</button>
          </form>
        )}
    </div>
  );
}
