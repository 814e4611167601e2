/** The internal routes' gate: `X-Internal-Secret`, compared in constant time. */
import { UnauthorizedError } from "../errors.ts";
import { secretsEqual } from "./compare.ts";

export async function requireInternalSecret(
  req: Request,
  secret: string | null,
): Promise<void> {
  const given = req.headers.get("x-internal-secret");
  if (!secret || !given || !(await secretsEqual(given, secret))) {
    throw new UnauthorizedError("missing or wrong X-Internal-Secret");
  }
}
