/** JSON endpoints take JSON bodies only, which is also why no cross-site form can reach them. */
import { isJsonRequest, sendJsonError } from "../web/request_body.ts";
import { isSafeMethod } from "./csrf.ts";

/** 415 for a state-changing request that declares a body other than JSON. */
export function refuseNonJson(req: Request): void {
  if (isSafeMethod(req.method)) return;
  if (req.headers.has("content-type") && !isJsonRequest(req)) {
    throw sendJsonError(req);
  }
}
