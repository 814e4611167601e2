/** What the root middleware puts in `ctx.state` for every route. */
import type { Role, User } from "./types.ts";
import { UnauthorizedError } from "./errors.ts";
import { API_TOKEN_ACTOR_ID } from "./ids.ts";
import type { AuditActor } from "./kv/audit.ts";

export interface State {
  user: User | null;
  role: Role | null;
  /** The cookie's session id (null for bearer-token and anonymous requests). */
  sessionId: string | null;
  /** The token forms must echo back in `_csrf`: the session's, masked afresh for this answer. */
  csrfToken: string | null;
}

export interface SignedInState extends State {
  user: User;
  role: Role;
}

export function assertSignedIn(state: State): asserts state is SignedInState {
  if (!state.user || !state.role) throw new UnauthorizedError();
}

/**
 * The actor recorded on actions created with the admin API token. Its id is
 * reserved: no user can be created with it (lib/ids.ts).
 */
export const API_TOKEN_USER: User = {
  id: API_TOKEN_ACTOR_ID,
  email: "api-token@kiloclaw.invalid",
  name: "Admin API token",
  timeZone: null,
  role: "admin",
  pushTokens: [],
  createdAt: "1970-01-01T00:00:00.000Z",
  updatedAt: "1970-01-01T00:00:00.000Z",
};

/** Who made a request's change, and how they were signed in. */
export function auditActorOf(state: State): AuditActor {
  assertSignedIn(state);
  return {
    actor: {
      id: state.user.id,
      email: state.sessionId ? state.user.email : null,
    },
    via: state.sessionId ? "session" : "api_token",
  };
}
