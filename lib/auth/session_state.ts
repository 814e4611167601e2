/**
 * Who is asking: the cookie's session, when it is live and belongs to its
 * user, loaded into the request's state. Anything else leaves the request
 * anonymous (a bearer-token request never rides on a cookie session; the
 * admin API's own gate reads the token).
 */
import { isBearerRequest } from "./api_token.ts";
import type { AppContext } from "../app_context.ts";
import type { State } from "../request_state.ts";
import { effectiveRole, getUser } from "../kv/users.ts";
import {
  getSession,
  readCookie,
  sessionBelongsTo,
  sessionCookieName,
} from "./sessions.ts";
import { maskCsrfToken } from "./csrf.ts";

/** The state of a request nobody is signed in to. */
export function anonymousState(state: State): void {
  state.user = null;
  state.role = null;
  state.sessionId = null;
  state.csrfToken = null;
}

/** Fills `state` from the request's session cookie, if it has a valid one. */
export async function loadSessionState(
  req: Request,
  state: State,
  { kv, config, now }: Pick<AppContext, "kv" | "config" | "now">,
): Promise<void> {
  const sid = isBearerRequest(req)
    ? null
    : readCookie(req, sessionCookieName(config.secureCookies));
  const session = sid ? await getSession(kv, sid, now()) : null;
  if (!sid || !session) return;
  const user = await getUser(kv, session.userId);
  if (!user || !sessionBelongsTo(session, user)) return;
  state.user = user;
  state.role = effectiveRole(user, config.adminEmails);
  state.sessionId = sid;
  // Masked afresh for this answer: compressed pages must not repeat a secret (csrf.ts).
  state.csrfToken = maskCsrfToken(session.csrfToken);
}
