/**
 * The admin API's bearer token: `Authorization: Bearer $ADMIN_API_TOKEN`,
 * compared in constant time. A bearer request never rides on a cookie
 * session, so the session loader asks `isBearerRequest` first.
 */
import { UnauthorizedError } from "../errors.ts";
import { secretsEqual } from "./compare.ts";

/** Whether the request names a bearer token (valid or not). */
export function isBearerRequest(req: Request): boolean {
  return /^Bearer\s/i.test(req.headers.get("authorization") ?? "");
}

/** The token after "Bearer ", trimmed; "" when the header holds none. */
export function bearerToken(authorization: string): string {
  return authorization.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? "";
}

/** 401 unless `authorization` carries the configured token. */
export async function requireApiToken(
  authorization: string,
  expected: string | null,
): Promise<void> {
  const token = bearerToken(authorization);
  if (!expected || !token || !(await secretsEqual(token, expected))) {
    throw new UnauthorizedError("invalid API token");
  }
}
