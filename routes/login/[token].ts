/** Following an emailed link: spend the token, start a session, go where the user was headed. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { consumeLoginLink } from "@/lib/auth/login_links.ts";
import { createSession, sessionCookie } from "@/lib/auth/sessions.ts";
import { safeNext } from "@/lib/auth/next.ts";
import { deviceCookie } from "@/lib/auth/device_cookie.ts";
import { getUser } from "@/lib/kv/users.ts";
import { log } from "@/lib/log.ts";
import { redirect } from "@/lib/http.ts";

export const handler: Handlers = {
  // HEAD is safe (link checkers and mail scanners send it): it must not spend the token.
  HEAD() {
    return new Response(null, { status: 200 });
  },
  async GET(_req, ctx) {
    const { kv, config, now } = appContext();
    const spent = await consumeLoginLink(kv, ctx.params.token, now());
    const user = spent ? await getUser(kv, spent.userId) : null;
    if (!spent || !user) {
      log.info("sign-in link refused");
      return redirect("/login?failed=1");
    }
    const { id } = await createSession(kv, user.id, now());
    log.info("signed in", { userId: user.id });
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
  },
};
